"""A build keeps its templates' compiled code in its cache folder (`render.keep_compiled_templates`):
the next process reads it instead of compiling, a changed template is compiled again, and a cache
that is damaged or cannot be written changes nothing but the time."""

from __future__ import annotations

import jinja2

from sesreport import render
from sesreport.i18n import Lang


def _render(folder, cache, monkeypatch) -> tuple[str, list[str]]:
    """The page, rendered as a new process would (no environment kept), and the templates compiled."""
    compiled: list[str] = []
    compile_source = jinja2.Environment.compile

    def counted(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return compile_source(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    render.environment.cache_clear()
    render.keep_compiled_templates(cache)
    try:
        html = render.render_html("page.html", {"rate": 5.1}, Lang("en"), "print", (folder,))
    finally:
        render.keep_compiled_templates(None)
        render.environment.cache_clear()
        monkeypatch.undo()
    return html, compiled


def test_compiled_templates_are_kept_and_compiled_again_when_changed(tmp_path, monkeypatch):
    folder, cache = tmp_path / "templates", tmp_path / "cache"
    folder.mkdir()
    page = '{% extends "base.html" %}{% block body %}{{ _("Rate") }}: {{ rate }}{% endblock %}'
    (folder / "page.html").write_text(page)
    (folder / "base.html").write_text("<p>{% block body %}{% endblock %}</p>")
    first, compiled = _render(folder, cache, monkeypatch)
    assert first == "<p>Rate: 5.1</p>" and sorted(compiled) == ["base.html", "page.html"]
    assert len(list((cache / "templates").iterdir())) == 2

    again, compiled = _render(folder, cache, monkeypatch)
    assert again == first and compiled == []  # read from the cache, not compiled

    (folder / "base.html").write_text("<div>{% block body %}{% endblock %}</div>")
    changed, compiled = _render(folder, cache, monkeypatch)
    assert changed == "<div>Rate: 5.1</div>" and compiled == ["base.html"]


def test_a_damaged_or_unwritable_cache_only_costs_time(tmp_path, monkeypatch):
    folder, cache = tmp_path / "templates", tmp_path / "cache"
    folder.mkdir()
    (folder / "page.html").write_text("<p>{{ rate }}</p>")
    first, _ = _render(folder, cache, monkeypatch)
    [entry] = (cache / "templates").iterdir()
    entry.write_bytes(entry.read_bytes()[:20])  # cut short
    again, compiled = _render(folder, cache, monkeypatch)
    assert again == first == "<p>5.1</p>" and compiled == ["page.html"]
    assert entry.stat().st_size > 20  # written anew

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    html, compiled = _render(folder, blocked, monkeypatch)
    assert html == first and compiled == ["page.html"]
