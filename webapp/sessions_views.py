"""Weekly sessions in the browser: people answer and rate them, staff oversee the week; calendar files."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from matching import reference
from matching.schedule import parse_iso_week
from models import MentoringSession, Role, Room, User, utcnow
from webapp.access import login_required, public, roles
from webapp.database import get_db, intend_to_write
from webapp.services import access_log, calendar, sessions
from webapp.services.errors import NotFound, ServiceError

bp = Blueprint("sessions", __name__)
PEOPLE = (Role.ENTREPRENEUR, Role.MENTOR)
STAFF_TIME_LIMIT = 3.0
#: The session states the staff week lists, in order (cancelled sessions are not shown).
STAFF_WEEK_STATUSES = ("proposed", "confirmed", "declined", "held", "missed")


# --- texts --------------------------------------------------------------------------------------------


def status_names() -> dict[str, str]:
    """Session states as people read them."""
    return {
        "proposed": _("diusulkan"),
        "confirmed": _("dikonfirmasi"),
        "declined": _("ditolak"),
        "cancelled": _("dibatalkan"),
        "held": _("terlaksana"),
        "missed": _("tidak terlaksana"),
    }


def error_text(exc: ServiceError) -> str:
    """A service refusal in the reader's language."""
    texts = {
        "session_not_open": _("Sesi ini sudah tidak menunggu jawaban."),
        "session_not_held": _("Sesi ini tidak berlangsung."),
        "session_not_started": _("Masukan dapat diberikan setelah sesi dimulai."),
        "feedback_exists": _("Anda sudah memberi masukan untuk sesi ini."),
        "bad_rating": _("Nilai harus 1 sampai 5."),
        "bad_area": _("Bidang yang dipilih tidak dikenal."),
        "room_not_found": _("Ruangan tidak ditemukan."),
        "room_closed": _("Ruangan tidak buka pada waktu itu."),
        "room_full": _("Ruangan penuh pada waktu itu."),
        "mode_online_only": _("Salah satu dari mereka hanya bertemu daring."),
        "mode_offline_only": _("Salah satu dari mereka hanya bertemu tatap muka."),
        "person_busy": _("Salah satu dari mereka sudah punya sesi lain pada waktu itu."),
        "week_taken": _("Pasangan ini sudah punya sesi di minggu itu."),
    }
    return texts.get(exc.code, exc.message)


def unplaced_text(code: str, params: dict | None = None) -> str:
    """Why a pair got no session, in the reader's language (codes of ``matching.schedule.REASONS``)."""
    p = params or {}
    texts = {
        "incompatible_modes": _("yang satu hanya tatap muka, yang lain hanya daring"),
        "no_common_time": _(
            "tidak ada waktu luang bersama selama %(minutes)s menit dalam jadwal mingguan mereka",
            minutes=p.get("minutes", sessions.SESSION_MINUTES),
        ),
        "holiday_week": _(
            "semua waktu luang bersama jatuh pada hari libur (%(holidays)s)", holidays=p.get("holidays", "")
        ),
        "friday_prayer": _("satu-satunya waktu luang bersama bertabrakan dengan salat Jumat (11.30-13.00)"),
        "no_time_left": _("semua waktu luang bersama sudah terisi atau sudah ditolak"),
        "no_room_nearby": _("mereka hanya bertemu tatap muka dan tidak ada ruangan di kecamatan mereka"),
        "room_closed": _("tidak ada ruangan di kecamatan mereka yang buka pada waktu luang bersama"),
        "rooms_full": _("semua ruangan di kecamatan mereka penuh pada waktu luang bersama"),
        "person_busy": _("pada semua waktu luang bersama salah satu dari mereka ada sesi lain"),
        "no_free_slot": _("pada semua waktu luang bersama ruangan penuh atau salah satu ada sesi lain"),
    }
    return texts.get(code, sessions.reason_text(code, p))


def when_text(moment: dt.datetime) -> str:
    """A session time as people read it, in Jakarta time."""
    return format_datetime(moment, "EEEE, d MMMM y, HH:mm") + " WIB"


def _other_name(row: MentoringSession, side: str) -> str:
    return row.match.mentor.name if side == "entrepreneur" else row.match.entrepreneur.name


def _place(db, row: MentoringSession) -> tuple[str | None, Room | None]:
    room = db.get(Room, row.room_id) if row.room_id else None
    if room is None:
        return None, None
    return ", ".join(p for p in (room.name, room.address) if p), room


# --- forms --------------------------------------------------------------------------------------------


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class DeclineForm(FlaskForm):
    note = TextAreaField(_l("Alasan (tidak wajib)"), validators=[Optional(), Length(max=1000)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _happened_choices():
    return [
        SelectChoice("yes", _l("Ya, sesi berlangsung")),
        SelectChoice("no", _l("Tidak, sesi tidak berlangsung")),
    ]


def _rating_choices():
    return [SelectChoice(str(n), str(n)) for n in range(1, 6)]


def _area_choices():
    lang = g.get("lang", "id")
    return [SelectChoice(t.code, t.name(lang)) for t in reference.support_areas().values()]


class FeedbackForm(FlaskForm):
    happened = RadioField(
        _l("Apakah sesi berlangsung?"), choices=_happened_choices, validators=[InputRequired()]
    )
    rating = RadioField(
        _l("Nilai sesi (1 = buruk, 5 = sangat baik)"), choices=_rating_choices, validators=[Optional()]
    )
    areas = MultiCheckboxField(_l("Bidang yang dibahas"), choices=_area_choices, validators=[Optional()])
    note = TextAreaField(_l("Catatan"), validators=[Optional(), Length(max=2000)])


class ProposeForm(FlaskForm):
    week = StringField(_l("Minggu (ISO)"), validators=[DataRequired(), Length(max=10)])


class MoveForm(FlaskForm):
    day = DateField(_l("Tanggal"), validators=[InputRequired()])
    start = TimeField(_l("Jam mulai (WIB)"), validators=[InputRequired()])
    room = SelectField(_l("Tempat"), validators=[Optional()])


# --- people -------------------------------------------------------------------------------------------


def _me(db) -> User:
    return db.get(User, current_user.id)


@bp.get("/sessions")
@roles(*PEOPLE)
def index():
    """The person's sessions: upcoming ones to answer, recent ones to give feedback on."""
    db = get_db()
    me = _me(db)
    now = utcnow()
    rows = sessions.sessions_of(db, me, since=now - dt.timedelta(days=14))
    given = sessions.feedback_of(db, me, [r.id for r in rows])
    items = []
    for row in rows:
        side = "entrepreneur" if row.match.entrepreneur.user_id == me.id else "mentor"
        place, _room = _place(db, row)
        mine = row.entrepreneur_confirmed if side == "entrepreneur" else row.mentor_confirmed
        items.append(
            {
                "row": row,
                "when": when_text(row.starts_at),
                "other": _other_name(row, side),
                "place": place,
                "i_confirmed": mine,
                "open": row.status in sessions.OPEN_STATES and row.starts_at > now,
                "feedback_due": row.starts_at <= now
                and row.status not in ("declined", "cancelled")
                and row.id not in given,
            }
        )
    upcoming = [i for i in items if i["row"].ends_at > now]
    past = [i for i in items if i["row"].ends_at <= now]
    return render_template(
        "sessions/index.html",
        upcoming=upcoming,
        past=past,
        statuses=status_names(),
        action=ActionForm(),
        decline_form=DeclineForm(),
    )


def _answer(session_id: int, work) -> Response:
    db = get_db()
    try:
        message = work(db, _me(db))
    except NotFound:
        db.rollback()
        abort(404)
    except ServiceError as exc:
        db.rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("sessions.index"), code=303)
    db.commit()
    flash(message, "success")
    return redirect(url_for("sessions.index"), code=303)


@bp.post("/sessions/<int:session_id>/confirm")
@roles(*PEOPLE)
def confirm(session_id: int):
    """Confirm a proposed session."""
    if not ActionForm().validate_on_submit():
        abort(400)

    def work(db, me):
        row = sessions.confirm(db, me, session_id)
        if row.status == "confirmed":
            return _("Sesi dikonfirmasi oleh kedua pihak.")
        return _("Terima kasih. Menunggu konfirmasi pihak lain.")

    return _answer(session_id, work)


@bp.post("/sessions/<int:session_id>/decline")
@roles(*PEOPLE)
def decline(session_id: int):
    """Decline a session (with an optional note)."""
    form = DeclineForm()
    if not form.validate_on_submit():
        abort(400)

    def work(db, me):
        sessions.decline(db, me, session_id, form.note.data)
        return _("Sesi ditolak.")

    return _answer(session_id, work)


@bp.post("/sessions/<int:session_id>/another-time")
@roles(*PEOPLE)
def another_time(session_id: int):
    """Ask for another time in the same week."""
    if not ActionForm().validate_on_submit():
        abort(400)

    def work(db, me):
        result = sessions.ask_another_time(db, me, session_id, time_limit=STAFF_TIME_LIMIT)
        if result.moved:
            return _("Waktu baru diusulkan: %(when)s.", when=when_text(result.session.starts_at))
        return _(
            "Tidak ada waktu lain yang cocok minggu ini, jadi sesi ini dibatalkan: %(reason)s.",
            reason=unplaced_text(result.code or "", {}),
        )

    return _answer(session_id, work)


@bp.route("/sessions/<int:session_id>/feedback", methods=["GET", "POST"])
@roles(*PEOPLE)
def feedback(session_id: int):
    """How did the session go: did it happen, a rating, what was worked on, a note."""
    db = get_db()
    me = _me(db)
    try:
        row, side = sessions.session_for(db, me, session_id)
    except NotFound:
        abort(404)
    form = FeedbackForm()
    if form.validate_on_submit():
        happened = form.happened.data == "yes"
        rating = int(form.rating.data) if form.rating.data and happened else None
        try:
            sessions.record_feedback(db, me, row.id, happened, rating, form.areas.data or [], form.note.data)
        except ServiceError as exc:
            db.rollback()
            flash(error_text(exc), "error")
            return redirect(url_for("sessions.index"), code=303)
        db.commit()
        flash(_("Terima kasih atas masukan Anda."), "success")
        return redirect(url_for("sessions.index"), code=303)
    return render_template(
        "sessions/feedback.html",
        form=form,
        row=row,
        when=when_text(row.starts_at),
        other=_other_name(row, side),
    ), (422 if request.method == "POST" else 200)


# --- calendar -----------------------------------------------------------------------------------------


def _entry(db, row: MentoringSession, user_id: int) -> calendar.CalendarEntry:
    side = "entrepreneur" if row.match.entrepreneur.user_id == user_id else "mentor"
    other = _other_name(row, side)
    place, _room = _place(db, row)
    if row.mode == "online":
        location = row.video_url
        where = _("Daring: %(url)s", url=row.video_url or "")
    else:
        location = place
        where = _("Tempat: %(place)s", place=place or "")
    description = "\n".join(
        [
            _("Sesi mentoring JakMentor dengan %(name)s.", name=other),
            where,
            _("Status: %(status)s", status=status_names().get(row.status, row.status)),
        ]
    )
    return calendar.CalendarEntry(
        session_id=row.id,
        start=row.starts_at,
        end=row.ends_at,
        summary=_("Sesi mentoring dengan %(name)s", name=other),
        description=description,
        location=location,
        url=row.video_url if row.mode == "online" else None,
        status=row.status,
        updated=row.created_at,
    )


def _ics_response(body: bytes, filename: str) -> Response:
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/sessions/<int:session_id>.ics")
@roles(*PEOPLE)
def session_ics(session_id: int):
    """One session as a calendar file (its participants only)."""
    db = get_db()
    me = _me(db)
    try:
        row, _side = sessions.session_for(db, me, session_id)
    except NotFound:
        abort(404)
    return _ics_response(calendar.build_ics([_entry(db, row, me.id)]), f"jakmentor-session-{row.id}.ics")


@bp.get("/calendar/<token>.ics")
@public
def feed(token: str):
    """A person's private calendar feed: the secret in the URL is the only key."""
    db = get_db()
    user = calendar.user_for_feed_token(db, token)
    if user is None:
        abort(404)
    with force_locale(user.locale if user.locale in ("id", "en") else "id"):
        entries = [_entry(db, row, user.id) for row in calendar.feed_sessions(db, user)]
        body = calendar.build_ics(entries, name=_("Sesi JakMentor"))
    return _ics_response(body, "jakmentor.ics")


@bp.get("/me/calendar")
@login_required
def calendar_settings():
    """The private feed: create (shown once), replace, or revoke it."""
    db = get_db()
    return render_template(
        "sessions/calendar.html",
        has_feed=_me(db).calendar_token_hash is not None,
        url=None,
        form=ActionForm(),
    )


@bp.post("/me/calendar/create")
@login_required
def calendar_create():
    """Create (or replace) the feed and show its URL this once."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db()
    token = calendar.create_feed_token(db, _me(db))
    db.commit()
    url = url_for("sessions.feed", token=token, _external=True)
    return render_template("sessions/calendar.html", has_feed=True, url=url, form=ActionForm())


@bp.post("/me/calendar/revoke")
@login_required
def calendar_revoke():
    """Turn the feed off; its URL stops working."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db()
    calendar.revoke_feed_token(db, _me(db))
    db.commit()
    flash(_("Tautan kalender dicabut; tautan lama tidak berlaku lagi."), "success")
    return redirect(url_for("sessions.calendar_settings"), code=303)


# --- staff --------------------------------------------------------------------------------------------


def _week_arg(text: str | None) -> dt.date:
    if not text:
        return sessions.upcoming_monday(utcnow())
    try:
        return parse_iso_week(text)
    except ValueError:
        abort(404)


def _row_view(db, row: MentoringSession) -> dict:
    """Plain values of a session for the staff tables (they outlive a rolled-back preview)."""
    place, _room = _place(db, row)
    return {
        "id": row.id,
        "status": row.status,
        "e_ok": row.entrepreneur_confirmed,
        "m_ok": row.mentor_confirmed,
        "when": when_text(row.starts_at),
        "entrepreneur": row.match.entrepreneur.name,
        "mentor": row.match.mentor.name,
        "entrepreneur_id": row.match.entrepreneur_id,
        "mentor_id": row.match.mentor_id,
        "place": place or (row.video_url if row.mode == "online" else ""),
    }


def _log_read(db, shown: list[dict]) -> None:
    """Record the people of the pairs shown to the current staff member (one access-log row), and commit."""
    access_log.record_read(
        db,
        actor_id=current_user.id,
        endpoint=request.endpoint,
        entrepreneurs=[p["entrepreneur_id"] for p in shown if p.get("entrepreneur_id") is not None],
        mentors=[p["mentor_id"] for p in shown if p.get("mentor_id") is not None],
    )
    db.commit()


@bp.get("/staff/sessions")
@roles(Role.STAFF)
def staff_week():
    """The week's proposed, confirmed and declined sessions and the unplaced pairs with reasons."""
    intend_to_write()  # before the first query: the page writes its access-log row
    db = get_db()
    monday = _week_arg(request.args.get("week"))
    return _render_week(db, monday)


def _unplaced_view(db, item: dict) -> dict:
    return {**item, "text": unplaced_text(item["code"], item.get("params")), **_pair(db, item)}


def _render_week(db, monday: dt.date, preview: dict | None = None, status: int = 200):
    """The staff week (with a preview when given); the people on it are recorded in the access log."""
    overview = sessions.week_overview(db, monday)
    groups = {k: [_row_view(db, r) for r in v] for k, v in overview.sessions.items()}
    unplaced = [_unplaced_view(db, u) for u in overview.unplaced]
    flagged = sessions.flagged_pairs(db)
    declined = {
        sid: unplaced_text(r["reason"], r.get("params"))
        if r.get("reason") != "declined"
        else (r.get("note") or "")
        for sid, r in overview.declined_reasons.items()
    }
    shown = [i for s in STAFF_WEEK_STATUSES for i in groups.get(s, [])] + unplaced
    shown += [{"entrepreneur_id": f.entrepreneur_id, "mentor_id": f.mentor_id} for f in flagged]
    if preview:
        shown += preview["sessions"] + preview["unplaced"]
    _log_read(db, shown)
    return render_template(
        "sessions/staff_week.html",
        overview=overview,
        groups=groups,
        shown_statuses=STAFF_WEEK_STATUSES,
        unplaced=unplaced,
        declined=declined,
        flagged=flagged,
        statuses=status_names(),
        label=sessions.week_label(monday),
        prev_week=sessions.week_label(monday - dt.timedelta(days=7)),
        next_week=sessions.week_label(monday + dt.timedelta(days=7)),
        form=ProposeForm(week=sessions.week_label(monday)),
        preview=preview,
    ), status


def _pair(db, item: dict) -> dict:
    """The names (``names``) and profile ids of an unplaced pair."""
    from models import Match

    match = db.get(Match, item["match_id"])
    if match is None:
        return {"names": ""}
    return {
        "names": f"{match.entrepreneur.name} / {match.mentor.name}",
        "entrepreneur_id": match.entrepreneur_id,
        "mentor_id": match.mentor_id,
    }


@bp.post("/staff/sessions/propose")
@roles(Role.STAFF)
def staff_propose():
    """Preview (nothing kept) or propose the week now (once per week, as the scheduler would)."""
    form = ProposeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        monday = parse_iso_week(form.week.data)
    except ValueError:
        flash(_("Minggu tidak valid; tulis seperti 2026-W49."), "error")
        return redirect(url_for("sessions.staff_week"), code=303)
    dry_run = request.form.get("action") != "propose"
    db = get_db()
    limit = float(current_app.config.get("SESSION_PROPOSAL_TIME_LIMIT", STAFF_TIME_LIMIT))
    try:
        run = sessions.propose_sessions_for_week(db, monday, time_limit=min(limit, STAFF_TIME_LIMIT))
    except ServiceError as exc:  # e.g. a person booked at the same start by another transaction
        db.rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("sessions.staff_week", week=sessions.week_label(monday)), code=303)
    if run.status != "done":
        db.rollback()
        message = (
            _("Minggu ini sudah diusulkan sebelumnya; tidak ada yang berubah.")
            if run.status == "already_done"
            else _("Usulan minggu ini sedang dibuat oleh proses lain; coba lagi sebentar lagi.")
        )
        flash(message, "error")
        return redirect(url_for("sessions.staff_week", week=sessions.week_label(monday)), code=303)
    if not dry_run:
        db.commit()
        flash(
            _("%(n)d sesi diusulkan untuk %(week)s.", n=run.proposed, week=sessions.week_label(monday)),
            "success",
        )
        return redirect(url_for("sessions.staff_week", week=sessions.week_label(monday)), code=303)
    rows = db.scalars(select(MentoringSession).where(MentoringSession.id.in_(run.session_ids))).all()
    preview = {
        "sessions": [_row_view(db, r) for r in sorted(rows, key=lambda r: r.starts_at)],
        "unplaced": [_unplaced_view(db, u) for u in run.unplaced],
        "due": run.due,
    }
    db.rollback()
    return _render_week(db, monday, preview)


def _room_choices(db) -> list[SelectChoice]:
    return [SelectChoice("", _("Daring (tautan video)"))] + [
        SelectChoice(r.id, f"{r.name} ({r.kecamatan_code})")
        for r in db.scalars(select(Room).order_by(Room.name))
    ]


@bp.route("/staff/sessions/<int:session_id>/move", methods=["GET", "POST"])
@roles(Role.STAFF)
def staff_move(session_id: int):
    """Move a session to another time or place; the room, the hours and both people are checked."""
    if request.method == "GET":
        intend_to_write()  # before the first query: the page writes its access-log row
    db = get_db()
    row = db.get(MentoringSession, session_id)
    if row is None:
        abort(404)
    local = sessions.wib(row.starts_at)
    form = MoveForm(
        data=None
        if request.method == "POST"
        else {"day": local.date(), "start": local.time(), "room": row.room_id or ""}
    )
    form.room.choices = _room_choices(db)
    if form.validate_on_submit():
        new_start = dt.datetime.combine(form.day.data, form.start.data, tzinfo=sessions.WIB)
        try:
            sessions.move_session(db, current_user.id, row.id, new_start, form.room.data or None)
        except ServiceError as exc:
            db.rollback()
            form.room.errors = [*form.room.errors, error_text(exc)]
            return render_template(
                "sessions/move.html",
                form=form,
                item=_row_view(db, row),
                week=sessions.week_label(row.week_start),
            ), 422
        db.commit()
        flash(_("Sesi dipindahkan; kedua pihak diberi tahu."), "success")
        return redirect(url_for("sessions.staff_week", week=sessions.week_label(row.week_start)), code=303)
    item = _row_view(db, row)
    if request.method == "GET":
        _log_read(db, [item])
    return render_template(
        "sessions/move.html", form=form, item=item, week=sessions.week_label(row.week_start)
    ), (422 if request.method == "POST" else 200)
