"""Templates compiled with their includes', blocks' and parents' output joined (render.codegen)
give the bytes Jinja's own compilation gives, whatever the construct around an include."""

from __future__ import annotations

import jinja2
import markupsafe
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from briefgen.render import codegen
from briefgen.render.codegen import JoinedOutput

TEMPLATES = {
    "base.html": ("<html>{% block head %}<title>{% block title %}T{% endblock %}</title>{% endblock %}"
                  "<body>{% block body %}{% endblock %}</body></html>"),
    "middle.html": ('{% extends "base.html" %}{% block title %}M {{ super() }}{% endblock %}'
                    "{% block body %}<main>{% block main scoped %}{% endblock %}</main>{% endblock %}"),
    "item.html": "<li>{{ item.name }}{% if lead %} lead{% endif %}{{ '<&>' }}</li>",
    "nested.html": '<ul>{% for item in items %}{% include "item.html" %}{% endfor %}</ul>',
    "macros.html": ('{% macro listed(items) %}{% for item in items %}{% include "item.html" %}{% endfor %}'
                    "{% endmacro %}{% macro framed() %}[{{ caller() }}]{% endmacro %}"),
    "plain.html": "<p>{{ 1 + 1 }}</p>",
    # Values escaped as they are output (render.codegen.escape_output), and not: text, Markup, a
    # number, None, filters, autoescape turned off, and turned by a value known only when rendering.
    "escaping.html": ("{{ text }}|{{ safe }}|{{ number }}|{{ nothing }}|{{ text | safe }}|{{ text | e }}"
                      "|{{ safe ~ text }}|{{ [text] }}{% autoescape false %}|{{ text }}{% endautoescape %}"
                      "{% autoescape flag %}|{{ text }}{% endautoescape %}"
                      "{% set kept %}{{ text }}{% endset %}|{{ kept }}|{{ kept | length }}"),
    # Attributes of objects, items of dicts by attribute, methods, a call's result (made once), nested.
    "attributes.html": ("{{ item.name }} {{ item.name.upper() }} {{ obj.value }} {{ obj.inner.value }}"
                        "{{ made().value }} {{ obj.missing is defined }} {{ item.nothing is undefined }}"
                        "{{ obj.__class__.__name__ }} {{ {'a': {'b': 3}}.a.b }}"
                        " {{ made().nothing is defined }} {{ made().value }}"),
    "page.html": (
        '{% extends "middle.html" %}{% from "macros.html" import listed, framed %}'
        "{% block main %}"
        "{% for item in items %}"
        '{% with lead = loop.first %}{% include "item.html" %}{% endwith %}'
        "{% endfor %}"
        '{% include "nested.html" %}'
        "{{ listed(items) }}"
        '{% call framed() %}{% include "item.html" %}{% endcall %}'
        '{% set captured %}{% include "item.html" %}{% endset %}<i>{{ captured }}</i>'
        '{% filter upper %}{% include "item.html" %}{% endfilter %}'
        '{% include "plain.html" without context %}'
        '{% include "missing.html" ignore missing %}'
        '{% include ["nothing.html", "plain.html"] %}'
        "{% endblock %}"),
}


class _Value:
    def __init__(self, value: object, inner: object = None) -> None:
        self.value, self.inner = value, inner


def _context() -> dict[str, object]:
    made: list[_Value] = []

    def make() -> _Value:
        made.append(_Value(len(made)))  # counts its calls: each must be made once
        return made[-1]

    return {"items": [{"name": "one"}, {"name": "<two>"}, {"name": "three"}], "item": {"name": "alone"},
            "obj": _Value("v", _Value("<w>")), "made": make, "text": "<a href='x'>&\"</a>",
            "safe": Markup("<b>&amp;</b>"), "number": 5, "nothing": None, "flag": False}


def _environment(joined: bool) -> jinja2.Environment:
    class Environment(jinja2.Environment):
        code_generator_class = JoinedOutput if joined else jinja2.Environment.code_generator_class

    return Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_a_template_compiled_with_joined_output_renders_the_same_bytes(name: str) -> None:
    joined = _environment(True).get_template(name).render(_context())
    assert joined == _environment(False).get_template(name).render(_context())
    if name == "page.html":
        assert joined.count("<li>") == 11 and "<LI>ALONE" in joined and "<p>2</p>" in joined
    if name == "attributes.html":
        assert joined == "alone ALONE v &lt;w&gt;0 False True_Value 3 False 2"
    if name == "escaping.html":
        escaped, raw = "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;", "<a href='x'>&\"</a>"
        parts = joined.split("|")
        assert parts[:7] == [escaped, "<b>&amp;</b>", "5", "None", raw, escaped, "<b>&amp;</b>" + escaped]
        assert parts[8:] == [raw, raw, escaped, str(len(escaped))]  # a set block holds the escaped text


def test_a_missing_attribute_fails_as_it_does_in_jinja() -> None:
    for joined in (True, False):
        environment = _environment(joined)
        environment.undefined = jinja2.StrictUndefined
        with pytest.raises(jinja2.UndefinedError, match="'dict object' has no attribute 'nothing'"):
            environment.from_string("{{ item.nothing }}").render(_context())


def test_joined_output_changes_the_compiled_code() -> None:
    # Else the test above compares Jinja with itself.
    source = TEMPLATES["page.html"]
    joined = _environment(True).compile(source, "page.html", raw=True)
    plain = _environment(False).compile(source, "page.html", raw=True)
    assert "yield from" in plain and "yield from" not in joined
    assert "for event in" in plain
    assert joined.count("environment.concat(") > plain.count("environment.concat(")


def test_joined_output_escapes_into_plain_strings() -> None:
    joined = _environment(True).compile(TEMPLATES["escaping.html"], "escaping.html", raw=True)
    plain = _environment(False).compile(TEMPLATES["escaping.html"], "escaping.html", raw=True)
    assert "escape_output(" in joined and "escape_output(" not in plain
    # Turned by a value known only when rendering, the escaping is Jinja's own.
    assert "(escape if context.eval_ctx.autoescape else str)(" in joined


_HTML_TEXT = (st.text(alphabet=st.sampled_from("&<>\"'a é中\u00a0\U0001f600\x00"), max_size=30)
              | st.text(max_size=30))


@given(_HTML_TEXT)
def test_a_value_is_escaped_as_markupsafe_escapes_it(text: str) -> None:
    expected = str(markupsafe.escape(text))
    assert codegen.escape_output(text) == expected
    assert codegen._replaced(text) == expected  # without markupsafe's compiled part
    assert codegen.escape_output(Markup(text)) == text
    assert type(codegen.escape_output(text)) is str


@given(st.integers() | st.booleans() | st.floats(allow_nan=True) | st.none())
def test_a_number_is_escaped_as_markupsafe_escapes_it(value: object) -> None:
    assert codegen.escape_output(value) == str(markupsafe.escape(value))
