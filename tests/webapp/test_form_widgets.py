"""A kept <select> gives exactly what WTForms would render, for every choice, attribute and language."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional
from wtforms.widgets import Select

from models import Role
from tests.factories import login, make_user
from webapp.cohorts import RunForm, _kecamatan_choices, _sector_choices
from webapp.form_widgets import KeptSelect


class _Pair(FlaskForm):
    class Meta:
        csrf = False

    kept = SelectField("Bidang usaha", choices=_sector_choices, default="", widget=KeptSelect())
    plain = SelectField("Bidang usaha", choices=_sector_choices, default="", widget=Select())
    required = SelectField(
        "Kecamatan", choices=_kecamatan_choices, validators=[DataRequired()], widget=KeptSelect()
    )
    grouped = SelectField(
        "Hari",
        choices=[
            SelectChoice("mon", "Senin", optgroup="Kerja"),
            SelectChoice("sat", "Sabtu", optgroup="Libur"),
        ],
        validators=[Optional()],
        widget=KeptSelect(),
    )


def _same_as_wtforms(field) -> str:
    kept = field()
    assert kept == Select()(field)
    return kept


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_kept_select_renders_what_wtforms_renders(app, lang):
    with app.test_request_context("/"), force_locale(lang):
        empty = _Pair()
        first = _same_as_wtforms(empty.kept)
        assert empty.kept() is first  # kept, not rendered again
        assert str(first).replace('id="kept" name="kept"', 'id="plain" name="plain"') == str(empty.plain())
        assert ("Accommodation" in first) is (lang == "en")

        chosen = _Pair(data={"kept": "I", "required": "31.71.01"})
        picked = _same_as_wtforms(chosen.kept)
        assert picked != first and 'selected value="I"' in picked
        assert "required" in _same_as_wtforms(chosen.required)
        assert 'selected value="31.71.01"' in chosen.required()
        assert _same_as_wtforms(chosen.grouped).count("<optgroup") == 2

        # Attributes asked for by the template are part of what is kept.
        with_class = chosen.kept(class_="wide", **{"aria-invalid": "true"})
        assert with_class == Select()(chosen.kept, class_="wide", **{"aria-invalid": "true"})
        assert chosen.kept() == picked


def test_a_label_given_as_markup_is_kept_apart_from_the_same_text(app):
    from markupsafe import Markup

    widget = KeptSelect()
    with app.test_request_context("/"):
        for label in ("<b>Gambir</b>", Markup("<b>Gambir</b>"), "<b>Gambir</b>"):
            form = _Pair()
            form.kept.choices = [SelectChoice("31.71.01", label)]
            assert widget(form.kept) == Select()(form.kept)


def test_a_kept_select_forgets_when_full(app):
    widget = KeptSelect()
    widget.KEEP = 2
    with app.test_request_context("/"):
        for code in ("A", "B", "C"):
            form = _Pair(data={"kept": code})
            assert widget(form.kept) == Select()(form.kept)
        assert len(widget._kept) == 1


def test_the_cohort_runs_page_shows_the_chosen_filters_again_after_a_refused_run(client, db):
    staff = make_user(db, Role.STAFF)
    login(client, staff.email)
    with client.application.test_request_context("/"):
        assert isinstance(RunForm().kecamatan.widget, KeptSelect)
    page = client.get("/staff/cohorts").get_data(as_text=True)
    assert '<option selected value="">Semua kecamatan</option>' in page
    refused = client.post("/staff/cohorts", data={"kecamatan": "31.71.01", "sector": "not-a-sector"})
    assert refused.status_code == 422
    shown = refused.get_data(as_text=True)
    assert 'selected value="31.71.01"' in shown and '<option selected value="">Semua kecamatan' not in shown
    assert "All kecamatan" in client.get("/staff/cohorts?lang=en").get_data(as_text=True)
    assert '<option selected value="">Semua kecamatan</option>' in client.get(
        "/staff/cohorts?lang=id"
    ).get_data(as_text=True)
