"""briefgen: a static-site generator for curated news briefings."""

__version__ = "0.1.0"
