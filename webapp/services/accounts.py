"""Accounts: creating users, checking passwords (argon2id), changing them, and ending sessions."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import re
import secrets
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Role, User, utcnow
from webapp.services.consent import record_consent
from webapp.services.errors import Conflict, InvalidInput, ServiceError

log = logging.getLogger(__name__)

#: Failed logins an account may make before it has to wait (the per-account floor).
FREE_FAILURES = 5
MAX_BACKOFF_SECONDS = 15 * 60
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_hasher = PasswordHasher()
#: Cheap parameters for the test suite only (the app enables them when TESTING is set).
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class LoginThrottled(ServiceError):
    """Too many failed logins on this account: try again after ``retry_after`` seconds."""

    status = 429

    def __init__(self, retry_after: int):
        super().__init__(
            "login_throttled", f"too many failed logins; retry in {retry_after} s", retry_after=retry_after
        )
        self.retry_after = retry_after


def use_fast_hashing(enabled: bool) -> None:
    """Switch to cheap argon2 parameters (tests) or back to the RFC 9106 defaults."""
    global _hasher
    _hasher = _fast_hasher if enabled else PasswordHasher()


def _common_passwords() -> frozenset[str]:
    text = resources.files("webapp.data").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


_COMMON = _common_passwords()


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable (a code), or None. Length-based, no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "too_long"
    if password.lower() in _COMMON:
        return "too_common"
    return None


def normalise_email(email: str) -> str:
    """Trimmed, lower-cased e-mail address."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def find_user_by_email(db: Session, email: str) -> User | None:
    """The user with this e-mail address (case-insensitive), or None."""
    return db.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    db: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    locale: str = "id",
    must_change_password: bool = False,
    consent: bool = False,
    notice_version: str | None = None,
    consent_channel: str = "web_registration",
    adult_confirmed: bool = False,
    check_password: bool = True,
) -> User:
    """Create an account; raises ``InvalidInput`` for a bad address or password, ``Conflict`` if taken.

    ``consent`` writes the consent record (to ``notice_version``, through ``consent_channel``);
    ``adult_confirmed`` records when the person confirmed being 18 or older.
    """
    email = normalise_email(email)
    if not _EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput("bad_email", "that is not an e-mail address")
    if not name.strip():
        raise InvalidInput("name_required", "a name is required")
    if check_password:
        problem = password_problem(password)
        if problem:
            raise InvalidInput(problem, f"password rejected: {problem}")
    if db.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict("email_taken", "an account with this e-mail address exists")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        role=role,
        locale=locale if locale in ("id", "en") else "id",
        must_change_password=must_change_password,
        adult_confirmed_at=utcnow() if adult_confirmed else None,
    )
    if consent:
        record_consent(user, notice_version=notice_version or "", channel=consent_channel)
    db.add(user)
    db.flush()
    log.info("account created: user=%s role=%s", user.id, role.value)
    return user


def authenticate(db: Session, email: str, password: str, *, now: dt.datetime | None = None) -> User | None:
    """The active user whose password this is, or None. Unknown users cost the same time.

    Failed attempts are counted on the account (the caller commits them); from the
    ``FREE_FAILURES``-th on, the account must wait before trying again, doubling from 30 s up to
    15 min (a backoff, not a lockout an attacker could hold forever). A waiting account raises
    ``LoginThrottled`` whatever the password. This floor holds across processes and without Redis.
    """
    now = now or utcnow()
    user = find_user_by_email(db, email)
    if user is None or not user.is_active or user.deleted_at is not None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    if not confirm_password(db, user, password, now=now):
        return None
    user.last_login_at = now
    return user


def confirm_password(db: Session, user: User, password: str, *, now: dt.datetime | None = None) -> bool:
    """Whether ``password`` is the logged-in ``user``'s current one: the re-authentication that
    sensitive changes ask for (deleting the account, changing the phone number).

    It shares the login's per-account floor: a wrong password is counted (the caller commits it,
    and nothing else), and an account that must wait raises ``LoginThrottled``, so the form cannot
    be used to guess the password faster than the login page.
    """
    now = now or utcnow()
    if user.login_blocked_until is not None and user.login_blocked_until > now:
        raise LoginThrottled(math.ceil((user.login_blocked_until - now).total_seconds()))
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        _record_failure(db, user, now)
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.login_blocked_until = None
    return True


def _record_failure(db: Session, user: User, now: dt.datetime) -> None:
    db.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .execution_options(synchronize_session="fetch")
    )
    if user.failed_logins >= FREE_FAILURES:
        delay = min(MAX_BACKOFF_SECONDS, 30 * 2 ** (user.failed_logins - FREE_FAILURES))
        user.login_blocked_until = now + dt.timedelta(seconds=delay)
    db.flush()


def change_password(db: Session, user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one; other sessions stop working."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise InvalidInput("wrong_password", "the current password is wrong") from None
    problem = password_problem(new)
    if problem:
        raise InvalidInput(problem, f"password rejected: {problem}")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_version += 1
    db.flush()


def end_all_sessions(db: Session, user: User) -> None:
    """Invalidate every session cookie issued to ``user`` (logout everywhere)."""
    user.session_version += 1
    db.flush()


def generate_password() -> str:
    """A random one-time password that people can type (for accounts made by staff or the CLI)."""
    return secrets.token_urlsafe(12)
