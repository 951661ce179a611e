"""Checks that reach outside the site, run on request (`briefgen check --links`)."""
