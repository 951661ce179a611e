from briefgen.cli import entry_point

entry_point()
