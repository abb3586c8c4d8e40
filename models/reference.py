"""Reference tables: Jakarta's administrative areas and the programme's vocabularies."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base


class Kota(Base):
    """A kota administrasi (or Kabupaten Kepulauan Seribu) of DKI Jakarta."""

    __tablename__ = "kota"
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class Kecamatan(Base):
    """One of the 44 kecamatan, each with an entrepreneurship centre."""

    __tablename__ = "kecamatan"
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kota_code: Mapped[str] = mapped_column(ForeignKey("kota.code"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    kota: Mapped[Kota] = relationship(lazy="joined")


class Kelurahan(Base):
    """One of the 267 kelurahan."""

    __tablename__ = "kelurahan"
    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class Sector(Base):
    """A KBLI 2020 section (A..U)."""

    __tablename__ = "sector"
    code: Mapped[str] = mapped_column(String(1), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class Stage(Base):
    """A business stage, ordered by ``position``."""

    __tablename__ = "stage"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)


class SupportArea(Base):
    """What an entrepreneur needs and a mentor offers; tied to a 7 PAS step where one fits."""

    __tablename__ = "support_area"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    pas_step: Mapped[str | None] = mapped_column(String(2))


class PasStep(Base):
    """One of OK OCE's 7 PAS steps."""

    __tablename__ = "pas_step"
    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name_id: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
