"""Bahasa Indonesia first, English second: the English catalog is complete and the switch works."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_checker():
    spec = importlib.util.spec_from_file_location(
        "check_translations", ROOT / "scripts" / "check_translations.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def checker():
    return _load_checker()


def test_every_message_has_a_current_english_translation(checker):
    report = checker.check()
    assert report.total > 0, "no messages extracted: is babel.cfg still mapping webapp/?"
    assert report.ok, "\n" + "\n".join(report.lines()) + "\n" + checker.REFRESH


def test_the_check_notices_a_new_untranslated_string(checker, tmp_path):
    """Guard the guard: a copy of the catalog that lacks a string the code uses must fail the check."""
    (tmp_path / "webapp" / "templates").mkdir(parents=True)
    (tmp_path / "webapp" / "baru.py").write_text('_("Pesan baru")\n_l("Label baru")\n', encoding="utf-8")
    (tmp_path / "webapp" / "templates" / "t.html").write_text(
        "{{ _('Masuk') }}\n{{ _('Halo %(name)s', name=n) }}\n", encoding="utf-8"
    )
    (tmp_path / "babel.cfg").write_text(
        "[python: webapp/**.py]\n[jinja2: webapp/templates/**.html]\n", encoding="utf-8"
    )
    en = tmp_path / "translations" / "en" / "LC_MESSAGES"
    en.mkdir(parents=True)
    (en / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Masuk"\nmsgstr "Log in"\n\n'
        '#, fuzzy\nmsgid "Label baru"\nmsgstr "New label"\n\n'
        'msgid "Halo %(name)s"\nmsgstr "Hello %(nama)s"\n',
        encoding="utf-8",
    )
    report = checker.check(root=tmp_path, translations=tmp_path / "translations")
    assert [m.split(": ", 1) for m in report.missing] == [["webapp/baru.py:1", "'Pesan baru'"]]
    assert [m.split(": ", 1)[1] for m in report.fuzzy] == ["'Label baru'"]
    assert len(report.placeholders) == 1 and "%(nama)s" in report.placeholders[0]
    assert any("does not exist" in p for p in report.mo_problems)
    assert not report.ok


def test_command_line_exit_code(checker, capsys):
    assert checker.main(["-q"]) == 0
    assert capsys.readouterr().out == ""


def _html_lang(body: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', body)
    assert match, body[:200]
    return match.group(1)


def test_login_page_is_indonesian_by_default(client):
    response = client.get("/login")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert _html_lang(body) == "id"
    assert "Masuk" in body
    assert "Kata sandi" in body
    assert "Log in" not in body


def test_lang_switch_to_english_sticks_for_the_session(client):
    body = client.get("/login?lang=en").get_data(as_text=True)
    assert _html_lang(body) == "en"
    assert "Log in" in body
    assert "Password" in body
    assert ">Masuk<" not in body

    # no ?lang= this time: the choice is remembered in the session
    body = client.get("/login").get_data(as_text=True)
    assert _html_lang(body) == "en"
    assert "Log in" in body

    body = client.get("/login?lang=id").get_data(as_text=True)
    assert _html_lang(body) == "id"
    assert "Masuk" in body


def test_unknown_language_is_ignored(client):
    body = client.get("/login?lang=fr").get_data(as_text=True)
    assert _html_lang(body) == "id"
    assert "Masuk" in body


def test_templates_follow_a_language_forced_in_the_middle_of_a_request(app):
    """Template strings are looked up once per request and language: forcing another language
    (as notifications do for their recipient) and returning must each give the right catalogue."""
    from flask import render_template_string
    from flask_babel import force_locale

    template = "{{ _('Keluar') }} / {{ ngettext('%(num)d mentor', '%(num)d mentor', 2) }}"
    with app.test_request_context("/"):
        before = render_template_string(template)
        with force_locale("en"):
            forced = render_template_string(template)
            with force_locale("id"):
                inner = render_template_string(template)
            forced_again = render_template_string(template)
        after = render_template_string(template)
    assert before.startswith("Keluar") and after == before and inner == before
    assert forced.startswith("Log out") and forced_again == forced
