"""Interface strings and date formats in the site's language."""
