"""The caller's own profile, for endpoints that act as an entrepreneur or as a mentor."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import inspect

from models import Entrepreneur, Mentor
from webapp.database import get_db
from webapp.services import directory
from webapp.services.errors import Conflict

#: The path converter for ids: 1 to 2**31 - 1, so "0", "-1", "abc" and huge numbers are a 404.
ID = "int(min=1, max=2147483647)"


def current_entrepreneur() -> Entrepreneur:
    """The calling entrepreneur's profile; ``profile_missing`` (409) until they have one."""
    profile = _read_with_the_account("entrepreneur") or directory.entrepreneur_of_user(get_db(), current_user.id)
    if profile is None:
        raise Conflict("profile_missing", "complete your entrepreneur profile first")
    return profile


def current_mentor() -> Mentor:
    """The calling mentor's profile; ``profile_missing`` (409) until they have one."""
    profile = _read_with_the_account("mentor") or directory.mentor_of_user(get_db(), current_user.id)
    if profile is None:
        raise Conflict("profile_missing", "complete your mentor profile first")
    return profile


def _read_with_the_account(kind: str) -> Entrepreneur | Mentor | None:
    """The caller's profile if the token check read it with the account (``api_tokens``: one
    statement for the token, the account and its profile), else None and the caller asks the database.

    Only a profile found is taken from there: one that was missing then is looked up again.
    """
    user = getattr(current_user, "user", None)
    if user is None:
        return None
    return inspect(user).dict.get(kind)
