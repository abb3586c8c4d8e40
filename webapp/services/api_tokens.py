"""Personal API tokens: shown once in plain text at creation, stored only as a SHA-256 hash, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload

from models import ApiToken, User, utcnow
from webapp.services.errors import Conflict, NotFound

log = logging.getLogger(__name__)

#: Tokens start with this marker so that secret scanners and people recognise a leaked one.
TOKEN_PREFIX = "jkm_"  # nosec B105 # a public marker, not a secret
#: At most this many tokens may be usable at once per account.
MAX_ACTIVE_TOKENS = 10
#: ``last_used_at`` is refreshed at most this often (a token used every second writes once an hour).
TOUCH_INTERVAL = dt.timedelta(hours=1)


def hash_token(plain: str) -> str:
    """The stored form of a token: its SHA-256 in hex."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new token row and its plain text, which is never stored and never shown again."""

    token: ApiToken
    plain: str


def create_token(db: Session, user: User, name: str) -> IssuedToken:
    """Issue a token for ``user``; refused with ``too_many_tokens`` past ``MAX_ACTIVE_TOKENS``."""
    active = db.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    if active >= MAX_ACTIVE_TOKENS:
        raise Conflict(
            "too_many_tokens",
            f"you can hold at most {MAX_ACTIVE_TOKENS} tokens; revoke one first",
            limit=MAX_ACTIVE_TOKENS,
        )
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=hash_token(plain), name=name.strip(), created_at=utcnow())
    db.add(token)
    db.flush()
    log.info("api token issued: user=%s token=%s", user.id, token.id)
    return IssuedToken(token, plain)


def list_tokens(db: Session, user_id: int) -> list[ApiToken]:
    """The account's tokens, usable ones first, newest first."""
    return list(
        db.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(db: Session, user_id: int, token_id: int) -> ApiToken:
    """Revoke one of the account's tokens (revoking twice is harmless); another's is ``NotFound``."""
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound("token_not_found", "no such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.flush()
        log.info("api token revoked: user=%s token=%s", user_id, token_id)
    return token


def user_for_token(db: Session, plain: str, *, now: dt.datetime | None = None) -> User | None:
    """The active user a usable token belongs to, or None (unknown, revoked, or the account is gone).

    Refreshes ``last_used_at`` when it is older than ``TOUCH_INTERVAL`` and then commits that, in
    its own short transaction before the request's work; otherwise it writes nothing and leaves
    the transaction to the caller (an API call costs one statement, not a commit each time).
    """
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    row = db.execute(_TOKEN_WITH_USER, {"hash": hash_token(plain)}).first()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or not user.is_active or user.deleted_at is not None:
        return None
    now = now or utcnow()
    if token.last_used_at is None or token.last_used_at < now - TOUCH_INTERVAL:
        db.execute(
            update(ApiToken)
            .where(ApiToken.id == token.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session="fetch")
        )
        db.commit()
    return user


#: Built once: every API call with a token runs it. The account's entrepreneur or mentor profile
#: comes along (most calls act as one; ``webapp.api.callers``), instead of in a statement of its own.
_TOKEN_WITH_USER = (
    select(ApiToken, User)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("hash"))
    .options(joinedload(User.entrepreneur), joinedload(User.mentor))
)
