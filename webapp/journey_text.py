"""The words of the entrepreneur and mentor journeys: service codes and vocabulary as translated text."""

from __future__ import annotations

from urllib.parse import quote

from flask_babel import force_locale
from flask_babel import gettext as _

from webapp.services.errors import ServiceError
from webapp.services.profiles import FieldError


def field_error(err: FieldError) -> str:
    """A person-readable message for one bad field."""
    v = err.values
    messages = {
        "required": _("Wajib diisi."),
        "too_long": _("Terlalu panjang (maksimal %(max)s karakter).", max=v.get("max", "")),
        "unknown_sector": _("Pilih bidang usaha dari daftar."),
        "bad_kbli": _("Kode KBLI terdiri dari 2 sampai 5 angka, misalnya 56101."),
        "kbli_sector_mismatch": _(
            "Kode KBLI ini termasuk kategori %(section)s, bukan %(sector)s. Periksa kode atau bidang usaha.",
            section=v.get("section", ""),
            sector=v.get("sector", ""),
        ),
        "unknown_stage": _("Pilih tahap usaha dari daftar."),
        "unknown_kecamatan": _("Pilih kecamatan dari daftar."),
        "kelurahan_outside": _("Kelurahan ini tidak berada di kecamatan yang dipilih."),
        "unknown_support_area": _("Pilih kebutuhan dari daftar."),
        "bad_language": _("Bahasa tidak dikenal."),
        "unknown_mode": _("Pilih cara bertemu dari daftar."),
        "bad_window": _("Waktu %(window)s tidak dapat dibaca.", window=v.get("window", "")),
        "bad_time": _("Jam pada %(window)s tidak mungkin.", window=v.get("window", "")),
        "window_order": _("Jam selesai harus setelah jam mulai (%(window)s).", window=v.get("window", "")),
        "unknown_gender": _("Pilih dari daftar."),
        "not_integer": _("Isi dengan angka bulat."),
        "below_active": _(
            "Kapasitas tidak boleh kurang dari jumlah wirausaha yang sedang Anda dampingi (%(held)s).",
            held=v.get("held", ""),
        ),
        "capacity_range": _("Kapasitas antara 1 dan %(max)s.", max=v.get("max", "")),
        "bad_phone": _("Nomor HP Indonesia tidak valid. Contoh: 0812 3456 7890."),
        "phone_to_share": _("Isi nomor HP dulu untuk membagikannya."),
        "password_required": _("Masukkan kata sandi Anda untuk mengganti nomor HP."),
        "wrong_password": _("Kata sandi sekarang salah."),
        "unknown_step": _("Pilih langkah dari daftar."),
        "future_date": _("Tanggal tidak boleh di masa depan."),
    }
    return messages.get(err.code, _("Data tidak valid."))


def service_message(exc: ServiceError, *, mentor: bool = False) -> str:
    """A person-readable message for a refused request, accept, decline, end or pause (``mentor``: said to the mentor)."""
    messages = {
        "already_matched": _(
            "Anda sudah memiliki mentor. Akhiri pendampingan itu dulu untuk meminta mentor baru."
        ),
        "already_requested": _("Anda sudah mengirim permintaan ke mentor ini."),
        "too_many_requests": _(
            "Anda sudah menunggu jawaban %(n)d mentor. Tarik salah satu permintaan dulu, atau tunggu jawabannya.",
            n=int(exc.params.get("limit", 3)),
        ),
        "not_available": _("Mentor ini tidak dapat diminta saat ini: %(why)s.", why=_why(exc)),
        "mentor_not_found": _("Mentor tidak ditemukan."),
        "request_not_pending": _(
            "Permintaan ini sudah tidak menunggu jawaban (status: %(status)s).",
            status=request_status(str(exc.params.get("status", ""))),
        ),
        "capacity_full": _(
            "Semua tempat Anda sudah terisi (atau Anda sedang cuti). Naikkan kapasitas di profil, atau tolak permintaan ini."
        ),
        "match_not_active": _("Pendampingan ini sudah berakhir."),
        "stale_version": _("Data berubah sementara Anda mengisinya. Muat ulang halaman lalu coba lagi."),
        "bad_reason": _("Pilih alasan dari daftar."),
        "bad_rating": _("Nilai antara 1 dan 5."),
        "consent_withdrawn": _(
            "Anda telah menarik persetujuan pemrosesan data, jadi Anda tidak ikut pencocokan. Berikan persetujuan lagi di halaman Data pribadi saya untuk melanjutkan."
        ),
    }
    if mentor and exc.code == "already_matched":
        return _("Wirausaha ini baru saja mendapat mentor lain. Permintaannya sudah ditutup.")
    return messages.get(exc.code, _("Permintaan tidak dapat diproses."))


def _why(exc: ServiceError) -> str:
    from flask_babel import get_locale

    lang = "en" if str(get_locale() or "id") == "en" else "id"
    reasons = exc.params.get("reasons") or []
    return ", ".join(r.get(lang, r.get("id", "")) for r in reasons) or "-"


def request_status(status: str) -> str:
    """A request's state as the entrepreneur and mentor read it."""
    return {
        "pending": _("menunggu jawaban"),
        "accepted": _("diterima"),
        "declined": _("ditolak"),
        "withdrawn": _("ditarik"),
        "expired": _("tidak dijawab (kedaluwarsa)"),
        "closed": _("ditutup: Anda sudah mendapat mentor"),
        "draft": _("draf"),
        "rejected": _("tidak disetujui staf"),
    }.get(status, status)


def waited_text(days: int) -> str:
    """How long a request has waited: "menunggu 3 hari"."""
    if days < 1:
        return _("menunggu kurang dari sehari")
    if days == 1:
        return _("menunggu 1 hari")
    return _("menunggu %(n)d hari", n=days)


def decline_reasons() -> dict[str, str]:
    """The mentor's reasons to decline, by code."""
    return {
        "no_capacity": _("Tidak ada waktu/tempat lagi"),
        "sector_mismatch": _("Bidang usaha di luar keahlian saya"),
        "schedule": _("Jadwal tidak cocok"),
        "distance": _("Lokasi terlalu jauh"),
        "other": _("Alasan lain"),
    }


def end_reasons() -> dict[str, str]:
    """Reasons to end a mentorship, by code."""
    return {
        "completed": _("Selesai: tujuan tercapai"),
        "not_a_fit": _("Kurang cocok"),
        "no_time": _("Tidak ada waktu"),
        "business_closed": _("Usaha tutup"),
        "other": _("Alasan lain"),
    }


def paused_reason(code: str | None) -> str:
    """Why a mentor's profile is paused."""
    return {
        "paused_by_mentor": _("Anda sendiri yang menjeda profil."),
        "unanswered_requests": _(
            "Profil dijeda otomatis karena beberapa permintaan tidak dijawab dalam 7 hari."
        ),
        "consent_withdrawn": _(
            "Profil dijeda karena Anda menarik persetujuan pemrosesan data. Berikan persetujuan lagi di halaman Data pribadi saya untuk aktif kembali."
        ),
    }.get(code or "", _("Profil dijeda oleh staf program."))


def modes() -> dict[str, str]:
    """Meeting modes."""
    return {
        "either": _("Tatap muka atau daring"),
        "offline": _("Tatap muka saja"),
        "online": _("Daring saja"),
    }


def genders() -> dict[str, str]:
    """Genders (optional everywhere)."""
    return {"f": _("Perempuan"), "m": _("Laki-laki")}


def languages() -> dict[str, str]:
    """Language names by ISO 639-1 code."""
    return {
        "id": _("Bahasa Indonesia"),
        "en": _("Inggris"),
        "zh": _("Mandarin"),
        "ar": _("Arab"),
        "ja": _("Jepang"),
        "ko": _("Korea"),
        "jv": _("Jawa"),
        "su": _("Sunda"),
    }


def days() -> dict[str, str]:
    """Week days by contract code."""
    return {
        "mon": _("Senin"),
        "tue": _("Selasa"),
        "wed": _("Rabu"),
        "thu": _("Kamis"),
        "fri": _("Jumat"),
        "sat": _("Sabtu"),
        "sun": _("Minggu"),
    }


def session_status(status: str) -> str:
    """A mentoring session's state."""
    return {
        "proposed": _("diusulkan"),
        "confirmed": _("dikonfirmasi"),
        "declined": _("ditolak"),
        "cancelled": _("dibatalkan"),
        "held": _("terlaksana"),
        "missed": _("tidak terlaksana"),
    }.get(status, status)


def availability_text(text: str | None) -> str:
    """Weekly windows in words: "Selasa 19.00-21.00, Sabtu 09.00-12.00"."""
    if not text:
        return _("Kapan saja, Senin-Sabtu 08.00-21.00")
    names = days()
    parts = []
    for part in text.split(";"):
        day, _sep, hours = part.strip().partition(" ")
        parts.append(f"{names.get(day, day)} {hours.replace(':', '.')}")
    return ", ".join(parts)


def whatsapp_link(phone: str, partner: str, me: str) -> str:
    """A wa.me click-to-chat link with a greeting in Bahasa Indonesia."""
    with force_locale("id"):
        greeting = _(
            "Halo %(partner)s, saya %(me)s dari JakMentor. Kapan kita bisa mulai bertemu?",
            partner=partner,
            me=me,
        )
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"https://wa.me/{digits}?text={quote(greeting)}"
