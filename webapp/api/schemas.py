"""The JSON API's contract: marshmallow schemas for every body, query and response.

Input schemas raise on unknown fields (mass assignment stays impossible) and bound every string and
number; server-owned fields are ``dump_only``. Texts refuse NUL characters, which PostgreSQL cannot
store.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from matching import reference
from webapp.services.mentorship import DECLINE_REASONS, END_REASONS, REJECT_REASONS

#: Largest id a path or body may name (ids are 32-bit in the database).
MAX_ID = 2**31 - 1
MAX_PER_PAGE = 100
REQUEST_STATES = ("pending", "accepted", "declined", "withdrawn", "expired", "closed")


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")


def Text(max_length: int, *, min_length: int = 0, **kw) -> fields.String:  # noqa: N802 (a field factory)
    """A string of bounded length without NUL characters."""
    return fields.String(
        validate=[validate.Length(min=min_length, max=max_length), _no_nul],
        **kw,
    )


def Id(**kw) -> fields.Integer:  # noqa: N802 (a field factory)
    """A database id: an integer from 1 to ``MAX_ID``."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kw)


class ApiSchema(Schema):
    """Base of every API schema: unknown fields are an error, never silently kept or dropped."""

    class Meta:
        unknown = RAISE


# --- errors ---------------------------------------------------------------------------------------


class ErrorSchema(ApiSchema):
    """The one error envelope of the API (every 4xx and 5xx)."""

    code = fields.Integer(required=True, metadata={"description": "HTTP status code"})
    status = fields.String(required=True, metadata={"description": "HTTP status name"})
    message = fields.String(metadata={"description": "What went wrong, in English"})
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "Field name -> list of messages (validation errors)"},
    )
    reason = fields.String(
        metadata={"description": "Machine-readable reason of a refusal, e.g. capacity_full"}
    )
    details = fields.Dict(metadata={"description": "Parameters of the reason, e.g. a limit"})


# --- reference ------------------------------------------------------------------------------------


class KecamatanSchema(ApiSchema):
    code = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    city = fields.String(dump_only=True)
    kota_code = fields.String(dump_only=True)
    lat = fields.Float(dump_only=True)
    lon = fields.Float(dump_only=True)


class TermSchema(ApiSchema):
    code = fields.String(dump_only=True)
    name_id = fields.String(dump_only=True)
    name_en = fields.String(dump_only=True)


# --- people ---------------------------------------------------------------------------------------


class AccountSchema(ApiSchema):
    id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    locale = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class OwnEntrepreneurSchema(ApiSchema):
    """An entrepreneur's own profile as they see it."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    business_name = fields.String(dump_only=True, allow_none=True)
    sector_code = fields.String(dump_only=True)
    kbli = fields.String(dump_only=True, allow_none=True)
    stage_code = fields.String(dump_only=True)
    kecamatan_code = fields.String(dump_only=True)
    kelurahan_code = fields.String(dump_only=True, allow_none=True)
    needs = fields.List(fields.String(), dump_only=True)
    languages = fields.List(fields.String(), dump_only=True)
    mode = fields.String(dump_only=True)
    availability = fields.String(dump_only=True, allow_none=True)
    bio = fields.String(dump_only=True)
    profile_complete = fields.Boolean(dump_only=True)


class OwnMentorSchema(ApiSchema):
    """A mentor's own profile as they see it, with their load."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    company = fields.String(dump_only=True, allow_none=True)
    sectors = fields.List(fields.String(), dump_only=True)
    stages = fields.List(fields.String(), dump_only=True)
    kecamatan_code = fields.String(dump_only=True)
    expertise = fields.List(fields.String(), dump_only=True)
    languages = fields.List(fields.String(), dump_only=True)
    mode = fields.String(dump_only=True)
    availability = fields.String(dump_only=True, allow_none=True)
    bio = fields.String(dump_only=True)
    capacity = fields.Integer(dump_only=True)
    active_count = fields.Integer(dump_only=True)
    free_places = fields.Integer(dump_only=True)
    paused = fields.Boolean(dump_only=True)
    paused_reason = fields.String(dump_only=True, allow_none=True)


class MeSchema(ApiSchema):
    account = fields.Nested(AccountSchema, dump_only=True)
    entrepreneur = fields.Nested(OwnEntrepreneurSchema, dump_only=True, allow_none=True)
    mentor = fields.Nested(OwnMentorSchema, dump_only=True, allow_none=True)


class PublicMentorSchema(ApiSchema):
    """What any logged-in person may see of a mentor: no contact details, no account."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    company = fields.String(dump_only=True, allow_none=True)
    sectors = fields.List(fields.String(), dump_only=True)
    stages = fields.List(fields.String(), dump_only=True)
    kecamatan_code = fields.String(dump_only=True)
    expertise = fields.List(fields.String(), dump_only=True)
    languages = fields.List(fields.String(), dump_only=True)
    mode = fields.String(dump_only=True)
    bio = fields.String(dump_only=True)
    accepting = fields.Boolean(dump_only=True, metadata={"description": "Has a free place and is not paused"})


class EntrepreneurSummarySchema(ApiSchema):
    """The entrepreneur as their mentor sees them in a request or a match."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    business_name = fields.String(dump_only=True, allow_none=True)
    sector_code = fields.String(dump_only=True)
    stage_code = fields.String(dump_only=True)
    kecamatan_code = fields.String(dump_only=True)
    needs = fields.List(fields.String(), dump_only=True)


class MentorSummarySchema(ApiSchema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    company = fields.String(dump_only=True, allow_none=True)
    kecamatan_code = fields.String(dump_only=True)


class ReasonSchema(ApiSchema):
    """One reason behind a score or a refusal, in both languages."""

    code = fields.String(dump_only=True)
    params = fields.Dict(dump_only=True)
    weight = fields.Float(dump_only=True)
    id = fields.String(dump_only=True, metadata={"description": "The reason in Bahasa Indonesia"})
    en = fields.String(dump_only=True, metadata={"description": "The reason in English"})


# --- suggestions ----------------------------------------------------------------------------------


class SuggestionQuerySchema(ApiSchema):
    online_only = fields.Boolean(load_default=False)
    same_kota = fields.Boolean(load_default=False)
    top = fields.Integer(strict=False, load_default=10, validate=validate.Range(min=1, max=20))


class SuggestionSchema(ApiSchema):
    rank = fields.Integer(dump_only=True)
    score = fields.Float(dump_only=True)
    mentor = fields.Nested(PublicMentorSchema, dump_only=True)
    reasons = fields.List(fields.Nested(ReasonSchema), dump_only=True)


# --- requests and matches -------------------------------------------------------------------------


class RequestCreateSchema(ApiSchema):
    mentor_id = Id(required=True)
    message = Text(1000, allow_none=True, load_default=None)


class RequestQuerySchema(ApiSchema):
    status = fields.String(validate=validate.OneOf(REQUEST_STATES), load_default=None)


class DeclineSchema(ApiSchema):
    reason = fields.String(required=True, validate=validate.OneOf(DECLINE_REASONS))
    note = Text(1000, allow_none=True, load_default=None)


class RequestSchema(ApiSchema):
    id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    origin = fields.String(dump_only=True)
    entrepreneur = fields.Nested(EntrepreneurSummarySchema, dump_only=True)
    mentor = fields.Nested(MentorSummarySchema, dump_only=True)
    message = fields.String(dump_only=True, allow_none=True)
    score = fields.Float(dump_only=True, allow_none=True)
    reasons = fields.List(fields.Nested(ReasonSchema), dump_only=True)
    response_reason = fields.String(dump_only=True, allow_none=True)
    response_note = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    sent_at = fields.DateTime(dump_only=True, allow_none=True)
    responded_at = fields.DateTime(dump_only=True, allow_none=True)
    version = fields.Integer(
        dump_only=True,
        metadata={
            "description": 'Goes up with every change; If-Match: "request-<id>-v<version>" makes a write '
            "conditional on it"
        },
    )


class MatchSchema(ApiSchema):
    id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    request_id = fields.Integer(dump_only=True, allow_none=True)
    entrepreneur = fields.Nested(EntrepreneurSummarySchema, dump_only=True)
    mentor = fields.Nested(MentorSummarySchema, dump_only=True)
    cadence = fields.String(dump_only=True)
    started_at = fields.DateTime(dump_only=True)
    ended_at = fields.DateTime(dump_only=True, allow_none=True)
    end_reason = fields.String(dump_only=True, allow_none=True)
    end_note = fields.String(dump_only=True, allow_none=True)
    rating = fields.Integer(dump_only=True, allow_none=True)


class EndMatchSchema(ApiSchema):
    reason = fields.String(required=True, validate=validate.OneOf(END_REASONS))
    note = Text(1000, allow_none=True, load_default=None)
    rating = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=5),
        metadata={"description": "The entrepreneur's rating of the mentorship (entrepreneurs only)"},
    )


class PauseSchema(ApiSchema):
    paused = fields.Boolean(required=True)


# --- tokens ---------------------------------------------------------------------------------------


class TokenCreateSchema(ApiSchema):
    name = Text(80, min_length=1, required=True)


class TokenSchema(ApiSchema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class IssuedTokenSchema(TokenSchema):
    token = fields.String(
        dump_only=True,
        metadata={"description": "The token itself: shown only in this response, store it now"},
    )


# --- staff ----------------------------------------------------------------------------------------


class MemberQuerySchema(ApiSchema):
    q = Text(80, load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class StaffEntrepreneurSchema(ApiSchema):
    id = fields.Integer(dump_only=True)
    external_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    business_name = fields.String(dump_only=True, allow_none=True)
    sector_code = fields.String(dump_only=True)
    stage_code = fields.String(dump_only=True)
    kecamatan_code = fields.String(dump_only=True)
    needs = fields.List(fields.String(), dump_only=True)
    has_account = fields.Boolean(dump_only=True)


class StaffMentorSchema(ApiSchema):
    id = fields.Integer(dump_only=True)
    external_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    company = fields.String(dump_only=True, allow_none=True)
    kecamatan_code = fields.String(dump_only=True)
    sectors = fields.List(fields.String(), dump_only=True)
    capacity = fields.Integer(dump_only=True)
    active_count = fields.Integer(dump_only=True)
    paused = fields.Boolean(dump_only=True)
    has_account = fields.Boolean(dump_only=True)


class _PageSchema(ApiSchema):
    page = fields.Integer(dump_only=True)
    per_page = fields.Integer(dump_only=True)
    total = fields.Integer(dump_only=True)
    pages = fields.Integer(dump_only=True)


class EntrepreneurPageSchema(_PageSchema):
    items = fields.List(fields.Nested(StaffEntrepreneurSchema), dump_only=True)


class MentorPageSchema(_PageSchema):
    items = fields.List(fields.Nested(StaffMentorSchema), dump_only=True)


# --- cohorts --------------------------------------------------------------------------------------


class CohortRunCreateSchema(ApiSchema):
    kota = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf(tuple(reference.kota())),
        metadata={"description": "Only this kota, e.g. 31.71"},
    )
    kecamatan = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf(tuple(reference.kecamatan())),
        metadata={"description": "Only this kecamatan, e.g. 31.71.01 (inside the kota when both are given)"},
    )
    sector = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf(tuple(reference.sectors())),
        metadata={"description": "Only this KBLI section, e.g. I"},
    )
    fair = fields.Boolean(load_default=False, metadata={"description": "Raise the lowest score first"})


class CohortRunSchema(ApiSchema):
    id = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    filters = fields.Dict(dump_only=True)
    report = fields.Dict(dump_only=True)
    proposals = fields.List(fields.Nested(RequestSchema), dump_only=True)


class RejectProposalSchema(ApiSchema):
    reason = fields.String(required=True, validate=validate.OneOf(REJECT_REASONS))
    note = Text(1000, allow_none=True, load_default=None)


class SwapProposalSchema(ApiSchema):
    mentor_id = Id(required=True)


# --- profiles -------------------------------------------------------------------------------------

_SECTORS = tuple(reference.sectors())
_KECAMATAN = tuple(reference.kecamatan())
_SUPPORT = tuple(reference.support_areas())
_LANGUAGE = fields.String(validate=validate.Regexp(r"^[a-z]{2}$"))
_AVAILABILITY = Text(
    500,
    allow_none=True,
    load_default=None,
    metadata={
        "description": "Weekly windows, e.g. 'mon 09:00-12:00; sat 10:00-14:00' (blank: the default week)"
    },
)


class EntrepreneurProfileSchema(ApiSchema):
    """The whole business profile (what the web wizard saves step by step)."""

    business_name = Text(160, min_length=1, required=True)
    sector = fields.String(required=True, validate=validate.OneOf(_SECTORS))
    kbli = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(r"^\d{2,5}$"),
        metadata={"description": "KBLI 2020 code within the sector"},
    )
    stage = fields.String(required=True, validate=validate.OneOf(("idea", "early", "growth", "established")))
    kecamatan = fields.String(required=True, validate=validate.OneOf(_KECAMATAN))
    kelurahan = fields.String(
        required=True,
        validate=validate.Length(max=16),
        metadata={"description": "A kelurahan of the kecamatan"},
    )
    needs = fields.List(
        fields.String(validate=validate.OneOf(_SUPPORT)),
        required=True,
        validate=validate.Length(min=1, max=12),
    )
    languages = fields.List(_LANGUAGE, load_default=list, validate=validate.Length(max=10))
    mode = fields.String(load_default="either", validate=validate.OneOf(("offline", "online", "either")))
    availability = _AVAILABILITY
    gender = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(("f", "m")))
    prefers_mentor_gender = fields.String(
        allow_none=True, load_default=None, validate=validate.OneOf(("f", "m"))
    )
    bio = Text(2000, load_default="")


class MentorProfileSchema(ApiSchema):
    """A mentor's profile (``active_count`` and ``paused`` stay the server's)."""

    company = Text(160, allow_none=True, load_default=None)
    sectors = fields.List(
        fields.String(validate=validate.OneOf(_SECTORS)),
        required=True,
        validate=validate.Length(min=1, max=21),
    )
    stages = fields.List(
        fields.String(validate=validate.OneOf(("idea", "early", "growth", "established"))),
        required=True,
        validate=validate.Length(min=1, max=4),
    )
    kecamatan = fields.String(required=True, validate=validate.OneOf(_KECAMATAN))
    expertise = fields.List(
        fields.String(validate=validate.OneOf(_SUPPORT)),
        required=True,
        validate=validate.Length(min=1, max=20),
    )
    capacity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=20))
    languages = fields.List(_LANGUAGE, load_default=list, validate=validate.Length(max=10))
    mode = fields.String(load_default="either", validate=validate.OneOf(("offline", "online", "either")))
    availability = _AVAILABILITY
    gender = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(("f", "m")))
    bio = Text(2000, load_default="")
