"""Compiled templates kept in the build cache's database.

Apart from cache.py so that a build imports Jinja2 only once it renders: its workers fork
to parse before then, and the build's process imports the rendering side while they work.
"""

from __future__ import annotations

import jinja2
import jinja2.bccache

from briefgen.build.store import Store


class TemplateCache(jinja2.BytecodeCache):
    """Compiled templates in the cache database, so a process does not compile unchanged ones."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None,
                   source: str) -> jinja2.bccache.Bucket:
        # Jinja compiles a template again when its source's checksum differs from the kept one's:
        # what the environment's filters folded into it as constants (the catalog's strings,
        # see render.renderer) counts as part of its source.
        compiled_with = getattr(environment, "compiled_with", "")
        # So does the way it is compiled (see render.codegen).
        compiled_by = getattr(environment.code_generator_class, "version", "")
        return super().get_bucket(environment, name, filename, f"{source}\0{compiled_with}\0{compiled_by}")

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.store.template(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store.put_template(bucket.key, bucket.bytecode_to_string())


class HeldTemplates(TemplateCache):
    """Compiled templates held in memory from one rebuild to the next (the live preview's,
    which writes nothing to the cache), read from the cache database when first needed.
    Jinja2 checks each against its template's source, so one edited since is compiled again."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._held: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._held.get(bucket.key)
        if code is None:
            super().load_bytecode(bucket)
        else:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._held[bucket.key] = bucket.bytecode_to_string()
