"""The home page and each role's dashboard."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from matching import reference
from models import Role, User
from webapp import journey_text
from webapp.access import login_required, public
from webapp.database import get_db
from webapp.services import journeys, programme

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
        home = journeys.entrepreneur_home(db, db.get(User, current_user.id))
        if home.profile is None:  # a new entrepreneur starts with the profile wizard
            return redirect(url_for("entrepreneur.wizard", step="business"))
        return render_template("dashboard/entrepreneur.html", home=home, ref=reference, text=journey_text)
    if role is Role.MENTOR:
        home = journeys.mentor_home(db, db.get(User, current_user.id))
        return render_template("dashboard/mentor.html", home=home, ref=reference, text=journey_text)
    figures = programme.programme_figures(db)
    return render_template("dashboard/staff.html", figures=figures)
