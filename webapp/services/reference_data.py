"""Keeping the reference tables (areas, sectors, stages, support areas, 7 PAS) in step with the shipped data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching import reference
from models import Kecamatan, Kelurahan, Kota, PasStep, Sector, Stage, SupportArea


def sync_reference_data(db: Session) -> int:
    """Insert or update every reference row from the package data; returns how many rows changed."""
    wanted: list[tuple[type, str, dict]] = []
    for k in reference.kota().values():
        wanted.append((Kota, k.code, {"name": k.name}))
    for k in reference.kecamatan().values():
        wanted.append(
            (
                Kecamatan,
                k.code,
                {"name": k.name, "kota_code": reference.kota_of(k.code), "lat": k.lat, "lon": k.lon},
            )
        )
    for k in reference.kelurahan().values():
        wanted.append(
            (
                Kelurahan,
                k.code,
                {"name": k.name, "kecamatan_code": k.kecamatan_code, "lat": k.lat, "lon": k.lon},
            )
        )
    for t in reference.sectors().values():
        wanted.append((Sector, t.code, {"name_id": t.name_id, "name_en": t.name_en}))
    for i, t in enumerate(reference.stages().values()):
        wanted.append((Stage, t.code, {"name_id": t.name_id, "name_en": t.name_en, "position": i}))
    for t in reference.support_areas().values():
        wanted.append(
            (SupportArea, t.code, {"name_id": t.name_id, "name_en": t.name_en, "pas_step": t.extra or None})
        )
    for t in reference.pas_steps().values():
        wanted.append((PasStep, t.code, {"name_id": t.name_id, "name_en": t.name_en}))

    existing: dict[type, dict[str, object]] = {}
    for model in (Kota, Kecamatan, Kelurahan, Sector, Stage, SupportArea, PasStep):
        existing[model] = {row.code: row for row in db.scalars(select(model))}
    changed = 0
    for model, code, values in wanted:  # ordered so that parents come before children
        row = existing[model].get(code)
        if row is None:
            db.add(model(code=code, **values))
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed += 1
        if model in (Kota, Kecamatan):
            db.flush()
    db.flush()
    return changed
