"""Reasons a person reads in a second, in Bahasa Indonesia and English, for suggestions and exclusions.

A :class:`Reason` has a ``code``, its ``params`` and its ``weight``: the part of the score it
accounts for (exactly the feature's contribution ``coef * value``; 0 for an exclusion).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from matching import reference

_TEMPLATES: dict[str, tuple[str, str]] = {
    # code: (Indonesian, English)
    "same_sector": ("sektor sama ({sector})", "same sector ({sector})"),
    "related_sector": ("sektor terkait ({mentor_sector} untuk {sector})", "related sector ({mentor_sector} for {sector})"),
    "needs_covered": ("menawarkan {areas_id}, yang Anda butuhkan", "offers {areas}"),
    "stage_fit": ("membimbing tahap {stage_id}", "mentors {stage} stage"),
    "stage_outside": ("tahap {stage_id} di luar pilihan mentor", "{stage} stage outside mentor's"),
    "distance": ("{km_id} km", "{km} km"),
    "online": ("bertemu daring", "meets online"),
    "languages": ("sama-sama berbahasa {languages}", "both speak {languages}"),
    "common_time": ("{hours_id} jam/minggu waktu luang bersama", "{hours} h/week free together"),
    "similar_bio": ("bidang usaha mirip", "similar business"),
    "acceptance": ("menerima {accepted} dari 10 permintaan", "accepts {accepted} in 10 requests"),
    "rating": ("dinilai {rating_id}/5 oleh mentee", "rated {rating}/5 by mentees"),
    "new_mentor": ("mentor baru", "new mentor"),
    "feasible": ("memenuhi semua syarat", "meets every requirement"),
    # exclusions and unmatched entrepreneurs
    "full": ("kuota mentor penuh", "full"),
    "paused": ("mentor sedang cuti", "paused"),
    "no_shared_language": ("tidak ada bahasa yang sama", "no shared language"),
    "meets_online_only": ("mentor hanya bertemu daring", "meets online only"),
    "meets_offline_only": ("mentor hanya bertemu tatap muka", "meets in person only"),
    "gender_preference": ("tidak sesuai preferensi gender mentor", "not the preferred mentor gender"),
    "no_common_time": ("tidak ada waktu luang bersama", "no common free time"),
    "no_feasible_mentor": ("tidak ada mentor yang memenuhi syarat: {why_id}", "no feasible mentor: {why}"),
    "mentors_taken": (
        "{count} mentor yang cocok sudah penuh oleh peserta lain",
        "all {count} suitable mentor(s) filled by others",
    ),
    "no_mentors": ("belum ada mentor", "no mentors"),
}


@cache
def _area_name(code: str, lang: str) -> str:
    term = reference.support_areas().get(code)
    if term is None:
        return code
    if lang == "en":
        return code.replace("_", " ")
    return term.name_id.split(" (")[0].lower()


@cache
def _stage_name(code: str, lang: str) -> str:
    term = reference.stages().get(code)
    return term.name(lang).lower() if term else code


def _decimal_id(text: str) -> str:
    return text.replace(".", ",")


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason: ``code``, its ``params`` (pairs of name and value) and its ``weight`` in the score."""

    code: str
    params: tuple[tuple[str, str], ...] = ()
    weight: float = 0.0

    @property
    def values(self) -> dict[str, str]:
        """The params as a dict."""
        return dict(self.params)

    def text(self, lang: str = "en") -> str:
        """The reason as a short phrase in ``lang`` ('id' or 'en')."""
        ind, eng = _TEMPLATES.get(self.code, (self.code, self.code))
        values = dict(self.params)
        if "areas" in values:
            codes = values["areas"].split(",")
            values["areas"] = ", ".join(_area_name(c, "en") for c in codes)
            values["areas_id"] = ", ".join(_area_name(c, "id") for c in codes)
        if "stage" in values:
            values["stage_id"] = _stage_name(values["stage"], "id")
        for key in ("km", "hours", "rating"):
            if key in values:
                values[f"{key}_id"] = _decimal_id(values[key])
        if "why" in values:
            values["why_id"] = Reason(values["why"]).text("id")
            values["why"] = Reason(values["why"]).text("en")
        template = ind if lang == "id" else eng
        try:
            return template.format(**values)
        except KeyError:
            return self.code.replace("_", " ")


def reason(code: str, weight: float = 0.0, **params: object) -> Reason:
    """A :class:`Reason` built from keyword params."""
    return Reason(code, tuple((k, str(v)) for k, v in params.items()), float(weight))


def reasons_text(reasons: Iterable[Reason], lang: str = "en") -> str:
    """The reasons as one line joined with '; '."""
    return "; ".join(r.text(lang) for r in reasons)


def summary(reasons: Iterable[Reason], limit: int = 4) -> tuple[Reason, ...]:
    """The reasons that matter most: positive weights first, largest first, at most ``limit``."""
    items = sorted(reasons, key=lambda r: -r.weight)
    positive = [r for r in items if r.weight > 0]
    return tuple((positive or items)[:limit])


def exclusion_counts(exclusions: Mapping[str, Iterable[Reason]]) -> dict[str, int]:
    """How many mentors each exclusion code left out."""
    counts: dict[str, int] = {}
    for reasons in exclusions.values():
        for r in reasons:
            counts[r.code] = counts.get(r.code, 0) + 1
    return counts
