"""One planned file to bytes: view objects, Jinja2 themes, feeds."""
