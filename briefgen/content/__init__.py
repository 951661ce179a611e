"""Reading content: bytes and front matter with positions, Markdown with citations, typed records."""
