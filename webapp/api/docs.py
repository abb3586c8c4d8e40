"""The API's OpenAPI document and its interactive docs (Swagger UI served from our own origin)."""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, abort, current_app, jsonify, render_template, send_from_directory, url_for
from flask_login import current_user

from models import Role
from webapp.access import public

bp = Blueprint("api_docs", __name__)

#: The Swagger UI files the docs page loads, shipped by the flask-swagger-ui package (no CDN).
SWAGGER_UI_ASSETS = frozenset(
    {
        "swagger-ui.css",
        "index.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
)


def _docs_open() -> None:
    """Answer 404 unless the docs are public here (API_DOCS_PUBLIC) or the caller is staff."""
    if current_app.config.get("API_DOCS_PUBLIC", True):
        return
    if getattr(current_user, "is_authenticated", False) and current_user.role in (Role.STAFF, Role.ADMIN):
        return
    abort(404)


def swagger_ui_dist() -> str:
    """The folder of Swagger UI's built files inside the installed flask-swagger-ui package."""
    return str(files("flask_swagger_ui") / "dist")


@bp.get("/openapi.json")
@public
def openapi_json():
    """The OpenAPI 3 document of the API."""
    _docs_open()
    return jsonify(current_app.extensions["jakmentor.api"].spec.to_dict())


@bp.get("/docs")
@public
def docs():
    """Swagger UI for the API."""
    _docs_open()
    return render_template("api/docs.html", openapi_url=url_for("api_docs.openapi_json"))


@bp.get("/docs/assets/<filename>")
@public
def asset(filename: str):
    """One of Swagger UI's files (only the ones the page needs)."""
    if filename not in SWAGGER_UI_ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_dist(), filename, max_age=86400)
