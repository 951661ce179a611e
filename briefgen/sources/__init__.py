"""Source capture: `briefgen source add` turns an article into a registry entry and an archive.

Only the `source add` command imports this package (trafilatura is heavy), so
`briefgen build` never loads it. Modules, bottom up: `clutter` (what is not
article text), `text` (the pass over pasted text), `extract` (HTML through
trafilatura), `metadata`, `fetch`, `ids`, `registry`, `archive`, `capture`.
"""
