"""Templates compiled with their includes', blocks' and parents' output joined (render.codegen)
give the bytes Jinja's own compilation gives, whatever the construct around an include."""

from __future__ import annotations

import jinja2
import pytest

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


def _environment(joined: bool) -> jinja2.Environment:
    class Environment(jinja2.Environment):
        code_generator_class = JoinedOutput if joined else jinja2.Environment.code_generator_class

    return Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_a_template_compiled_with_joined_output_renders_the_same_bytes(name: str) -> None:
    context = {"items": [{"name": "one"}, {"name": "<two>"}, {"name": "three"}], "item": {"name": "alone"}}
    joined = _environment(True).get_template(name).render(context)
    assert joined == _environment(False).get_template(name).render(context)
    if name == "page.html":
        assert joined.count("<li>") == 11 and "<LI>ALONE" in joined and "<p>2</p>" in joined


def test_joined_output_changes_the_compiled_code() -> None:
    # Else the test above compares Jinja with itself.
    source = TEMPLATES["page.html"]
    joined = _environment(True).compile(source, "page.html", raw=True)
    plain = _environment(False).compile(source, "page.html", raw=True)
    assert "yield from" in plain and "yield from" not in joined
    assert "for event in" in plain
    assert joined.count("environment.concat(") > plain.count("environment.concat(")
