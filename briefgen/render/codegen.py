"""How templates compile: each included template's, block's and parent's output joined once.

Jinja compiles a template into a generator of small strings, and passes every string an
included template, a block or a parent template yields up through each template around it:
an include with the context re-yields them one by one in a Python loop, a block or an
`extends` through `yield from`. A list page yields about forty strings for each of its
briefings from `partials/briefing-item.html` alone, each passed up four or five generators.
Here those outputs are joined where they are made (`environment.concat`, which is what
`Template.render` joins the whole with), and one string goes up: the bytes of a page are the
same, made in 4-19 % less time (list pages the most). Pages are only rendered whole
(`Template.render`), never streamed, so nothing reads the smaller pieces.

For the same reason a value a template outputs (`{{ item.title }}`) is escaped into a plain
string (`escape_output`), not a `Markup`: every piece of output is joined into a string
(the page, or a macro's, a block's or an `{% set %}` block's text, which Jinja itself makes
`Markup` then), so the type of a piece is never seen, and making a `Markup` for each was most
of what escaping cost (a publisher's page on a heavily cited site escapes 20,000 values).
"""

from __future__ import annotations

from typing import Any, cast

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from markupsafe import Markup, escape


def _replaced(text: str, /) -> str:
    """What markupsafe.escape does to a string, before it makes it a Markup."""
    return (text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


try:
    # The same, as markupsafe's C code does it: a quarter of the time.
    from markupsafe._speedups import _escape_inner as _escaped_text
except ImportError:  # another version of markupsafe, or one without its compiled part
    _escaped_text = _replaced


def escape_output(value: Any) -> str:
    """markupsafe.escape(value), as a plain string when value is one or an integer (see above)."""
    kind = type(value)
    if kind is str:
        return _escaped_text(value)
    if kind is Markup:
        return cast("str", value)  # safe already: what escape returns, itself
    if kind is int:  # a count, a heading's level: digits, which escape as themselves
        return str(value)
    return escape(value)


_DELEGATION = "yield from "
_RUNTIME_IMPORT = "from jinja2.runtime import "


class JoinedOutput(CodeGenerator):
    # Named in the build cache's key for compiled templates (see build.template_cache.TemplateCache):
    # templates compiled another way are compiled again.
    version = "joined-output-2"

    def visit_Include(self, node: nodes.Include, frame: Frame) -> None:
        if not node.with_context or node.ignore_missing or self.environment.is_async:
            super().visit_Include(node, frame)
            return
        # As Jinja writes it (CodeGenerator.visit_Include), but the included template's output
        # joined, not re-yielded piece by piece.
        func_name = "get_or_select_template"
        if isinstance(node.template, nodes.Const):
            if isinstance(node.template.value, str):
                func_name = "get_template"
            elif isinstance(node.template.value, (tuple, list)):
                func_name = "select_template"
        elif isinstance(node.template, (nodes.Tuple, nodes.List)):
            func_name = "select_template"
        self.writeline(f"template = environment.{func_name}(", node)
        self.visit(node.template, frame)
        self.write(f", {self.name!r})")
        self.simple_write("environment.concat(template.root_render_func(template.new_context("
                          f"context.get_all(), True, {self.dump_local_context(frame)})))", frame, node)

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("escape_output(")
            if finalize.src is not None:
                self.write(finalize.src)
            return
        super()._output_child_pre(node, frame, finalize)

    def writeline(self, x: str, node: nodes.Node | None = None, extra: int = 0) -> None:
        # A block's output, a parent template's, an include without the context: each a
        # `yield from` of a generator (or a list) of strings, in a generator function.
        if x.startswith(_DELEGATION):
            x = f"yield environment.concat({x[len(_DELEGATION):]})"
        super().writeline(x, node, extra)
        if x.startswith(_RUNTIME_IMPORT):  # the module's first line: what its code calls
            super().writeline(f"from {__name__} import escape_output")
