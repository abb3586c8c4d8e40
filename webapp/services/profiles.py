"""Creating and editing profiles: the entrepreneur's step-by-step wizard, the mentor's form, contact settings.

The rules live here so that the browser wizard and the JSON API validate alike: a function takes a
plain ``dict`` of submitted values, checks every field, and raises ``InvalidInput`` whose
``errors`` is a list of :class:`FieldError` (one per bad field, with a code to phrase in any
language) before anything changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from matching import reference
from matching.csvio import parse_availability
from matching.profiles import DAYS, GENDERS, MODES, STAGES, format_availability
from models import AuditLog, Entrepreneur, Mentor, User
from webapp.services import accounts
from webapp.services.errors import InvalidInput

#: The entrepreneur wizard's steps in order, with the fields each one saves.
ENTREPRENEUR_STEPS: dict[str, tuple[str, ...]] = {
    "business": ("business_name", "sector", "kbli", "stage", "kecamatan"),
    "kelurahan": ("kelurahan",),
    "needs": ("needs", "languages", "mode"),
    "time": ("availability",),
    "about": ("gender", "prefers_mentor_gender", "bio"),
}
#: Fields a complete entrepreneur profile must have.
ENTREPRENEUR_REQUIRED = ("business_name", "sector", "stage", "kecamatan", "kelurahan", "needs")
MENTOR_FIELDS = (
    "company", "sectors", "stages", "kecamatan", "expertise", "capacity",
    "languages", "mode", "availability", "gender", "bio",
)  # fmt: skip
#: Languages offered besides Bahasa Indonesia (ISO 639-1), which everyone has.
OTHER_LANGUAGES = ("en", "zh", "ar", "ja", "ko", "jv", "su")
MAX_CAPACITY = 20
MAX_BIO = 2000
_LANG_RE = re.compile(r"^[a-z]{2}$")
_KBLI_RE = re.compile(r"^\d{2,5}$")
_PHONE_JUNK = re.compile(r"[\s().-]")


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad field: its name, a code saying what is wrong, and details for the message."""

    field: str
    code: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def values(self) -> dict[str, str]:
        """The params as a dict."""
        return dict(self.params)


def _err(field: str, code: str, **params: object) -> FieldError:
    return FieldError(field, code, tuple((k, str(v)) for k, v in params.items()))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(";")
    return list(dict.fromkeys(_text(v) for v in value if _text(v)))


# --- field rules (each returns the clean value or appends to ``errors``) ---------------------------


def _clean_entrepreneur(data: Mapping[str, Any], fields: Iterable[str], errors: list[FieldError]) -> dict:
    out: dict[str, Any] = {}
    fields = tuple(fields)
    if "business_name" in fields:
        name = _text(data.get("business_name"))
        if not name:
            errors.append(_err("business_name", "required"))
        elif len(name) > 160:
            errors.append(_err("business_name", "too_long", max=160))
        out["business_name"] = name
    if "sector" in fields:
        sector = _text(data.get("sector")).upper()
        if not sector:
            errors.append(_err("sector", "required"))
        elif sector not in reference.sectors():
            errors.append(_err("sector", "unknown_sector"))
        out["sector_code"] = sector
    if "kbli" in fields:
        kbli = _text(data.get("kbli"))
        if kbli:
            section = reference.sector_of_kbli(kbli) if _KBLI_RE.match(kbli) else None
            if section is None:
                errors.append(_err("kbli", "bad_kbli"))
            elif "sector_code" in out and section != out["sector_code"]:
                errors.append(
                    _err("kbli", "kbli_sector_mismatch", section=section, sector=out["sector_code"])
                )
        out["kbli"] = kbli or None
    if "stage" in fields:
        stage = _text(data.get("stage")).lower()
        if stage not in STAGES:
            errors.append(_err("stage", "required" if not stage else "unknown_stage"))
        out["stage_code"] = stage
    if "kecamatan" in fields:
        kec = _text(data.get("kecamatan"))
        if kec not in reference.kecamatan():
            errors.append(_err("kecamatan", "required" if not kec else "unknown_kecamatan"))
        out["kecamatan_code"] = kec
    if "needs" in fields:
        needs = [n.lower() for n in _items(data.get("needs"))]
        if not needs:
            errors.append(_err("needs", "required"))
        elif any(n not in reference.support_areas() for n in needs):
            errors.append(_err("needs", "unknown_support_area"))
        out["needs"] = needs
    if "languages" in fields:
        out["languages"] = _clean_languages(data.get("languages"), errors)
    if "mode" in fields:
        out["mode"] = _clean_mode(data.get("mode"), errors)
    if "availability" in fields:
        out["availability"] = _clean_availability(data.get("availability"), errors)
    if "gender" in fields:
        out["gender"] = _clean_gender("gender", data.get("gender"), errors)
    if "prefers_mentor_gender" in fields:
        out["prefers_mentor_gender"] = _clean_gender(
            "prefers_mentor_gender", data.get("prefers_mentor_gender"), errors
        )
    if "bio" in fields:
        out["bio"] = _clean_bio(data.get("bio"), errors)
    return out


def _clean_languages(value: Any, errors: list[FieldError]) -> list[str]:
    langs = [x.lower() for x in _items(value)]
    if any(not _LANG_RE.match(x) for x in langs):
        errors.append(_err("languages", "bad_language"))
    return ["id", *[x for x in langs if x != "id"]]  # Bahasa Indonesia always, first


def _clean_mode(value: Any, errors: list[FieldError]) -> str:
    mode = _text(value).lower() or "either"
    if mode not in MODES:
        errors.append(_err("mode", "unknown_mode"))
    return mode


def _clean_availability(value: Any, errors: list[FieldError]) -> str | None:
    text = _text(value)
    try:
        windows = parse_availability(text)
    except ValueError as exc:
        errors.append(
            _err(
                "availability",
                getattr(exc, "code", "bad_window"),
                window=dict(getattr(exc, "params", ())).get("window", text),
            )
        )
        return None
    if windows is not None and not windows:
        return None
    return format_availability(tuple(sorted(windows))) if windows else None


def _clean_gender(field: str, value: Any, errors: list[FieldError]) -> str | None:
    gender = _text(value).lower()
    if gender and gender not in GENDERS:
        errors.append(_err(field, "unknown_gender"))
    return gender or None


def _clean_bio(value: Any, errors: list[FieldError]) -> str:
    bio = _text(value)
    if len(bio) > MAX_BIO:
        errors.append(_err("bio", "too_long", max=MAX_BIO))
    return bio


def availability_days(text: str | None) -> dict[str, tuple[int, int] | None]:
    """Each day's first window as (start hour, end hour), for a per-day form; None when not free."""
    windows = parse_availability(text or "") or ()
    out: dict[str, tuple[int, int] | None] = dict.fromkeys(DAYS)
    for w in sorted(windows):
        if out[DAYS[w.day]] is None:
            out[DAYS[w.day]] = (w.start // 60, -(-w.end // 60))
    return out


def availability_from_days(days: Mapping[str, tuple[str, str]]) -> str:
    """The contract's window text from per-day (from, to) hour strings like ('19', '21'); blank days skipped."""
    parts = []
    for day in DAYS:
        start, end = (_text(x) for x in days.get(day, ("", "")))
        if not start and not end:
            continue
        start = f"{int(start):02d}:00" if start.isdigit() else start or "?"
        end = f"{int(end):02d}:00" if end.isdigit() else end or "?"
        parts.append(f"{day} {start}-{end}")
    return ";".join(parts)


# --- entrepreneurs --------------------------------------------------------------------------------


def entrepreneur_of(db: Session, user: User) -> Entrepreneur | None:
    """The entrepreneur profile of a user, or None when there is none yet."""
    return db.scalar(_ENTREPRENEUR_OF, {"user_id": user.id})


#: Built once (asked on every entrepreneur page).
_ENTREPRENEUR_OF = select(Entrepreneur).where(Entrepreneur.user_id == bindparam("user_id"))


def missing_entrepreneur_fields(row: Entrepreneur | None) -> list[str]:
    """Required fields a profile still lacks (all of them when there is no profile)."""
    if row is None:
        return list(ENTREPRENEUR_REQUIRED)
    have = {
        "business_name": row.business_name,
        "sector": row.sector_code,
        "stage": row.stage_code,
        "kecamatan": row.kecamatan_code,
        "kelurahan": row.kelurahan_code,
        "needs": row.needs,
    }
    return [f for f in ENTREPRENEUR_REQUIRED if not have[f]]


def next_entrepreneur_step(row: Entrepreneur | None) -> str:
    """The first wizard step that still has a required field missing (the last step when none)."""
    missing = set(missing_entrepreneur_fields(row))
    for step, fields in ENTREPRENEUR_STEPS.items():
        if missing & set(fields):
            return step
    if row is not None and not row.profile_complete:
        return "about" if row.needs else "needs"
    return "about"


def save_entrepreneur_profile(
    db: Session, user: User, data: Mapping[str, Any], *, step: str | None = None
) -> Entrepreneur:
    """Save one wizard ``step`` (or, with ``step=None``, the whole profile) of a user's business profile.

    The first save creates the profile (``external_id`` ``W<user id>``) and needs the ``business``
    step; the profile is complete after the last step (or a whole-profile save) once every required
    field is set. Raises ``InvalidInput`` (code ``invalid_profile``, ``errors`` of
    :class:`FieldError`) and changes nothing when a field is wrong, and with code ``incomplete``
    when the last step is saved before an earlier required one.
    """
    if step is not None and step not in ENTREPRENEUR_STEPS:
        raise InvalidInput("unknown_step", f"no such step: {step}")
    row = entrepreneur_of(db, user)
    fields = ENTREPRENEUR_STEPS[step] if step else tuple(f for fs in ENTREPRENEUR_STEPS.values() for f in fs)
    if row is None and "business_name" not in fields:
        raise InvalidInput("incomplete", "start with the business step", [_err("business_name", "required")])
    errors: list[FieldError] = []
    values = _clean_entrepreneur(data, fields, errors)
    if "kelurahan" in fields:
        kec = values.get("kecamatan_code") or (row.kecamatan_code if row else "")
        kel = _text(data.get("kelurahan"))
        if not kel:
            errors.append(_err("kelurahan", "required"))
        else:
            term = reference.kelurahan().get(kel)
            if term is None or term.kecamatan_code != kec:
                errors.append(_err("kelurahan", "kelurahan_outside"))
        values["kelurahan_code"] = kel or None
    if errors:
        raise InvalidInput("invalid_profile", "the profile has invalid fields", errors)
    finishing = step is None or step == list(ENTREPRENEUR_STEPS)[-1]
    if finishing:
        missing = _missing_after(row, values)
        if missing:
            raise InvalidInput(
                "incomplete", "earlier steps are not done yet", [_err(f, "required") for f in missing]
            )
    before = _snapshot(row) if row else None
    if row is None:
        row = Entrepreneur(
            external_id=f"W{user.id}",
            user_id=user.id,
            name=user.name,
            needs=[],
            languages=["id"],
            mode="either",
            bio="",
            profile_complete=False,
        )
        db.add(row)
    elif (
        "kecamatan_code" in values
        and values["kecamatan_code"] != row.kecamatan_code
        and "kelurahan_code" not in values
    ):
        row.kelurahan_code = None  # the old kelurahan lies in the old kecamatan
    for key, value in values.items():
        setattr(row, key, value)
    if finishing:
        row.profile_complete = True
    db.flush()
    _audit_profile(db, user, "entrepreneur.profile", row, before, note=step)
    return row


def _missing_after(row: Entrepreneur | None, values: Mapping[str, Any]) -> list[str]:
    """Required fields still missing once ``values`` (column names) are applied to ``row``."""
    columns = {
        "business_name": "business_name",
        "sector": "sector_code",
        "stage": "stage_code",
        "kecamatan": "kecamatan_code",
        "kelurahan": "kelurahan_code",
        "needs": "needs",
    }
    missing = []
    for field, column in columns.items():
        value = values[column] if column in values else (getattr(row, column) if row else None)
        moved = row is not None and values.get("kecamatan_code", row.kecamatan_code) != row.kecamatan_code
        if column == "kelurahan_code" and column not in values and moved:
            value = None  # the old kelurahan lies in the old kecamatan
        if not value:
            missing.append(field)
    return missing


#: What the audit log holds instead of a value it must not keep: free text that may name the
#: person (the bio) and the phone number. The log outlives the anonymisation of a deleted account,
#: so it records that such a field changed, not what it says.
REDACTED = "***"
_REDACTED_IN_AUDIT = frozenset({"bio", "phone"})


def _snapshot(row: Entrepreneur | Mentor) -> dict:
    keys = (
        ("business_name", "sector_code", "kbli", "stage_code", "kecamatan_code", "kelurahan_code", "needs",
         "languages", "mode", "availability", "gender", "prefers_mentor_gender", "bio", "profile_complete")
        if isinstance(row, Entrepreneur)
        else ("company", "sectors", "stages", "kecamatan_code", "expertise", "capacity", "languages", "mode",
              "availability", "gender", "bio")
    )  # fmt: skip
    return {k: getattr(row, k) for k in keys}


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> tuple[dict | None, dict]:
    """The audit log's (before, after) of the fields that differ, as staff corrections record them.

    A new row (``before`` None) has no before and all of ``after``; nothing changed gives ``{}``
    after. The bio and the phone number appear as ``REDACTED`` when set (None when empty).
    """
    changed = sorted(k for k in after if before is None or before.get(k) != after[k])

    def shown(key: str, value: Any) -> Any:
        return (REDACTED if value else None) if key in _REDACTED_IN_AUDIT else value

    old = None if before is None else {k: shown(k, before.get(k)) for k in changed}
    return old, {k: shown(k, after[k]) for k in changed}


def _audit_profile(
    db: Session,
    user: User,
    action: str,
    row: Entrepreneur | Mentor,
    before: dict | None,
    note: str | None = None,
) -> None:
    """One audit row for a self-service profile save, with only the changed fields (none: no row)."""
    old, new = changed_fields(before, _snapshot(row))
    if not new:
        return
    db.add(
        AuditLog(
            actor_id=user.id, action=action, object_type=action.split(".")[0], object_id=str(row.id),
            before=old, after=new, note=note,
        )
    )  # fmt: skip
    db.flush()


# --- mentors --------------------------------------------------------------------------------------


def mentor_of(db: Session, user: User) -> Mentor | None:
    """The mentor profile of a user, or None when there is none yet."""
    return db.scalar(select(Mentor).where(Mentor.user_id == user.id))


def save_mentor_profile(db: Session, user: User, data: Mapping[str, Any]) -> Mentor:
    """Create or update a mentor's profile from submitted values (``external_id`` ``WM<user id>`` when new).

    ``capacity`` may not go below the mentees held now. Raises ``InvalidInput`` with
    :class:`FieldError` items and changes nothing when a field is wrong.
    """
    row = mentor_of(db, user)
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    company = _text(data.get("company"))
    if len(company) > 160:
        errors.append(_err("company", "too_long", max=160))
    values["company"] = company or None
    sectors = [s.upper() for s in _items(data.get("sectors"))]
    if not sectors:
        errors.append(_err("sectors", "required"))
    elif any(s not in reference.sectors() for s in sectors):
        errors.append(_err("sectors", "unknown_sector"))
    values["sectors"] = sectors
    stages = [s.lower() for s in _items(data.get("stages"))]
    if not stages:
        errors.append(_err("stages", "required"))
    elif any(s not in STAGES for s in stages):
        errors.append(_err("stages", "unknown_stage"))
    values["stages"] = [s for s in STAGES if s in stages]
    kec = _text(data.get("kecamatan"))
    if kec not in reference.kecamatan():
        errors.append(_err("kecamatan", "required" if not kec else "unknown_kecamatan"))
    values["kecamatan_code"] = kec
    expertise = [x.lower() for x in _items(data.get("expertise"))]
    if not expertise:
        errors.append(_err("expertise", "required"))
    elif any(x not in reference.support_areas() for x in expertise):
        errors.append(_err("expertise", "unknown_support_area"))
    values["expertise"] = expertise
    held = row.active_count if row else 0
    raw_capacity = _text(data.get("capacity"))
    try:
        capacity = int(raw_capacity)
    except ValueError:
        capacity = None
        errors.append(_err("capacity", "required" if not raw_capacity else "not_integer"))
    if capacity is not None:
        if capacity < max(held, 1) or capacity > MAX_CAPACITY:
            code = "below_active" if capacity < held else "capacity_range"
            errors.append(_err("capacity", code, held=held, max=MAX_CAPACITY))
        values["capacity"] = capacity
    values["languages"] = _clean_languages(data.get("languages"), errors)
    values["mode"] = _clean_mode(data.get("mode"), errors)
    values["availability"] = _clean_availability(data.get("availability"), errors)
    values["gender"] = _clean_gender("gender", data.get("gender"), errors)
    values["bio"] = _clean_bio(data.get("bio"), errors)
    if errors:
        raise InvalidInput("invalid_profile", "the profile has invalid fields", errors)
    before = _snapshot(row) if row else None
    if row is None:
        row = Mentor(external_id=f"WM{user.id}", user_id=user.id, name=user.name, active_count=0)
        db.add(row)
    elif "capacity" in values:
        # A guarded UPDATE: an accept that commits after this request read ``held`` cannot be
        # undercut (the database would refuse it anyway; this answers with the reason instead).
        capacity = values.pop("capacity")
        changed = db.execute(
            update(Mentor)
            .where(Mentor.id == row.id, Mentor.active_count <= capacity)
            .values(capacity=capacity)
            .execution_options(synchronize_session="fetch")
        )
        if changed.rowcount != 1:
            db.refresh(row)
            raise InvalidInput(
                "invalid_profile",
                "the profile has invalid fields",
                [_err("capacity", "below_active", held=row.active_count, max=MAX_CAPACITY)],
            )
    for key, value in values.items():
        setattr(row, key, value)
    db.flush()
    _audit_profile(db, user, "mentor.profile", row, before)
    return row


# --- contact settings -----------------------------------------------------------------------------


def normalise_phone(raw: str) -> str:
    """An Indonesian mobile number in international digits (``62812...``); raises ``ValueError`` when it is not one.

    Accepts ``0812-3456-7890``, ``+62 812 3456 7890``, ``62812...`` and ``812...``.
    """
    digits = _PHONE_JUNK.sub("", raw.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        raise ValueError("not a phone number")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    if not digits.startswith("628") or not 10 <= len(digits) <= 15:
        raise ValueError("not an Indonesian mobile number")
    return digits


def save_contact_settings(
    db: Session, user: User, phone: str | None, share_phone: bool, *, password: str | None = None
) -> User:
    """Set a user's phone (normalised to ``62...``; blank removes it) and whether matched partners see it.

    Changing or removing the number needs the account's current ``password`` (a fresh
    authentication, as deleting the account does): without it, or with a wrong one, ``InvalidInput``
    names the ``password`` field (code ``password_required`` or ``wrong_password``) and nothing but
    the failed attempt is recorded; an account that must wait raises ``LoginThrottled``. Turning
    sharing on or off alone needs no password. A change is audited (``account.contact``) with the
    changed fields; the number itself is never written to the audit log.
    """
    phone = _text(phone)
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValueError:
            raise InvalidInput("invalid_contact", "bad phone number", [_err("phone", "bad_phone")]) from None
    if share_phone and not phone:
        raise InvalidInput("invalid_contact", "nothing to share", [_err("phone", "phone_to_share")])
    new_phone = phone or None
    if new_phone != user.phone:
        if not password:
            raise InvalidInput(
                "password_required",
                "changing the phone needs the password",
                [_err("password", "password_required")],
            )
        if not accounts.confirm_password(db, user, password):
            raise InvalidInput(
                "wrong_password", "the current password is wrong", [_err("password", "wrong_password")]
            )
    before = _contact_snapshot(user)
    user.phone = new_phone
    user.share_phone = bool(share_phone)
    db.flush()
    old, new = changed_fields(before, _contact_snapshot(user))
    if new:
        db.add(
            AuditLog(
                actor_id=user.id, action="account.contact", object_type="user", object_id=str(user.id),
                before=old, after=new,
            )
        )  # fmt: skip
        db.flush()
    return user


def _contact_snapshot(user: User) -> dict:
    return {"phone": user.phone, "share_phone": bool(user.share_phone)}
