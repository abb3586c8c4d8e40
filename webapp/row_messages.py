"""Bad CSV rows phrased for people, in the request's language."""

from __future__ import annotations

from flask_babel import gettext as _

from matching.csvio import RowError


def row_error_message(error: RowError) -> str:
    """Why a cell was refused, in Bahasa Indonesia or English (the English reason as a fallback)."""
    p = dict(error.params)
    messages = {
        "required": _("wajib diisi"),
        "missing_column": _("kolom wajib ini tidak ada di baris judul"),
        "unknown_sector": _("bukan huruf seksi KBLI 2020 (A sampai U)"),
        "bad_kbli": _("bukan kode KBLI 2 sampai 5 angka"),
        "kbli_sector_mismatch": _(
            "kode KBLI ini termasuk seksi %(section)s, bukan %(sector)s",
            section=p.get("section", "?"),
            sector=p.get("sector", "?"),
        ),
        "unknown_stage": _("bukan tahap usaha (idea, early, growth, established)"),
        "unknown_kecamatan": _("bukan kode kecamatan DKI Jakarta (misalnya 31.74.01)"),
        "unknown_support_area": _("bukan bidang bantuan yang dikenal"),
        "bad_language": _("bukan kode bahasa ISO 639-1 dua huruf"),
        "unknown_mode": _("bukan mode pertemuan (offline, online, either)"),
        "unknown_gender": _("harus f, m, atau kosong"),
        "bad_window": _("jadwal %(window)s tidak seperti 'tue 19:00-21:00'", window=p.get("window", "")),
        "bad_time": _("jadwal %(window)s berisi jam yang tidak mungkin", window=p.get("window", "")),
        "window_order": _(
            "jadwal %(window)s berakhir sebelum mulai atau melewati tengah malam", window=p.get("window", "")
        ),
        "not_integer": _("bukan bilangan bulat"),
        "negative": _("harus 0 atau lebih"),
        "over_capacity": _("lebih besar dari kapasitas %(capacity)s", capacity=p.get("capacity", "?")),
        "duplicate_id": _("id ini sudah dipakai di baris %(row)s", row=p.get("row", "?")),
        "fewer_than_active": _(
            "lebih kecil dari %(active)s pendampingan aktif di JakMentor", active=p.get("active", "?")
        ),
        "id_taken": _("id ini sudah dipakai oleh anggota lain"),
        "below_booked": _(
            "lebih kecil dari %(booked)s sesi yang sudah dipesan bersamaan di ruang ini (%(when)s); "
            "pindahkan sebagian sesinya dulu",
            booked=p.get("booked", "?"),
            when=p.get("when", "?"),
        ),
        "booked_outside": _(
            "%(count)s sesi yang sudah dipesan di ruang ini jatuh di luar jam buka ini (yang pertama %(when)s); "
            "pindahkan sesinya dulu",
            count=p.get("count", "?"),
            when=p.get("when", "?"),
        ),
        "empty_file": _("berkas kosong; perlu baris judul"),
        "not_utf8": _("berkas bukan teks UTF-8"),
        "bad_csv": _("bukan CSV yang valid"),
        "unknown_outcome": _("bukan hasil yang dikenal (accepted, declined, completed)"),
        "bad_rating": _("bukan nilai 1 sampai 5"),
    }
    return messages.get(error.code, error.reason)
