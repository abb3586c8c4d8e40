"""Template translations looked up once per request and language instead of once per string.

Flask-Babel's template ``_()`` resolves the domain, the locale and its name for every string
(about ten context lookups); a page with fifty strings paid for that fifty times. These callables
keep the catalogue of the request's current locale in ``g`` and look it up again only when the
locale object changes, which is what ``force_locale`` does (notifications are rendered in the
recipient's language inside another person's request).

The template ``_`` and ``gettext`` are then replaced by one plain function with the semantics of
Jinja's "newstyle" gettext (the translation is markup-safe where the template autoescapes, the
keyword arguments are escaped and substituted): Jinja's own goes through three context calls per
string, which cost a page of fifty strings more than looking the strings up.
"""

from __future__ import annotations

import flask_babel
from flask import Flask, g
from jinja2 import pass_eval_context
from markupsafe import Markup

#: Where Flask-Babel keeps its per-request state (``babel_locale`` once the locale is resolved).
_BABEL_STATE = "_flask_babel"
_CACHE = "_jakmentor_translations"


def translations():
    """The catalogue of the current locale (Flask-Babel's, cached for the request)."""
    store = vars(g._get_current_object())  # one look through the proxy instead of three
    locale = getattr(store.get(_BABEL_STATE), "babel_locale", None)
    cached = store.get(_CACHE)
    if locale is not None and cached is not None and cached[0] is locale:
        return cached[1]
    found = flask_babel.get_translations()
    locale = getattr(store.get(_BABEL_STATE), "babel_locale", None)  # resolved by the call above
    if locale is not None:
        store[_CACHE] = (locale, found)
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
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"] = _template_gettext


@pass_eval_context
def _template_gettext(eval_ctx, string: str, /, **variables):
    """``{{ _('...') }}``: the translation, as Jinja's newstyle gettext gives it, in one call."""
    rv = translations().ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)  # nosec B704 # a msgid or its translation from our catalogue, never user data (Jinja does the same); variables are escaped by %
    return rv % variables if variables or "%" in rv else rv
