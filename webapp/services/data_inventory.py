"""The inventory of personal data (PDP-6, PDP-7): every column of every table, classified.

A column is *personal data* here when its value identifies a person or describes them beyond the
programme's bookkeeping: who they are, how to reach them, their business and mentoring profile,
what they wrote, their consent, their logins and devices, what was said or scored about them.
Everything else is listed in ``OTHER_COLUMNS``: surrogate and foreign keys, workflow states and
times, counters, and secrets stored only as hashes. Whole tables without personal data are in
``TABLES_WITHOUT_PERSONAL_DATA``.

``docs/privacy/ropa.md`` prints the same list; ``tests/models/test_data_inventory.py`` fails when a
column is added, renamed or dropped without updating this module and the document, or when a
column for specific personal data (Pasal 4(2) UU PDP: health, biometrics, genetics, criminal
records, children's data, personal finance; also national ids and religion) appears.
"""

from __future__ import annotations

import re

#: Personal-data columns by table: column -> category (the categories of the records of processing).
PERSONAL_DATA_COLUMNS: dict[str, dict[str, str]] = {
    "user_account": {
        "name": "identity",
        "email": "contact",
        "phone": "contact",
        "share_phone": "contact",
        "role": "account",
        "locale": "account",
        "privacy_notice_version": "consent",
        "privacy_consent_at": "consent",
        "privacy_consent_purposes": "consent",
        "privacy_consent_channel": "consent",
        "consent_withdrawn_at": "consent",
        "automated_proposals_objected_at": "consent",
        "adult_confirmed_at": "consent",
        "created_at": "account activity",
        "last_login_at": "account activity",
        "deleted_at": "account activity",
        "failed_logins": "account security",
        "login_blocked_until": "account security",
    },
    "entrepreneur": {
        "external_id": "identity",
        "name": "identity",
        "business_name": "identity",
        "sector_code": "business profile",
        "kbli": "business profile",
        "stage_code": "business profile",
        "needs": "business profile",
        "kecamatan_code": "location",
        "kelurahan_code": "location",
        "languages": "matching preferences",
        "mode": "matching preferences",
        "availability": "matching preferences",
        "gender": "matching preferences",
        "prefers_mentor_gender": "matching preferences",
        "bio": "free text",
        "automated_proposals_objected_at": "consent",
    },
    "mentor": {
        "external_id": "identity",
        "name": "identity",
        "company": "identity",
        "sectors": "professional profile",
        "stages": "professional profile",
        "expertise": "professional profile",
        "capacity": "professional profile",
        "kecamatan_code": "location",
        "languages": "matching preferences",
        "mode": "matching preferences",
        "availability": "matching preferences",
        "gender": "matching preferences",
        "bio": "free text",
        "paused_reason": "free text",
        "automated_proposals_objected_at": "consent",
    },
    "user_session": {
        "ip": "device",
        "user_agent": "device",
        "created_at": "account activity",
        "last_seen_at": "account activity",
    },
    "api_token": {"name": "free text", "last_used_at": "account activity"},
    "match_request": {
        "score": "matching output",
        "reasons": "matching output",
        "message": "free text",
        "response_note": "free text",
    },
    "mentor_match": {"end_note": "free text", "rating": "evaluation"},
    "mentoring_session": {"video_url": "contact"},
    "session_feedback": {
        "happened": "evaluation",
        "rating": "evaluation",
        "areas": "evaluation",
        "note": "free text",
    },
    "pas_progress": {"step_code": "business profile", "achieved_on": "business profile", "note": "free text"},
    "status_change": {"note": "free text"},
    "notification": {"locale": "account", "payload": "messages", "last_error": "messages"},
    "audit_log": {"before": "audit copy", "after": "audit copy", "note": "audit copy"},
}

#: The remaining columns of the tables above: keys, workflow states and times, counters, hashes.
OTHER_COLUMNS: dict[str, frozenset[str]] = {
    "user_account": frozenset(
        {"id", "password_hash", "is_active", "must_change_password", "session_version", "calendar_token_hash"}
    ),
    "entrepreneur": frozenset({"id", "user_id", "profile_complete", "created_at", "updated_at"}),
    "mentor": frozenset({"id", "user_id", "active_count", "paused", "created_at", "updated_at"}),
    "user_session": frozenset({"id", "user_id", "expires_at", "remember", "revoked_at"}),
    "api_token": frozenset({"id", "user_id", "token_hash", "created_at", "revoked_at"}),
    "match_request": frozenset(
        {
            "id",
            "entrepreneur_id",
            "mentor_id",
            "origin",
            "status",
            "cohort_run_id",
            "response_reason",
            "created_at",
            "sent_at",
            "responded_at",
            "version",
        }
    ),
    "mentor_match": frozenset(
        {
            "id",
            "entrepreneur_id",
            "mentor_id",
            "request_id",
            "status",
            "cadence",
            "started_at",
            "ended_at",
            "end_reason",
        }
    ),
    "mentoring_session": frozenset(
        {
            "id",
            "match_id",
            "entrepreneur_id",
            "mentor_id",
            "week_start",
            "starts_at",
            "ends_at",
            "mode",
            "room_id",
            "status",
            "entrepreneur_confirmed",
            "mentor_confirmed",
            "created_at",
        }
    ),
    "session_feedback": frozenset({"id", "session_id", "author_id", "created_at"}),
    "pas_progress": frozenset({"id", "entrepreneur_id", "recorded_by_id"}),
    "status_change": frozenset(
        {"id", "request_id", "match_id", "from_status", "to_status", "actor_id", "at"}
    ),
    "notification": frozenset({"id", "user_id", "kind", "created_at", "sent_at", "attempts"}),
    "audit_log": frozenset({"id", "actor_id", "at", "action", "object_type", "object_id"}),
    "cohort_run": frozenset({"id", "created_by_id", "created_at", "filters", "report"}),
}

#: Tables that hold nothing about a person: reference data, rooms, job claims.
TABLES_WITHOUT_PERSONAL_DATA = frozenset(
    {"kota", "kecamatan", "kelurahan", "sector", "stage", "support_area", "pas_step", "room", "job_run"}
)

#: Words in a column name that mean specific personal data (or a national id) is being collected.
SPECIFIC_DATA_WORDS = frozenset(
    {
        "nik",
        "ktp",
        "kk",
        "npwp",
        "passport",
        "paspor",
        "religion",
        "agama",
        "health",
        "kesehatan",
        "medical",
        "disability",
        "disabilitas",
        "diagnosis",
        "biometric",
        "fingerprint",
        "face",
        "retina",
        "genetic",
        "dna",
        "criminal",
        "crime",
        "police",
        "skck",
        "birth",
        "dob",
        "birthdate",
        "age",
        "lahir",
        "child",
        "children",
        "anak",
        "income",
        "salary",
        "gaji",
        "revenue",
        "omzet",
        "bank",
        "rekening",
        "iban",
        "credit",
        "loan",
        "debt",
        "pinjaman",
        "ethnicity",
        "ethnic",
        "suku",
        "race",
        "ras",
        "politics",
        "political",
        "sexual",
        "orientation",
    }
)


def personal_columns() -> set[str]:
    """Every personal-data column as ``table.column``."""
    return {f"{table}.{column}" for table, columns in PERSONAL_DATA_COLUMNS.items() for column in columns}


def specific_data_words(column: str) -> set[str]:
    """The specific-data words in a column name (split on underscores and case changes)."""
    words = re.split(r"_|(?<=[a-z])(?=[A-Z])", column)
    return {w.lower() for w in words} & SPECIFIC_DATA_WORDS


def classification_problems(metadata) -> list[str]:
    """What does not match the inventory in a SQLAlchemy ``MetaData``: one message per column or table."""
    problems = []
    known = set(PERSONAL_DATA_COLUMNS) | set(OTHER_COLUMNS) | TABLES_WITHOUT_PERSONAL_DATA
    for table in metadata.sorted_tables:
        columns = {c.name for c in table.columns}
        if table.name not in known:
            problems.append(f"table {table.name} is not in the inventory")
            continue
        if table.name in TABLES_WITHOUT_PERSONAL_DATA:
            continue
        personal = set(PERSONAL_DATA_COLUMNS.get(table.name, {}))
        other = OTHER_COLUMNS.get(table.name, frozenset())
        problems += [f"{table.name}.{c} is in the inventory twice" for c in sorted(personal & other)]
        problems += [f"{table.name}.{c} is not classified" for c in sorted(columns - personal - other)]
        problems += [f"{table.name}.{c} is in the inventory but not in the model" for c in
                     sorted((personal | other) - columns)]  # fmt: skip
    missing = known - {t.name for t in metadata.sorted_tables}
    problems += [f"table {name} is in the inventory but not in the model" for name in sorted(missing)]
    for table in metadata.sorted_tables:
        for column in table.columns:
            if words := specific_data_words(column.name):
                problems.append(
                    f"{table.name}.{column.name} looks like specific personal data ({', '.join(sorted(words))})"
                )
    return problems
