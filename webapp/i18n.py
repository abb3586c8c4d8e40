"""Template translations looked up once per request and language instead of once per string.

Flask-Babel's template ``_()`` resolves the domain, the locale and its name for every string
(about ten context lookups); a page with fifty strings paid for that fifty times. These callables
keep the catalogue of the request's current locale in ``g`` and look it up again only when the
locale object changes, which is what ``force_locale`` does (notifications are rendered in the
recipient's language inside another person's request).
"""

from __future__ import annotations

import flask_babel
from flask import Flask, g

#: Where Flask-Babel keeps its per-request state (``babel_locale`` once the locale is resolved).
_BABEL_STATE = "_flask_babel"
_CACHE = "_jakmentor_translations"


def translations():
    """The catalogue of the current locale (Flask-Babel's, cached for the request)."""
    state = g.get(_BABEL_STATE)
    locale = getattr(state, "babel_locale", None)
    cached = g.get(_CACHE)
    if locale is not None and cached is not None and cached[0] is locale:
        return cached[1]
    found = flask_babel.get_translations()
    locale = getattr(g.get(_BABEL_STATE), "babel_locale", None)  # resolved by the call above
    if locale is not None:
        setattr(g, _CACHE, (locale, found))
    return found


def init_app(app: Flask) -> None:
    """Install the cached callables as the templates' ``_``/``gettext``/``ngettext`` (after Babel)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
