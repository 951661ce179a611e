"""The live preview: an in-memory build session, the HTTP server, live reload."""
