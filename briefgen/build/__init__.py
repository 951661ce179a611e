"""The build: parse and render in parallel, cache and fingerprint, commit the output atomically."""
