"""``/api/v1/reference``: the vocabularies profiles use (public, no login needed)."""

from __future__ import annotations

from matching import reference
from webapp.access import public
from webapp.api import API_PREFIX
from webapp.api.errors import PUBLIC_ERRORS, api_blueprint, documented
from webapp.api.schemas import KecamatanSchema, TermSchema

blp = api_blueprint(
    "reference", __name__, url_prefix=f"{API_PREFIX}/reference", description="Reference vocabularies"
)


def _terms(terms) -> list[dict]:
    return [{"code": t.code, "name_id": t.name_id, "name_en": t.name_en} for t in terms.values()]


@blp.route("/kecamatan")
@public
@documented(blp, *PUBLIC_ERRORS)
@blp.doc(security=[])
@blp.response(200, KecamatanSchema(many=True))
def kecamatan():
    """DKI Jakarta's 44 kecamatan with their kota and centroid."""
    return [
        {
            "code": k.code,
            "name": k.name,
            "city": k.city,
            "kota_code": reference.kota_of(k.code),
            "lat": k.lat,
            "lon": k.lon,
        }
        for k in reference.kecamatan().values()
    ]


@blp.route("/sectors")
@public
@documented(blp, *PUBLIC_ERRORS)
@blp.doc(security=[])
@blp.response(200, TermSchema(many=True))
def sectors():
    """Business sectors: the KBLI 2020 sections."""
    return _terms(reference.sectors())


@blp.route("/stages")
@public
@documented(blp, *PUBLIC_ERRORS)
@blp.doc(security=[])
@blp.response(200, TermSchema(many=True))
def stages():
    """Business stages, from idea to established."""
    return _terms(reference.stages())


@blp.route("/support-areas")
@public
@documented(blp, *PUBLIC_ERRORS)
@blp.doc(security=[])
@blp.response(200, TermSchema(many=True))
def support_areas():
    """What an entrepreneur can ask a mentor for help with."""
    return _terms(reference.support_areas())
