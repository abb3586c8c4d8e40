"""Cohort matching by staff: assign the waiting entrepreneurs as draft proposals, then review them.

A run writes one ``draft`` request (origin ``cohort``) per matched entrepreneur and tells nobody;
staff approve (``draft -> pending``: now the mentor is asked), reject (``draft -> rejected``, kept
as a declined example for the model) or swap the mentor of a draft. Every step is a guarded UPDATE
whose row count is checked, with a StatusChange and an AuditLog row. Given the ``version`` of a
proposal the staff member saw, a step is refused (``StaleVersion``, nothing written) when someone
changed the proposal since: two staff reviewing one run cannot overwrite each other (CON-5).

A mentor's places for a run are ``capacity - active mentees - open cohort proposals`` (drafts of
any run and approved proposals still waiting for the mentor): drafts never promise a mentor more
mentees than they have room for. Entrepreneurs' own pending requests do not reserve a place.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, joinedload

from matching import reference
from matching.assignment import assign
from matching.explain import Reason, summary
from matching.profiles import HistoryRecord
from matching.ranking import rank
from matching.scoring import MatchScorer
from models import CohortRun, Entrepreneur, Match, MatchRequest, Mentor, utcnow
from webapp.services import audit, notifications
from webapp.services.adapters import to_entrepreneur, to_mentor
from webapp.services.consent import in_automated_proposals, profile_objected
from webapp.services.errors import Conflict, InvalidInput, NotFound
from webapp.services.mentorship import (
    MAX_OPEN_REQUESTS,
    REJECT_REASONS,
    _log_change,
    matching_history,
    reasons_json,
    refuse_stale,
)
from webapp.services.suggestions import score_pair, why_not

log = logging.getLogger(__name__)

#: Reasons kept with a draft (the strongest first).
REASONS_KEPT = 8
#: How a review table may be sorted (a leading ``-`` sorts descending).
SORTS = ("-score", "score", "kecamatan", "mentor")
_UNMATCHED_TEXT = {
    "mentors_taken": ("mentor yang cocok sudah penuh oleh peserta lain", "suitable mentors filled by others"),
}


# --- places -------------------------------------------------------------------------------------


def reserved_places(db: Session, *, exclude_request_id: int | None = None) -> dict[int, int]:
    """Open cohort proposals (draft or pending) per mentor id: places promised but not yet taken."""
    stmt = (
        select(MatchRequest.mentor_id, func.count())
        .where(MatchRequest.origin == "cohort", MatchRequest.status.in_(("draft", "pending")))
        .group_by(MatchRequest.mentor_id)
    )
    if exclude_request_id is not None:
        stmt = stmt.where(MatchRequest.id != exclude_request_id)
    return {mentor_id: int(n) for mentor_id, n in db.execute(stmt)}


def places_left(mentor: Mentor, reserved: dict[int, int]) -> int:
    """Places a mentor can still be proposed for: free places minus open cohort proposals."""
    return max(0, mentor.free_places - reserved.get(mentor.id, 0))


def _open_mentors(db: Session, reserved: dict[int, int]) -> list[tuple[Mentor, int]]:
    mentors = db.scalars(
        select(Mentor)
        .where(
            Mentor.paused.is_(False),
            Mentor.active_count < Mentor.capacity,
            in_automated_proposals(Mentor),
        )
        .order_by(Mentor.id)
    )
    return [(m, left) for m in mentors if (left := places_left(m, reserved)) > 0]


def _as_profile(mentor: Mentor, left: int):
    """The matching input of a mentor whose free capacity is ``left`` places."""
    return dataclasses.replace(to_mentor(mentor), active_mentees=max(0, mentor.capacity - left))


# --- running a cohort ---------------------------------------------------------------------------


def waiting_entrepreneurs(
    db: Session, *, kota: str | None = None, kecamatan: str | None = None, sector: str | None = None
) -> list[Entrepreneur]:
    """Entrepreneurs with a complete profile, no active mentorship and no open request, by filter
    (never anyone who withdrew consent or objects to automated proposals)."""
    matched = select(Match.entrepreneur_id).where(Match.status == "active")
    asking = select(MatchRequest.entrepreneur_id).where(MatchRequest.status.in_(("draft", "pending")))
    stmt = select(Entrepreneur).where(
        Entrepreneur.profile_complete.is_(True),
        Entrepreneur.id.not_in(matched),
        Entrepreneur.id.not_in(asking),
        in_automated_proposals(Entrepreneur),
    )
    if kota:
        stmt = stmt.where(Entrepreneur.kecamatan_code.like(f"{kota}.%"))
    if kecamatan:
        stmt = stmt.where(Entrepreneur.kecamatan_code == kecamatan)
    if sector:
        stmt = stmt.where(Entrepreneur.sector_code == sector)
    return list(db.scalars(stmt.order_by(Entrepreneur.id)))


def _check_filters(kota: str | None, kecamatan: str | None, sector: str | None) -> None:
    errors = []
    if kota and kota not in reference.kota():
        errors.append(("kota", kota))
    if kecamatan and kecamatan not in reference.kecamatan():
        errors.append(("kecamatan", kecamatan))
    if kecamatan and kota and reference.kota_of(kecamatan) != kota:
        errors.append(("kecamatan", kecamatan))
    if sector and sector not in reference.sectors():
        errors.append(("sector", sector))
    if errors:
        raise InvalidInput(
            "bad_filter", "unknown filter value: " + ", ".join(f"{k}={v}" for k, v in errors), errors
        )


def _scorer_info(scorer: MatchScorer | None) -> dict:
    meta = getattr(scorer, "metadata_", None) or {"source": "prior"}
    return {"source": meta.get("source", "prior"), "trained_at": meta.get("trained_at")}


def run_cohort(
    db: Session,
    *,
    staff_id: int | None,
    kota: str | None = None,
    kecamatan: str | None = None,
    sector: str | None = None,
    fair: bool = False,
    scorer: MatchScorer | None = None,
    history: Sequence[HistoryRecord] | None = None,
) -> CohortRun:
    """Assign the waiting entrepreneurs (by filter) to mentors with places, as draft proposals.

    Parameters
    ----------
    kota, kecamatan, sector : str, optional
        Only entrepreneurs of this kota (``31.71``), kecamatan (``31.71.01``) or KBLI section.
    fair : bool
        Raise the lowest score first (see :func:`matching.assignment.assign`).
    scorer : MatchScorer, optional
        The model to score with; the prior weights when omitted.
    history : sequence of HistoryRecord, optional
        The programme's history for the mentors' record; read from the database when omitted.

    Nobody is notified: the drafts wait for staff review. Raises ``InvalidInput`` for an unknown
    kota, kecamatan or sector.
    """
    kota, kecamatan, sector = (v.strip() if v else None for v in (kota, kecamatan, sector))
    _check_filters(kota, kecamatan, sector)
    if history is None:
        history = matching_history(db)
    now = utcnow()
    run = CohortRun(
        created_by_id=staff_id,
        created_at=now,
        filters={"kota": kota, "kecamatan": kecamatan, "sector": sector, "fair": bool(fair)},
        report={},
    )
    db.add(run)
    db.flush()

    entrepreneurs = waiting_entrepreneurs(db, kota=kota, kecamatan=kecamatan, sector=sector)
    mentors = _open_mentors(db, reserved_places(db))
    e_by_ext = {e.external_id: e for e in entrepreneurs}
    m_by_ext = {m.external_id: m for m, _left in mentors}
    result = assign(
        [to_entrepreneur(e) for e in entrepreneurs],
        [_as_profile(m, left) for m, left in mentors],
        scorer=scorer,
        history=history,
        fair=fair,
    )
    drafts = []
    for row in result.rows:
        if row.mentor_id is None:
            continue
        req = MatchRequest(
            entrepreneur_id=e_by_ext[row.entrepreneur_id].id,
            mentor_id=m_by_ext[row.mentor_id].id,
            origin="cohort",
            status="draft",
            cohort_run_id=run.id,
            score=round(float(row.score), 6),
            reasons=reasons_json(row.reasons),
            created_at=now,
        )
        drafts.append(req)
    db.add_all(drafts)
    db.flush()
    for req in drafts:
        _log_change(
            db, request_id=req.id, old=None, new="draft", actor_id=staff_id, note=f"cohort {run.id}", at=now
        )
    run.report = _report_json(result.report, e_by_ext, m_by_ext, fair=fair, scorer=scorer)
    audit.record(
        db,
        actor_id=staff_id,
        action="cohort.run",
        object_type="cohort_run",
        object_id=run.id,
        after={
            "filters": run.filters,
            "entrepreneurs": len(entrepreneurs),
            "mentors": len(mentors),
            "drafts": len(drafts),
        },
        at=now,
    )
    db.flush()
    log.info("cohort run %d: %d drafts for %d waiting entrepreneurs", run.id, len(drafts), len(entrepreneurs))
    return run


def _report_json(report, e_by_ext: dict, m_by_ext: dict, *, fair: bool, scorer) -> dict:
    """The assignment report in JSON-safe form, with database ids and names."""
    unmatched = []
    groups: Counter[tuple[str, str]] = Counter()
    for ext_id, reasons in report.unmatched.items():
        e = e_by_ext[ext_id]
        first = reasons[0] if reasons else Reason("no_mentors")
        groups[(first.code, first.values.get("why", ""))] += 1
        unmatched.append(
            {
                "entrepreneur_id": e.id,
                "name": e.name,
                "kecamatan": e.kecamatan_code,
                "reasons": reasons_json(reasons),
            }
        )
    by_reason = []
    for (code, why), count in groups.most_common():
        if code in _UNMATCHED_TEXT:
            text_id, text_en = _UNMATCHED_TEXT[code]
        else:
            r = Reason(code, (("why", why),) if why else ())
            text_id, text_en = r.text("id"), r.text("en")
        by_reason.append({"code": code, "why": why or None, "count": count, "id": text_id, "en": text_en})
    load = [
        {"mentor_id": m_by_ext[ext].id, "name": m_by_ext[ext].name, "assigned": int(a), "places": int(f)}
        for ext, (a, f) in report.mentor_load.items()
    ]
    return {
        "entrepreneurs": report.entrepreneurs,
        "matched": report.matched,
        "matched_share": round(report.matched_share, 4),
        "mean_score": None if report.mean_score is None else round(report.mean_score, 4),
        "lowest_score": None if report.lowest_score is None else round(report.lowest_score, 4),
        "mentors": len(load),
        "mentors_used": sum(1 for x in load if x["assigned"]),
        "mentors_filled": sum(1 for x in load if x["places"] and x["assigned"] >= x["places"]),
        "mentor_load": sorted(load, key=lambda x: (-x["assigned"], x["name"])),
        "unmatched": unmatched,
        "unmatched_by_reason": by_reason,
        "certified": bool(report.certified),
        "fair": bool(fair),
        "scorer": _scorer_info(scorer),
    }


# --- review -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    """A cohort run (without its report) with how many it matched and its proposals counted by status."""

    run: CohortRun
    counts: dict[str, int]
    matched: int = 0
    entrepreneurs: int = 0


def list_runs(db: Session, *, limit: int = 50) -> list[RunSummary]:
    """The latest runs, newest first, each with its proposals counted by status.

    A run's report lists every proposal (tens of kilobytes for a city-wide run); the list shows
    two of its figures, so the database extracts those and the report itself is not loaded.
    """
    rows = db.execute(
        select(CohortRun, _REPORT_MATCHED, _REPORT_ENTREPRENEURS)
        .options(defer(CohortRun.report, raiseload=True))
        .order_by(CohortRun.id.desc())
        .limit(limit)
    ).all()
    counts: dict[int, dict[str, int]] = {run.id: {} for run, _m, _e in rows}
    if rows:
        for run_id, status, n in db.execute(
            select(MatchRequest.cohort_run_id, MatchRequest.status, func.count())
            .where(MatchRequest.cohort_run_id.in_(counts))
            .group_by(MatchRequest.cohort_run_id, MatchRequest.status)
        ):
            counts[run_id][status] = int(n)
    return [RunSummary(run, counts[run.id], int(m or 0), int(e or 0)) for run, m, e in rows]


_REPORT_MATCHED = CohortRun.report["matched"].as_integer()
_REPORT_ENTREPRENEURS = CohortRun.report["entrepreneurs"].as_integer()


def get_run(db: Session, run_id: int) -> CohortRun:
    """A run by id; ``NotFound`` when there is none."""
    run = db.get(CohortRun, run_id)
    if run is None:
        raise NotFound("cohort_run_not_found", "no such cohort run")
    return run


@dataclass(frozen=True)
class ReviewPage:
    """One page of a run's proposals, with the counts by status and the kecamatan present."""

    rows: list[MatchRequest]
    total: int
    page: int
    pages: int
    counts: dict[str, int]
    kecamatan: list[str]


def review_page(
    db: Session,
    run_id: int,
    *,
    status: str | None = None,
    kecamatan: str | None = None,
    sort: str = "-score",
    page: int = 1,
    per_page: int = 100,
) -> ReviewPage:
    """The proposals of a run, filtered by status and entrepreneur's kecamatan, sorted, paginated.

    The rows' entrepreneurs and mentors are loaded with the columns the review page shows (name,
    business, kecamatan; name, company); any other attribute is read when first used.
    """
    base = select(MatchRequest).where(MatchRequest.cohort_run_id == run_id)
    counts = {
        s: int(n)
        for s, n in db.execute(
            select(MatchRequest.status, func.count())
            .where(MatchRequest.cohort_run_id == run_id)
            .group_by(MatchRequest.status)
        )
    }
    present = sorted(
        db.scalars(
            select(Entrepreneur.kecamatan_code)
            .join(MatchRequest, MatchRequest.entrepreneur_id == Entrepreneur.id)
            .where(MatchRequest.cohort_run_id == run_id)
            .distinct()
        )
    )
    stmt = base.join(Entrepreneur, Entrepreneur.id == MatchRequest.entrepreneur_id).join(
        Mentor, Mentor.id == MatchRequest.mentor_id
    )
    if status:
        stmt = stmt.where(MatchRequest.status == status)
    if kecamatan:
        stmt = stmt.where(Entrepreneur.kecamatan_code == kecamatan)
    order = {
        "-score": (MatchRequest.score.desc(), MatchRequest.id),
        "score": (MatchRequest.score.asc(), MatchRequest.id),
        "kecamatan": (Entrepreneur.kecamatan_code, MatchRequest.score.desc(), MatchRequest.id),
        "mentor": (Mentor.name, Mentor.id, MatchRequest.score.desc(), MatchRequest.id),
    }.get(sort, (MatchRequest.score.desc(), MatchRequest.id))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, (total + per_page - 1) // per_page)
    page = min(max(1, page), pages)
    rows = list(
        db.scalars(
            stmt.options(
                # The columns the page shows: whole rows cost a JSON decode per profile field.
                joinedload(MatchRequest.entrepreneur).load_only(
                    Entrepreneur.name, Entrepreneur.business_name, Entrepreneur.kecamatan_code
                ),
                joinedload(MatchRequest.mentor).load_only(Mentor.name, Mentor.company),
            )
            .order_by(*order)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return ReviewPage(rows, total, page, pages, counts, present)


@dataclass(frozen=True)
class Alternative:
    """Another mentor a draft could go to: the mentor, the pair's score and reasons."""

    mentor: Mentor
    score: float
    reasons: tuple[Reason, ...]


def alternatives(
    db: Session,
    requests: Iterable[MatchRequest],
    *,
    top: int = 3,
    scorer: MatchScorer | None = None,
    history: Sequence[HistoryRecord] | None = None,
) -> dict[int, list[Alternative]]:
    """The best ``top`` other mentors with a place left for each draft, by request id.

    The suggestions are ranked as an entrepreneur's suggestions are, over the mentors who still
    have a place once every open cohort proposal is counted.
    """
    drafts = [r for r in requests if r.status == "draft"]
    if not drafts:
        return {}
    if history is None:
        history = matching_history(db)
    mentors = _open_mentors(db, reserved_places(db))
    out: dict[int, list[Alternative]] = {r.id: [] for r in drafts}
    if not mentors:
        return out
    m_by_ext = {m.external_id: m for m, _left in mentors}
    by_entrepreneur = {r.entrepreneur.external_id: r for r in drafts}
    # The draft's own mentor and every mentor the entrepreneur has an open request to: swap refuses them.
    asked = set(
        db.execute(
            select(MatchRequest.entrepreneur_id, MatchRequest.mentor_id).where(
                MatchRequest.entrepreneur_id.in_([r.entrepreneur_id for r in drafts]),
                MatchRequest.status.in_(("draft", "pending")),
            )
        ).all()
    )
    ranked = rank(
        [to_entrepreneur(r.entrepreneur) for r in drafts],
        [_as_profile(m, left) for m, left in mentors],
        scorer=scorer,
        history=history,
        top=top + 1 + MAX_OPEN_REQUESTS,
    )
    for s in ranked:
        req = by_entrepreneur[s.entrepreneur_id]
        mentor = m_by_ext[s.mentor_id]
        if (req.entrepreneur_id, mentor.id) not in asked and len(out[req.id]) < top:
            out[req.id].append(Alternative(mentor, s.score, summary(s.reasons, limit=REASONS_KEPT)))
    return out


# --- staff decisions ----------------------------------------------------------------------------


def _move(
    db: Session,
    request_id: int,
    old: str,
    new: str,
    *,
    run_id: int | None = None,
    version: int | None = None,
    **values,
) -> bool:
    """Move a cohort proposal from ``old`` to ``new`` if (and only if) it is still in ``old`` (and at ``version``)."""
    where = [MatchRequest.id == request_id, MatchRequest.status == old, MatchRequest.origin == "cohort"]
    if run_id is not None:
        where.append(MatchRequest.cohort_run_id == run_id)
    if version is not None:
        where.append(MatchRequest.version == version)
    result = db.execute(
        update(MatchRequest)
        .where(*where)
        .values(status=new, version=MatchRequest.version + 1, **values)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def _proposal(db: Session, request_id: int, run_id: int | None = None) -> MatchRequest:
    req = db.get(MatchRequest, request_id)
    if req is None or req.origin != "cohort" or (run_id is not None and req.cohort_run_id != run_id):
        raise NotFound("proposal_not_found", "no such cohort proposal")
    return req


def _not_draft(
    db: Session, request_id: int, run_id: int | None = None, version: int | None = None
) -> Conflict:
    """Why a step on a proposal did nothing: not found, changed since ``version``, or not a draft any more."""
    req = _proposal(db, request_id, run_id)
    db.refresh(req)
    refuse_stale(req, version)
    return Conflict(
        "proposal_not_draft",
        f"proposal {request_id} is already {req.status}",
        status=req.status,
        request_id=request_id,
    )


def approve(
    db: Session,
    staff_id: int | None,
    request_ids: Iterable[int],
    *,
    run_id: int | None = None,
    versions: Mapping[int, int] | None = None,
) -> int:
    """Send draft proposals to their mentors (``draft -> pending``); returns how many were sent.

    Mentor and entrepreneur are notified (``proposal_approved``). Raises ``Conflict``
    (``proposal_not_draft``) when any of them is no longer a draft, ``StaleVersion`` when one has
    changed since the version ``versions`` gives for it (ids missing there are not checked), and
    ``NotFound`` when one is not a cohort proposal (of ``run_id``, when given); the caller then
    rolls back, so a bulk approval is all or nothing.
    """
    ids = sorted({int(i) for i in request_ids})
    versions = versions or {}
    now = utcnow()
    for request_id in ids:
        version = versions.get(request_id)
        if not _move(db, request_id, "draft", "pending", run_id=run_id, version=version, sent_at=now):
            raise _not_draft(db, request_id, run_id, version)
        req = db.get(MatchRequest, request_id)
        _log_change(db, request_id=request_id, old="draft", new="pending", actor_id=staff_id, at=now)
        audit.record(
            db,
            actor_id=staff_id,
            action="proposal.approve",
            object_type="match_request",
            object_id=request_id,
            before={"status": "draft"},
            after={"status": "pending", "sent_at": now.isoformat(timespec="seconds")},
            at=now,
        )
        for person in (req.mentor, req.entrepreneur):
            if person is not None and person.user_id:
                notifications.notify(db, person.user_id, "proposal_approved", request_id=request_id)
    db.flush()
    return len(ids)


def draft_ids(db: Session, run_id: int) -> list[int]:
    """The ids of a run's proposals still in draft."""
    return list(
        db.scalars(
            select(MatchRequest.id)
            .where(MatchRequest.cohort_run_id == run_id, MatchRequest.status == "draft")
            .order_by(MatchRequest.id)
        )
    )


def reject(
    db: Session,
    staff_id: int | None,
    request_id: int,
    reason: str,
    note: str | None = None,
    *,
    run_id: int | None = None,
    version: int | None = None,
) -> MatchRequest:
    """Reject a draft with a reason from ``REJECT_REASONS`` (plus a note); nobody is notified.

    The rejected proposal stays as a declined example in the model's history. ``StaleVersion``
    when ``version`` is given and the proposal has changed since.
    """
    if reason not in REJECT_REASONS:
        raise InvalidInput("bad_reason", f"reason must be one of {', '.join(REJECT_REASONS)}")
    note = (note or "").strip()[:1000] or None
    now = utcnow()
    if not _move(
        db,
        request_id,
        "draft",
        "rejected",
        run_id=run_id,
        version=version,
        responded_at=now,
        response_reason=reason,
        response_note=note,
    ):
        raise _not_draft(db, request_id, run_id, version)
    _log_change(
        db, request_id=request_id, old="draft", new="rejected", actor_id=staff_id, note=reason, at=now
    )
    audit.record(
        db,
        actor_id=staff_id,
        action="proposal.reject",
        object_type="match_request",
        object_id=request_id,
        before={"status": "draft"},
        after={"status": "rejected", "reason": reason, "note": note},
        at=now,
    )
    db.flush()
    return _proposal(db, request_id)


def swap(
    db: Session,
    staff_id: int | None,
    request_id: int,
    new_mentor_id: int,
    *,
    run_id: int | None = None,
    scorer: MatchScorer | None = None,
    history: Sequence[HistoryRecord] | None = None,
    version: int | None = None,
) -> MatchRequest:
    """Give a draft another mentor who meets every requirement and has a place left; rescore it.

    Raises ``Conflict`` (``proposal_not_draft``, ``mentor_not_available`` with the reasons,
    ``mentor_objected`` when the mentor objects to automated proposals,
    ``mentor_full`` when the mentor's places are all promised), ``StaleVersion`` (``version`` given
    and the proposal changed since) or ``NotFound``.
    """
    req = _proposal(db, request_id, run_id)
    refuse_stale(req, version)
    if req.status != "draft":
        raise _not_draft(db, request_id, run_id)
    old_mentor_id, old_score = req.mentor_id, req.score
    if new_mentor_id == old_mentor_id:
        raise InvalidInput("same_mentor", "the proposal already has this mentor")
    mentor = db.get(Mentor, new_mentor_id)
    if mentor is None:
        raise NotFound("mentor_not_found", "no such mentor")
    if profile_objected(mentor):
        raise Conflict(
            "mentor_objected", "this mentor objects to automated proposals; entrepreneurs ask them directly"
        )
    entrepreneur = req.entrepreneur
    excluded = why_not(entrepreneur, mentor)
    if excluded:
        raise Conflict("mentor_not_available", excluded[0].text("en"), reasons=reasons_json(excluded))
    if places_left(mentor, reserved_places(db, exclude_request_id=request_id)) <= 0:
        raise Conflict("mentor_full", "every place of this mentor is already proposed to someone")
    if history is None:
        history = matching_history(db)
    score, reasons = score_pair(db, entrepreneur, mentor, scorer=scorer, history=history)
    kept = reasons_json(summary(reasons, limit=REASONS_KEPT))
    try:
        with db.begin_nested():
            result = db.execute(
                update(MatchRequest)
                .where(
                    MatchRequest.id == request_id,
                    MatchRequest.status == "draft",
                    MatchRequest.mentor_id == old_mentor_id,
                    MatchRequest.version == version if version is not None else true(),
                )
                .values(
                    mentor_id=mentor.id, score=round(score, 6), reasons=kept, version=MatchRequest.version + 1
                )
                .execution_options(synchronize_session="fetch")
            )
    except IntegrityError:
        raise Conflict(
            "already_requested", "the entrepreneur already has an open request to this mentor"
        ) from None
    if result.rowcount != 1:
        raise _not_draft(db, request_id, run_id, version)
    now = utcnow()
    _log_change(
        db,
        request_id=request_id,
        old="draft",
        new="draft",
        actor_id=staff_id,
        note=f"mentor {old_mentor_id} -> {mentor.id}",
        at=now,
    )
    audit.record(
        db,
        actor_id=staff_id,
        action="proposal.swap",
        object_type="match_request",
        object_id=request_id,
        before={"mentor_id": old_mentor_id, "score": old_score},
        after={"mentor_id": mentor.id, "score": round(score, 6)},
        at=now,
    )
    db.flush()
    db.expire(req)
    db.refresh(req)
    return req
