"""PDP-7 schema review: the personal-data columns of the models are exactly the documented ones, none
holds specific personal data, and a person's export carries every personal column of their account."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table

from models import Base, Role
from tests.factories import make_entrepreneur, make_mentor, make_user
from webapp.services import data_inventory
from webapp.services.personal_data import export_personal_data

ROPA = Path(__file__).parents[2] / "docs" / "privacy" / "ropa.md"


def _documented_columns() -> set[str]:
    text = ROPA.read_text(encoding="utf-8")
    table = text.split("<!-- inventory:start -->")[1].split("<!-- inventory:end -->")[0]
    return set(re.findall(r"`([a-z_]+\.[a-z_]+)`", table))


def test_every_column_of_the_models_is_classified_and_none_is_specific_personal_data():
    assert data_inventory.classification_problems(Base.metadata) == []


def test_the_personal_columns_are_exactly_the_list_in_the_records_of_processing():
    assert _documented_columns() == data_inventory.personal_columns()


def test_an_undocumented_or_specific_column_fails_the_review():
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    metadata.tables["entrepreneur"].append_column(Column("instagram", String(40)))
    metadata.tables["user_account"].append_column(Column("nik", String(16)))
    Table("health_note", metadata, Column("id", Integer, primary_key=True))
    problems = data_inventory.classification_problems(metadata)
    assert "entrepreneur.instagram is not classified" in problems
    assert "user_account.nik is not classified" in problems
    assert "user_account.nik looks like specific personal data (nik)" in problems
    assert "table health_note is not in the inventory" in problems
    assert data_inventory.specific_data_words("dateOfBirth") == {"birth"}
    assert data_inventory.specific_data_words("stage_code") == set()


def test_a_persons_export_carries_every_personal_column_of_their_account_and_profiles(db):
    entrepreneur = make_user(db, Role.ENTREPRENEUR)
    mentor = make_user(db, Role.MENTOR)
    make_entrepreneur(db, entrepreneur)
    make_mentor(db, mentor)
    columns = data_inventory.PERSONAL_DATA_COLUMNS
    e_export, m_export = export_personal_data(db, entrepreneur), export_personal_data(db, mentor)
    assert set(columns["user_account"]) <= set(e_export["account"])
    assert set(columns["entrepreneur"]) <= set(e_export["entrepreneur_profile"])
    assert set(columns["mentor"]) <= set(m_export["mentor_profile"])
