"""Factories for test data: each builds a valid row with sensible defaults, overridable by keyword."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from models import Entrepreneur, Mentor, Role, User
from webapp.services.accounts import create_user

PASSWORD = "kopi-susu-gula-aren"
_seq = itertools.count(1)


def make_user(db: Session, role: Role = Role.ENTREPRENEUR, **kw) -> User:
    """An account with the shared test password."""
    n = next(_seq)
    kw.setdefault("email", f"{role.value}{n}@test.jakmentor.id")
    kw.setdefault("name", f"{role.value.title()} {n}")
    kw.setdefault("password", PASSWORD)
    return create_user(db, role=role, **kw)


def make_entrepreneur(db: Session, user: User | None = None, **kw) -> Entrepreneur:
    """An entrepreneur profile (food stall in Gambir by default)."""
    n = next(_seq)
    values = dict(
        external_id=f"TE{n:06d}",
        name=user.name if user else f"Wirausaha {n}",
        sector_code="I",
        stage_code="early",
        kecamatan_code="31.71.01",
        needs=["licensing", "marketing"],
        languages=["id"],
        mode="either",
        user_id=user.id if user else None,
    )
    values.update(kw)
    row = Entrepreneur(**values)
    db.add(row)
    db.flush()
    return row


def make_mentor(db: Session, user: User | None = None, **kw) -> Mentor:
    """A mentor profile with two places (food and trade, in Menteng by default)."""
    n = next(_seq)
    values = dict(
        external_id=f"TM{n:05d}",
        name=user.name if user else f"Mentor {n}",
        sectors=["I", "G"],
        stages=["idea", "early", "growth"],
        kecamatan_code="31.71.06",
        expertise=["licensing", "marketing", "financing"],
        capacity=2,
        active_count=0,
        languages=["id", "en"],
        mode="either",
        user_id=user.id if user else None,
    )
    values.update(kw)
    row = Mentor(**values)
    db.add(row)
    db.flush()
    return row


def login(client, email: str, password: str = PASSWORD, follow: bool = False):
    """Log in through the form."""
    return client.post("/login", data={"email": email, "password": password}, follow_redirects=follow)


def production_environment(monkeypatch, **overrides: str) -> None:
    """What production refuses to start without: a random key, a database URL, trusted hosts."""
    import secrets

    values = {
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": "sqlite:///unused.db",
        "TRUSTED_HOSTS": "localhost",
        **overrides,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
