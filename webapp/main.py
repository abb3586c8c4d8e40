"""The home page and each role's dashboard."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from matching import reference
from models import Entrepreneur, Mentor, Role
from webapp.access import login_required, public
from webapp.database import get_db
from webapp.services import programme

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def home():
    """The landing page: what JakMentor is, and the way in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("home.html")


@bp.get("/dashboard")
@login_required
def dashboard():
    """What the logged-in person needs first, by role."""
    db = get_db()
    role = current_user.role
    if role is Role.ENTREPRENEUR:
        profile = db.scalar(select(Entrepreneur).where(Entrepreneur.user_id == current_user.id))
        match = programme.active_match_of(db, profile.id) if profile else None
        requests = programme.requests_of_entrepreneur(db, profile.id) if profile else []
        return render_template(
            "dashboard/entrepreneur.html", profile=profile, match=match, requests=requests, ref=reference
        )
    if role is Role.MENTOR:
        profile = db.scalar(select(Mentor).where(Mentor.user_id == current_user.id))
        mentees = programme.mentees_of(db, profile.id) if profile else []
        inbox = programme.requests_for_mentor(db, profile.id) if profile else []
        return render_template(
            "dashboard/mentor.html", profile=profile, mentees=mentees, inbox=inbox, ref=reference
        )
    figures = programme.programme_figures(db)
    return render_template("dashboard/staff.html", figures=figures)
