"""Fixtures of the model tests: an empty database of the suite's kind for migration tests."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from sqlalchemy.engine import make_url


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """An empty database of the suite's kind: a SQLite file, or a fresh PostgreSQL schema."""
    from sqlalchemy import create_engine

    if make_url(database_url).get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    schema = f"jkm_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with contextlib.suppress(Exception), admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
