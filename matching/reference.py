"""Jakarta reference data shipped with the package: kecamatan, kelurahan, sectors, stages, support areas."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Kecamatan:
    """One of DKI Jakarta's 44 kecamatan (Kemendagri code) with its centroid."""

    code: str
    name: str
    city: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Kelurahan:
    """One of the 267 kelurahan, inside a kecamatan."""

    code: str
    name: str
    kecamatan_code: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Kota:
    """One of the five kota administrasi or Kabupaten Kepulauan Seribu."""

    code: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Term:
    """A vocabulary entry with its Indonesian and English names."""

    code: str
    name_id: str
    name_en: str
    extra: str = ""

    def name(self, lang: str) -> str:
        """The name in ``lang`` ('id' or 'en')."""
        return self.name_id if lang == "id" else self.name_en


def _rows(filename: str) -> list[dict[str, str]]:
    with resources.files("matching.data").joinpath(filename).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def data_path(filename: str):
    """A traversable path to a shipped reference file (for loaders that need the raw file)."""
    return resources.files("matching.data").joinpath(filename)


@cache
def kecamatan() -> dict[str, Kecamatan]:
    """The 44 kecamatan by Kemendagri code, in file order."""
    return {
        r["code"]: Kecamatan(r["code"], r["name"], r["city"], float(r["lat"]), float(r["lon"]))
        for r in _rows("jakarta_kecamatan.csv")
    }


@cache
def kelurahan() -> dict[str, Kelurahan]:
    """The 267 kelurahan by code."""
    return {
        r["code"]: Kelurahan(r["code"], r["name"], r["kecamatan_code"], float(r["lat"]), float(r["lon"]))
        for r in _rows("jakarta_kelurahan.csv")
    }


@cache
def kota() -> dict[str, Kota]:
    """The six kota/kabupaten of DKI Jakarta by code (e.g. ``31.71``)."""
    return {r["code"]: Kota(r["code"], r["name"], float(r["lat"]), float(r["lon"])) for r in _rows("jakarta_kota.csv")}


@cache
def sectors() -> dict[str, Term]:
    """KBLI 2020 sections A..U; ``extra`` holds the two-digit division range."""
    return {r["section"]: Term(r["section"], r["name_id"], r["name_en"], r["divisions"]) for r in _rows("kbli_sections.csv")}


@cache
def stages() -> dict[str, Term]:
    """Business stages in order idea, early, growth, established."""
    return {r["code"]: Term(r["code"], r["name_id"], r["name_en"], r["description_en"]) for r in _rows("stages.csv")}


@cache
def support_areas() -> dict[str, Term]:
    """The support-area vocabulary; ``extra`` holds the OK OCE 7 PAS step it serves, if any."""
    return {r["code"]: Term(r["code"], r["name_id"], r["name_en"], r["okoce_step"]) for r in _rows("support_areas.csv")}


@cache
def pas_steps() -> dict[str, Term]:
    """OK OCE's 7 PAS steps P1..P7."""
    return {r["step"]: Term(r["step"], r["name_id"], r["name_en"]) for r in _rows("okoce_7pas.csv")}


def kota_of(kecamatan_code: str) -> str:
    """The kota code (``31.71``) that a kecamatan code (``31.71.01``) belongs to."""
    return kecamatan_code[:5]


def sector_of_kbli(kbli: str) -> str | None:
    """The KBLI section letter whose division range holds a 2-5 digit KBLI code, or None."""
    if not (kbli.isdigit() and 2 <= len(kbli) <= 5):
        return None
    division = int(kbli[:2])
    for term in sectors().values():
        lo, _, hi = term.extra.partition("-")
        if int(lo) <= division <= int(hi or lo):
            return term.code
    return None
