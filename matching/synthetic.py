"""A deterministic (by seed) synthetic Jakarta mentoring programme, for the demo and for benchmarks.

``generate_city`` builds entrepreneurs, mentors, earlier proposals (history) and the rooms of the
44 kecamatan entrepreneurship centres. Categorical draws are vectorised with numpy and repeated
values (need lists, language lists, availability windows, names) are drawn from small cached pools,
so 200,000 entrepreneurs and 10,000 mentors take a few seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from matching import reference
from matching.profiles import STAGES, Entrepreneur, HistoryRecord, Mentor, Room, Window

__all__ = ["City", "generate_city", "generate_rooms"]


@dataclass(frozen=True)
class City:
    """A whole synthetic programme: the people, their earlier proposals, and the meeting rooms."""

    entrepreneurs: list[Entrepreneur]
    mentors: list[Mentor]
    history: list[HistoryRecord]
    rooms: list[Room]


# --- places ---------------------------------------------------------------------------------------

#: Rough population in thousands (BPS DKI Jakarta, around 2020), used as the spread of people.
_POPULATION: dict[str, int] = {
    "31.01.01": 15, "31.01.02": 10,
    "31.71.01": 80, "31.71.02": 100, "31.71.03": 220, "31.71.04": 95, "31.71.05": 85,
    "31.71.06": 70, "31.71.07": 145, "31.71.08": 120,
    "31.72.01": 310, "31.72.02": 400, "31.72.03": 330, "31.72.04": 430, "31.72.05": 165, "31.72.06": 150,
    "31.73.01": 560, "31.73.02": 230, "31.73.03": 110, "31.73.04": 240, "31.73.05": 370, "31.73.06": 450,
    "31.73.07": 200, "31.73.08": 320,
    "31.74.01": 210, "31.74.02": 140, "31.74.03": 150, "31.74.04": 310, "31.74.05": 310, "31.74.06": 200,
    "31.74.07": 140, "31.74.08": 160, "31.74.09": 390, "31.74.10": 230,
    "31.75.01": 150, "31.75.02": 270, "31.75.03": 270, "31.75.04": 300, "31.75.05": 210, "31.75.06": 540,
    "31.75.07": 400, "31.75.08": 200, "31.75.09": 300, "31.75.10": 280,
}  # fmt: skip
#: Business districts where mentors (business leaders) are more often based.
_CBD_BOOST: dict[str, float] = {
    "31.74.02": 3.0, "31.74.07": 2.5, "31.71.06": 2.5, "31.71.07": 2.0, "31.71.01": 2.0, "31.72.06": 2.0,
    "31.74.03": 1.5, "31.74.06": 1.5, "31.73.05": 1.5, "31.73.02": 1.5,
}  # fmt: skip

# --- sectors and businesses -------------------------------------------------------------------------

#: Share of entrepreneurs by KBLI section: food & drink and trade first, then small manufacturing.
_SECTOR_WEIGHTS: dict[str, float] = {
    "I": 0.30, "G": 0.27, "C": 0.15, "S": 0.08, "J": 0.04, "M": 0.03, "N": 0.03, "H": 0.03,
    "R": 0.02, "P": 0.02, "A": 0.01, "Q": 0.005, "E": 0.005, "F": 0.005, "L": 0.005,
}  # fmt: skip
#: Sectors a mentor of a main sector often also knows.
_RELATED: dict[str, tuple[str, ...]] = {
    "I": ("C", "G"), "G": ("I", "C", "H"), "C": ("G", "I"), "S": ("G", "N"), "J": ("M", "G"),
    "M": ("J", "N"), "N": ("M", "H"), "H": ("G", "N"), "R": ("J", "P"), "P": ("J", "M"),
    "A": ("C", "G"), "Q": ("P", "S"), "E": ("C", "A"), "F": ("L", "G"), "L": ("F", "N"),
}  # fmt: skip
#: How a sector is called in a mentor's bio (Indonesian, English).
_SECTOR_WORDS: dict[str, tuple[str, str]] = {
    "I": ("kuliner", "food and drink"), "G": ("perdagangan", "retail and trade"),
    "C": ("produk olahan dan kerajinan", "food processing and crafts"), "S": ("jasa", "personal services"),
    "J": ("digital", "digital businesses"), "M": ("jasa profesional", "professional services"),
    "N": ("jasa penunjang usaha dan wisata", "business support and travel"), "H": ("logistik", "logistics"),
    "R": ("seni dan hiburan", "arts and entertainment"), "P": ("pendidikan", "education"),
    "A": ("pertanian perkotaan", "urban farming"), "Q": ("layanan sosial", "social care"),
    "E": ("daur ulang", "recycling"), "F": ("konstruksi", "construction"), "L": ("properti", "property"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Business:
    """A kind of small business: its KBLI code, how it is described, and how such shops are named."""

    sector: str
    kbli: str
    weight: float  # how common it is within its sector
    kind: str  # Indonesian, e.g. "warung nasi uduk"
    kind_en: str
    product_en: str
    products: tuple[str, ...]  # Indonesian
    names: tuple[str, ...]  # patterns with {hon} {first} {brand}


_B = _Business
_BUSINESSES: tuple[_Business, ...] = (
    _B("I", "56102", 2.0, "warung nasi uduk", "a nasi uduk stall", "nasi uduk and fried snacks",
       ("nasi uduk dan gorengan", "nasi uduk Betawi dan semur jengkol"),
       ("Warung Nasi Uduk {hon} {first}", "Nasi Uduk {brand}")),
    _B("I", "56102", 2.0, "warteg", "a warteg eatery", "home-style meals",
       ("masakan rumahan dengan harga terjangkau", "nasi rames dan sayur harian"),
       ("Warteg {brand}", "Warteg {hon} {first}")),
    _B("I", "56101", 1.0, "rumah makan Padang", "a Padang restaurant", "rendang and Padang dishes",
       ("rendang, gulai dan nasi Padang",), ("RM Padang {brand}", "Rumah Makan Sederhana {first}")),
    _B("I", "56210", 1.5, "usaha katering", "a catering business",
       "boxed meals and tumpeng for offices and events",
       ("nasi kotak dan tumpeng untuk kantor dan hajatan", "katering harian rumahan"),
       ("Katering {hon} {first}", "Dapur {brand}")),
    _B("I", "56303", 1.5, "kedai kopi", "a coffee shop", "iced palm-sugar coffee and snacks",
       ("kopi susu gula aren dan camilan", "kopi lokal dan roti bakar"),
       ("Kopi {brand}", "Kedai Kopi {first}")),
    _B("I", "56104", 1.2, "gerobak bakso", "a meatball cart", "meatball soup and chicken noodles",
       ("bakso urat dan mie ayam", "bakso dan es teh manis"), ("Bakso {hon} {first}", "Bakso {brand}")),
    _B("I", "56103", 1.0, "kedai minuman", "a drinks kiosk", "iced tea, juice and bubble tea",
       ("es teh, jus buah dan minuman boba", "es kelapa muda dan es campur"),
       ("Es {brand}", "Kedai {first}")),
    _B("I", "56102", 0.8, "warung soto", "a soto stall", "soto soups", ("soto Betawi dan soto ayam",),
       ("Soto Betawi {hon} {first}", "Soto {brand}")),
    _B("I", "55130", 0.2, "penginapan", "a guest house", "rooms for travellers",
       ("kamar harian untuk tamu dan pelancong",), ("Wisma {brand}", "Homestay {first}")),
    _B("G", "47112", 3.0, "toko kelontong", "a corner shop", "groceries and daily goods",
       ("sembako, rokok dan kebutuhan sehari-hari", "kebutuhan rumah tangga"),
       ("Toko Kelontong {brand}", "Warung {hon} {first}", "Toko {brand}")),
    _B("G", "46311", 1.0, "grosir sembako", "a wholesale grocery",
       "rice, cooking oil and sugar for small shops", ("beras, minyak goreng dan gula untuk warung",),
       ("Grosir {brand}", "UD {brand}")),
    _B("G", "47919", 2.0, "toko online", "an online shop", "modest fashion through marketplaces",
       ("pakaian muslim lewat marketplace", "hijab dan gamis lewat Instagram", "aksesori dan tas wanita"),
       ("{brand} Hijab", "{first} Collection", "{brand} Store")),
    _B("G", "47413", 1.2, "konter pulsa", "a phone credit stall", "phone credit and accessories",
       ("pulsa, paket data dan aksesori HP",), ("Cell {brand}", "{first} Cell")),
    _B("G", "47214", 0.6, "lapak buah", "a fruit stall", "fresh fruit and fruit hampers",
       ("buah segar dan parsel buah",), ("Buah Segar {brand}", "Lapak Buah {hon} {first}")),
    _B("G", "47722", 0.7, "toko kosmetik", "a cosmetics shop", "cosmetics and skincare",
       ("kosmetik dan produk perawatan kulit",), ("{first} Beauty", "Toko Kosmetik {brand}")),
    _B("G", "45405", 0.8, "bengkel motor", "a motorbike repair shop", "motorbike servicing and parts",
       ("servis dan suku cadang sepeda motor",), ("Bengkel {brand} Motor", "Bengkel {hon} {first}")),
    _B("G", "47521", 0.4, "toko bangunan", "a hardware store", "building materials",
       ("bahan bangunan dan perkakas",), ("TB {brand}", "Toko Bangunan {brand}")),
    _B("C", "10792", 2.0, "usaha kue basah", "a traditional cake business", "traditional cakes",
       ("kue basah, lemper dan klepon", "kue lapis dan nagasari untuk arisan"),
       ("Kue {hon} {first}", "Dapur Kue {brand}")),
    _B("C", "10710", 1.2, "usaha roti rumahan", "a home bakery", "bread, sponge cake and cookies",
       ("roti manis dan bolu", "kue kering lebaran dan bolu"), ("Roti {brand}", "{first} Bakery")),
    _B("C", "10794", 0.8, "usaha kerupuk", "a cracker business", "prawn crackers and cassava chips",
       ("kerupuk udang dan keripik singkong",), ("Kerupuk {brand}", "Keripik {hon} {first}")),
    _B("C", "10750", 1.0, "usaha frozen food", "a frozen food business", "frozen dim sum and nuggets",
       ("dimsum dan nugget beku", "risoles dan pastel beku"), ("Frozen Food {first}", "{brand} Frozen")),
    _B("C", "10779", 0.8, "usaha sambal kemasan", "a bottled sambal business", "bottled chilli sauces",
       ("sambal bawang dan sambal cumi dalam botol",), ("Sambal {hon} {first}", "Sambal {brand}")),
    _B("C", "13134", 1.0, "usaha batik", "a batik workshop", "hand-drawn Betawi batik",
       ("batik tulis dan batik cap motif Betawi", "kain batik dan kemeja batik"),
       ("Batik Tulis {first}", "Batik {brand}")),
    _B("C", "14111", 1.0, "konveksi", "a garment workshop", "school uniforms and printed T-shirts",
       ("seragam sekolah dan kaos sablon", "gamis dan baju koko"),
       ("Konveksi {brand}", "{first} Konveksi")),
    _B("C", "16292", 0.5, "usaha kerajinan anyaman", "a woven crafts business",
       "woven bags and rattan baskets", ("tas anyaman dan keranjang rotan",),
       ("Anyaman {brand}", "Kriya {first}")),
    _B("C", "20231", 0.4, "usaha sabun", "a soap business", "liquid and herbal soap",
       ("sabun cair dan sabun herbal",), ("Sabun {brand}", "{first} Natural")),
    _B("C", "10761", 0.4, "usaha kopi bubuk", "a coffee roastery", "ground and roasted coffee",
       ("kopi bubuk dan biji kopi sangrai",), ("Kopi Bubuk {brand}", "Sangrai {first}")),
    _B("S", "96200", 1.5, "laundry kiloan", "a laundry", "wash-and-fold laundry",
       ("cuci kiloan dan setrika",), ("Laundry {brand}", "{first} Laundry")),
    _B("S", "96112", 1.2, "salon kecantikan", "a beauty salon", "haircuts and bridal make-up",
       ("potong rambut, creambath dan rias pengantin",), ("Salon {first}", "Salon {brand}")),
    _B("S", "96111", 0.8, "barbershop", "a barbershop", "men's haircuts", ("potong rambut pria",),
       ("Barbershop {brand}", "{first} Barber")),
    _B("S", "95120", 0.8, "servis HP", "a phone repair shop", "phone repairs",
       ("servis HP dan ganti LCD",), ("Servis HP {brand}", "{first} Service Center")),
    _B("S", "95290", 0.8, "usaha jahit", "a tailoring business", "tailoring and alterations",
       ("jahit dan permak pakaian",), ("Penjahit {hon} {first}", "Jahit {brand}")),
    _B("J", "62019", 1.0, "jasa pembuatan aplikasi", "an app development studio",
       "point-of-sale apps and websites for small businesses",
       ("aplikasi kasir dan situs web untuk UMKM",), ("{brand} Digital", "{first} Studio")),
    _B("J", "59111", 0.8, "jasa produksi video", "a video production service",
       "social media videos and ads", ("video konten dan iklan media sosial",),
       ("{brand} Media", "{first} Production")),
    _B("J", "58110", 0.3, "penerbitan buku indie", "an indie publisher", "children's books and cookbooks",
       ("buku cerita anak dan buku resep",), ("Penerbit {brand}", "{first} Pustaka")),
    _B("M", "74201", 1.0, "jasa fotografi", "a photography service", "product and wedding photography",
       ("foto produk dan foto pernikahan",), ("{first} Photography", "Foto {brand}")),
    _B("M", "73100", 0.8, "agensi periklanan kecil", "a small advertising agency",
       "logo design and ad campaigns", ("desain logo dan kampanye iklan",),
       ("{brand} Kreatif", "{first} Creative")),
    _B("M", "69200", 0.5, "jasa pembukuan", "a bookkeeping service",
       "bookkeeping and tax returns for small firms", ("pembukuan dan laporan pajak UMKM",),
       ("Konsultan {brand}", "{first} & Rekan")),
    _B("N", "79120", 1.0, "biro perjalanan", "a travel agency", "umrah and domestic tour packages",
       ("paket umrah dan wisata domestik",), ("{brand} Tour", "{first} Travel")),
    _B("N", "82300", 0.8, "event organizer", "an event organiser", "weddings and birthday parties",
       ("acara pernikahan dan ulang tahun",), ("{brand} Organizer", "{first} EO")),
    _B("N", "81210", 0.6, "jasa kebersihan", "a cleaning service", "home and office cleaning",
       ("jasa bersih-bersih rumah dan kantor",), ("{brand} Clean", "Bersih {first}")),
    _B("H", "53201", 1.0, "jasa kurir", "a courier service", "same-day parcel and food delivery",
       ("antar paket dan makanan dalam kota",), ("{brand} Ekspres", "Kurir {first}")),
    _B("H", "49431", 0.6, "usaha angkutan barang", "a small haulage business",
       "house moves with pick-up trucks", ("angkutan pindahan dengan mobil bak",),
       ("Angkutan {brand}", "Pindahan {first}")),
    _B("R", "90002", 0.8, "sanggar tari", "a dance studio", "traditional dance classes",
       ("kelas tari tradisional dan ondel-ondel",), ("Sanggar {brand}", "Sanggar Tari {first}")),
    _B("R", "93112", 0.5, "lapangan futsal", "a futsal court", "futsal court rental",
       ("sewa lapangan futsal dan badminton",), ("Futsal {brand}", "Arena {first}")),
    _B("P", "85495", 1.0, "bimbingan belajar", "a tutoring centre", "maths and English tutoring",
       ("les privat matematika dan bahasa Inggris",), ("Bimbel {brand}", "Les {first}")),
    _B("P", "85499", 0.6, "kursus keterampilan", "a skills course", "sewing and make-up courses",
       ("kursus menjahit dan tata rias",), ("Kursus {brand}", "LKP {first}")),
    _B("A", "01135", 1.0, "kebun hidroponik", "a hydroponic farm", "hydroponic vegetables",
       ("sayuran hidroponik segar",), ("Hidroponik {brand}", "Kebun {first}")),
    _B("A", "03226", 1.0, "budidaya ikan hias", "an ornamental fish farm", "betta and koi fish",
       ("ikan cupang dan ikan koi",), ("Cupang {brand}", "Ikan Hias {first}")),
    _B("Q", "88911", 1.0, "tempat penitipan anak", "a daycare", "daycare and playgroup",
       ("penitipan anak dan PAUD",), ("Daycare {brand}", "Rumah Anak {first}")),
    _B("E", "38302", 1.0, "bank sampah", "a recycling business", "plastic recycling and upcycled crafts",
       ("daur ulang plastik dan kerajinan dari sampah",), ("Bank Sampah {brand}", "Daur Ulang {first}")),
    _B("F", "41011", 1.0, "jasa renovasi rumah", "a home renovation business",
       "home renovation and repairs", ("renovasi dan perbaikan rumah",),
       ("Renovasi {brand}", "Tukang {first}")),
    _B("L", "68111", 1.0, "usaha kos-kosan", "a boarding house", "rooms for workers and students",
       ("kamar kos untuk pekerja dan mahasiswa",), ("Kos {brand}", "Kost {first}")),
)  # fmt: skip
del _B

_BRANDS: tuple[str, ...] = (
    "Berkah", "Barokah", "Sederhana", "Sari Rasa", "Mandiri", "Jaya Abadi", "Sejahtera", "Nusantara", "Citra",
    "Lestari", "Sumber Rejeki", "Maju Jaya", "Cahaya", "Harapan", "Rizki", "Amanah", "Mekar", "Melati",
    "Kenanga", "Bintang", "Sentosa", "Makmur", "Pelangi", "Dua Putri", "Kita", "Sahabat", "Anugerah", "Ceria",
)  # fmt: skip

# --- people -----------------------------------------------------------------------------------------


class _Naming(NamedTuple):
    """A naming tradition: its share among entrepreneurs and mentors, names, honorifics, home language."""

    share_entrepreneurs: float
    share_mentors: float
    language: str  # ISO 639-1 code of the home language, or "" for none beyond Indonesian
    honorifics_f: tuple[str, ...]
    honorifics_m: tuple[str, ...]
    given_f: tuple[str, ...]
    second_f: tuple[str, ...]
    given_m: tuple[str, ...]
    second_m: tuple[str, ...]


#: Jakarta's naming traditions: Javanese, Betawi, Sundanese, Minang, Batak, Chinese- and Arab-Indonesian.
_NAMING: dict[str, _Naming] = {
    "javanese": _Naming(
        0.33, 0.3, "jv", ("Bu", "Mbak"), ("Pak", "Mas"),
        ("Siti", "Sri", "Dewi", "Endang", "Wulan", "Ratna", "Retno", "Rina", "Tri", "Puji", "Ani", "Yuni",
         "Dian", "Eka",),
        ("Rahmawati", "Wahyuni", "Lestari", "Handayani", "Susanti", "Kurniasih", "Purwanti", "Rahayu",
         "Astuti", "Setyowati", "Wulandari", "Anggraini", "Utami", "Maharani",),
        ("Budi", "Agus", "Joko", "Bambang", "Slamet", "Hari", "Eko", "Wahyu", "Teguh", "Adi", "Bayu",
         "Rudi", "Sigit", "Imam",),
        ("Santoso", "Wibowo", "Prasetyo", "Susanto", "Setiawan", "Nugroho", "Hartono", "Purnomo",
         "Saputro", "Utomo", "Kurniawan", "Widodo", "Haryanto", "Suryadi",),
    ),
    "betawi": _Naming(
        0.25, 0.15, "", ("Mpok", "Bu"), ("Bang", "Pak"),
        ("Nurul", "Aminah", "Rohani", "Zaenab", "Maemunah", "Juleha", "Romlah", "Salamah", "Fitri",
         "Indah", "Siti", "Nur",),
        ("Aini", "Hasanah", "Nurjanah", "Zakiah", "Maryam", "Fauziah", "Rohmah", "Khodijah", "Sari",
         "Apriyani",),
        ("Muhammad", "Ahmad", "Abdul", "Rojali", "Mamat", "Sabeni", "Rahmat", "Syamsul", "Jaenudin",
         "Mursid", "Rizki",),
        ("Rojali", "Syafii", "Hidayat", "Mansur", "Sanusi", "Ridwan", "Jamal", "Fauzi", "Saleh", "Hamdani",),
    ),
    "sundanese": _Naming(
        0.15, 0.1, "su", ("Teh", "Bu"), ("Kang", "Pak"),
        ("Euis", "Neng", "Iis", "Yeni", "Lilis", "Tati", "Enok", "Ai", "Rina", "Nining",),
        ("Komariah", "Nurhasanah", "Rohaeti", "Sumiati", "Hayati", "Maryati", "Mulyani", "Rosita",
         "Kartika", "Suryani",),
        ("Asep", "Ujang", "Dadang", "Cecep", "Encep", "Jajang", "Yayan", "Deden", "Iwan", "Ade",),
        ("Saepudin", "Sunarya", "Hidayat", "Supriatna", "Kusnadi", "Permana", "Ruhiyat", "Sobari",
         "Nugraha", "Mulyana",),
    ),
    "minang": _Naming(
        0.08, 0.1, "", ("Uni", "Bu"), ("Uda", "Pak"),
        ("Yuliana", "Rahmi", "Yessi", "Fitria", "Silvia", "Desi", "Elvira", "Mira", "Nurhayati", "Rita",),
        ("Chaniago", "Tanjung", "Koto", "Putri", "Yanti", "Novita", "Syafitri",),
        ("Rahmat", "Fadli", "Yusuf", "Zulkifli", "Hendri", "Irwan", "Syafrizal", "Arif", "Riko", "Andi",),
        ("Chaniago", "Piliang", "Tanjung", "Koto", "Sikumbang", "Syahputra", "Effendi",),
    ),
    "batak": _Naming(
        0.06, 0.1, "", ("Bu", "Kak"), ("Bang", "Pak"),
        ("Maria", "Lenny", "Yohana", "Debora", "Ruth", "Nova", "Tiur", "Rotua", "Martha", "Sarah",),
        ("Siregar", "Simanjuntak", "Nasution", "Hutapea", "Sitompul", "Pardede", "Sinaga", "Lubis",
         "Manurung", "Simatupang", "Panjaitan", "Harahap", "Tambunan", "Situmorang", "Sihombing",),
        ("Rudolf", "Togar", "Parlindungan", "Hotman", "Johannes", "Samuel", "Daniel", "Martin", "Poltak",
         "Benny", "Ronald",),
        ("Siregar", "Simanjuntak", "Nasution", "Hutapea", "Sitompul", "Pardede", "Sinaga", "Lubis",
         "Manurung", "Simatupang", "Panjaitan", "Harahap", "Tambunan", "Situmorang", "Sihombing",),
    ),
    "chinese": _Naming(
        0.1, 0.2, "zh", ("Cik", "Bu"), ("Koh", "Pak"),
        ("Liliana", "Susan", "Melinda", "Jessica", "Stefani", "Meiliana", "Cindy", "Fenny", "Lanny",
         "Vivian", "Grace",),
        ("Tanoto", "Wijaya", "Gunawan", "Halim", "Salim", "Tanuwijaya", "Kusuma", "Santoso", "Hartono",
         "Lim", "Tan", "Setiadi", "Winata", "Sugiarto", "Chandra",),
        ("Andreas", "Hendra", "Kevin", "Steven", "Edwin", "Hendrik", "Yohanes", "Wilson", "Felix", "Tommy",
         "Arief", "Budi",),
        ("Tanoto", "Wijaya", "Gunawan", "Halim", "Salim", "Tanuwijaya", "Kusuma", "Santoso", "Hartono",
         "Lim", "Tan", "Setiadi", "Winata", "Sugiarto", "Chandra",),
    ),
    "arab": _Naming(
        0.03, 0.05, "ar", ("Bu", "Ummi"), ("Pak", "Abah"),
        ("Nabila", "Fatimah", "Aisyah", "Syarifah", "Laila", "Salma", "Khadijah", "Zahra",),
        ("Alatas", "Assegaf", "Baswedan", "Shahab", "Alaydrus", "Alhabsyi", "Alkaff", "Bafadhal",
         "Basalamah", "Aljufri",),
        ("Umar", "Husein", "Fadli", "Ali", "Hasan", "Ahmad", "Abdullah", "Salim", "Hamid", "Faisal",),
        ("Alatas", "Assegaf", "Baswedan", "Shahab", "Alaydrus", "Alhabsyi", "Alkaff", "Bafadhal",
         "Basalamah", "Aljufri",),
    ),
}  # fmt: skip

_SUPPORT: tuple[str, ...] = (
    "business_planning", "licensing", "legal", "marketing", "digital_marketing", "packaging_branding",
    "export", "bookkeeping", "financing", "production", "hr", "technology",
)  # fmt: skip
#: What an entrepreneur at each stage tends to ask for (weights over ``_SUPPORT``).
_NEED_WEIGHTS: dict[str, tuple[float, ...]] = {
    "idea": (5, 4, 0.5, 1.5, 1, 1, 0, 1, 1, 0.3, 0, 0.2),
    "early": (1, 3, 0.5, 3, 2, 3, 0.1, 3, 1.5, 1, 0.3, 0.5),
    "growth": (0.5, 0.5, 1, 1.5, 4, 1, 0.5, 1.5, 4, 2, 3, 1.5),
    "established": (0.3, 0.3, 1.5, 0.5, 1.5, 0.5, 4, 0.5, 4, 1, 2, 4),
}
_STAGE_WEIGHTS: tuple[float, ...] = (0.35, 0.40, 0.18, 0.07)
#: What mentors tend to offer.
_EXPERTISE_WEIGHTS: tuple[float, ...] = (3, 2, 1, 3, 3, 2, 1, 2, 3, 2, 1.5, 1.5)

#: How a need is phrased in a bio: (Indonesian verb phrase, English phrase).
_NEED_PHRASES: dict[str, tuple[tuple[str, ...], str]] = {
    "business_planning": (
        ("menyusun rencana usaha", "menghitung modal dan harga jual"),
        "writing a business plan",
    ),
    "licensing": (
        ("mengurus NIB dan izin usaha", "mengurus perizinan usaha"),
        "getting a business licence (NIB)",
    ),
    "legal": (
        ("menyusun kontrak dengan mitra", "memahami aspek hukum usaha"),
        "contracts and legal questions",
    ),
    "marketing": (("memperluas pasar", "mencari pelanggan baru"), "finding new customers"),
    "digital_marketing": (
        ("berjualan di marketplace dan media sosial", "promosi lewat Instagram dan TikTok"),
        "selling online and on social media",
    ),
    "packaging_branding": (
        ("memperbaiki kemasan dan merek", "membuat kemasan yang lebih menarik"),
        "packaging and branding",
    ),
    "export": (("menembus pasar ekspor", "mengirim produk ke luar negeri"), "exporting"),
    "bookkeeping": (("merapikan pembukuan", "memisahkan uang usaha dan uang pribadi"), "bookkeeping"),
    "financing": (("mendapat akses permodalan seperti KUR", "mencari modal usaha"), "access to finance"),
    "production": (("meningkatkan kapasitas produksi", "menjaga mutu produk"), "production and quality"),
    "hr": (("merekrut dan mengelola karyawan", "membangun tim yang solid"), "hiring and managing staff"),
    "technology": (
        ("digitalisasi usaha seperti aplikasi kasir dan stok", "memakai aplikasi untuk usaha"),
        "digitalising the business",
    ),
}
#: Phrasings that depend on what the business sells: (need, kind of business).
_NEED_PHRASES_BY_KIND: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("licensing", "packaged"): (
        ("mengurus NIB dan izin PIRT", "mengurus sertifikat halal", "mengurus izin edar BPOM"),
        "getting licences (NIB, PIRT, halal)",
    ),
    ("licensing", "food"): (
        ("mengurus NIB dan sertifikat halal", "mengurus sertifikat laik higiene"),
        "getting licences (NIB, halal)",
    ),
    ("packaging_branding", "service"): (
        ("membangun merek usaha", "memperbaiki tampilan dan merek"),
        "branding",
    ),
    ("export", "service"): (
        ("melayani pelanggan mancanegara", "menjangkau pasar luar negeri"),
        "foreign customers",
    ),
    ("production", "service"): (("meningkatkan mutu layanan", "membuat standar layanan"), "service quality"),
    ("production", "trade"): (
        ("mengatur stok dan pemasok", "mengelola persediaan barang"),
        "stock and suppliers",
    ),
}


def _business_kind(b: _Business) -> str:
    """Whether a business sells packaged food, meals, other goods, traded goods or a service (for bios)."""
    if b.kbli[:2] in ("10", "11"):
        return "packaged"
    if b.kbli[:2] == "56":
        return "food"
    return {"C": "goods", "A": "goods", "E": "goods", "G": "trade", "I": "service"}.get(b.sector, "service")


#: How a mentor's expertise is phrased: (Indonesian, English).
_EXPERTISE_WORDS: dict[str, tuple[str, str]] = {
    "business_planning": ("rencana usaha", "business planning"),
    "licensing": ("perizinan (NIB, PIRT, halal)", "licensing"),
    "legal": ("kontrak dan legalitas", "contracts and legal matters"),
    "marketing": ("pemasaran", "marketing"),
    "digital_marketing": ("pemasaran digital", "digital marketing"),
    "packaging_branding": ("kemasan dan merek", "packaging and branding"),
    "export": ("ekspor", "export"),
    "bookkeeping": ("pembukuan", "bookkeeping"),
    "financing": ("permodalan", "financing"),
    "production": ("produksi dan mutu", "production and quality"),
    "hr": ("SDM", "people management"),
    "technology": ("digitalisasi usaha", "digitalisation"),
}

_E_BIOS_ID: dict[str, tuple[str, ...]] = {
    "idea": (
        "Saya berencana membuka {biz}, {kind} di {kec}. Saya butuh bimbingan untuk {help}.",
        "Masih tahap ide: {kind} di {kec}, dengan fokus pada {product}. Ingin belajar {help}.",
        "Ingin memulai {kind} dari rumah di {kec} dengan nama {biz}. Perlu pendampingan {help}.",
    ),
    "early": (
        "Saya mengelola {biz} di {kec} sejak {year}, {sells} {product}. Saya butuh bantuan {help}.",
        "{biz} adalah {kind} kecil di {kec} yang baru berjalan {years} tahun. Sedang belajar {help}.",
        "Baru merintis {biz} ({product}) di {kec}; pelanggan mulai ada, tapi saya perlu bantuan {help}.",
    ),
    "growth": (
        "{biz} di {kec} sudah punya {staff} karyawan dan pelanggan tetap untuk {product}. "
        "Kami ingin tumbuh dan butuh bantuan {help}.",
        "Usaha kami, {biz} ({kind}), berjalan sejak {year} di {kec}. "
        "Pelanggan terus bertambah, sekarang perlu dukungan {help}.",
    ),
    "established": (
        "{biz} sudah {years} tahun melayani pelanggan di {kec} dengan {product}. "
        "Kami mencari mentor untuk {help}.",
        "Sejak {year} {biz} dikenal di {kec} untuk {product}, dengan {staff} karyawan. "
        "Langkah berikutnya: {help}.",
    ),
}
_E_BIOS_EN: dict[str, tuple[str, ...]] = {
    "idea": ("Planning to start {biz}, {kind} in {kec}. I need guidance on {help}.",),
    "early": ("I run {biz} in {kec}, {sells} {product}. Looking for help with {help}.",),
    "growth": (
        "{biz} in {kec} has {staff} staff and regular customers for {product}; we want help with {help}.",
    ),
    "established": (
        "{biz} has served {kec} for {years} years with {product}. We are looking for a mentor in {help}.",
    ),
}

#: Mentor roles per main sector: (Indonesian, English).
_ROLES: dict[str, tuple[tuple[str, str], ...]] = {
    "I": (
        ("Pemilik jaringan katering", "Owner of a catering business"),
        ("Pemilik tiga cabang rumah makan Padang", "Owner of three Padang restaurants"),
        ("Chef dan pendiri kedai kopi dengan lima gerai", "Chef and founder of a five-outlet coffee chain"),
        ("Pengelola waralaba minuman", "Operator of a drinks franchise"),
    ),
    "G": (
        ("Pendiri jaringan toko grosir sembako", "Founder of a chain of wholesale grocers"),
        (
            "Mantan manajer kategori di jaringan minimarket nasional",
            "Former category manager at a national minimarket chain",
        ),
        (
            "Pemilik toko online dengan puluhan ribu ulasan di marketplace",
            "Owner of a top-rated marketplace shop",
        ),
    ),
    "C": (
        ("Pemilik pabrik roti", "Owner of a bakery plant"),
        ("Pengusaha batik tulis", "Batik entrepreneur"),
        ("Eksportir kerajinan rotan", "Exporter of rattan crafts"),
        ("Pemilik usaha frozen food", "Owner of a frozen food company"),
    ),
    "S": (
        ("Pemilik jaringan salon", "Owner of a salon chain"),
        ("Pemilik usaha laundry kiloan dengan lima cabang", "Owner of a five-branch laundry business"),
    ),
    "J": (
        ("CTO startup e-commerce", "CTO of an e-commerce startup"),
        ("Konsultan transformasi digital UMKM", "Digital transformation consultant for small businesses"),
        ("Product manager di perusahaan teknologi", "Product manager at a tech company"),
    ),
    "M": (
        ("Akuntan publik", "Certified public accountant"),
        ("Pemilik agensi periklanan", "Owner of an advertising agency"),
        ("Konsultan pajak", "Tax consultant"),
    ),
    "N": (
        ("Pemilik biro perjalanan umrah", "Owner of an umrah travel agency"),
        ("Pemilik event organizer", "Owner of an events company"),
    ),
    "H": (
        ("Manajer operasional perusahaan logistik", "Operations manager at a logistics company"),
        ("Pemilik usaha ekspedisi", "Owner of a freight forwarder"),
    ),
    "R": (
        ("Produser pertunjukan seni Betawi", "Producer of Betawi performing arts"),
        ("Pengelola sanggar seni", "Director of an arts studio"),
    ),
    "P": (
        ("Pendiri lembaga kursus", "Founder of a training centre"),
        ("Dosen kewirausahaan", "Lecturer in entrepreneurship"),
    ),
    "A": (("Pengusaha agribisnis perkotaan", "Urban agribusiness entrepreneur"),),
    "Q": (("Pengelola yayasan sosial", "Director of a social foundation"),),
    "E": (("Pendiri usaha daur ulang plastik", "Founder of a plastics recycling company"),),
    "F": (("Kontraktor bangunan", "Building contractor"),),
    "L": (("Pengembang properti", "Property developer"),),
}
#: Roles that any sector's mentor may hold, chosen for their expertise: (area, Indonesian, English).
_EXPERT_ROLES: tuple[tuple[str, str, str], ...] = (
    ("financing", "Manajer keuangan di bank BUMN", "Finance manager at a state-owned bank"),
    ("financing", "Analis kredit UMKM di bank daerah", "Small-business credit analyst at a regional bank"),
    ("bookkeeping", "Konsultan pembukuan dan pajak UMKM", "Bookkeeping and tax adviser to small businesses"),
    ("legal", "Advokat dan konsultan hukum bisnis", "Business lawyer"),
    ("export", "Konsultan ekspor", "Export consultant"),
    ("licensing", "Pendamping proses produk halal", "Halal certification facilitator"),
    ("hr", "Manajer SDM di perusahaan multinasional", "HR manager at a multinational"),
    ("digital_marketing", "Praktisi pemasaran digital", "Digital marketing practitioner"),
    (
        "business_planning",
        "Dosen kewirausahaan di universitas negeri",
        "Entrepreneurship lecturer at a state university",
    ),
)
_M_BIOS_ID: tuple[str, ...] = (
    "{role} selama {years} tahun. Banyak membina usaha {sector}; bisa membantu soal {exp}.",
    "{role}, berpengalaman {years} tahun di bidang {sector}. Keahlian: {exp}.",
    "{role} ({years} tahun). Senang berbagi tentang {exp} dengan pelaku UMKM {sector}.",
)
_M_BIOS_EN: tuple[str, ...] = (
    "{role} with {years} years in {sector}. Happy to help with {exp}.",
    "{role}; {years} years of experience. Mentoring on {exp}.",
)

# --- availability ------------------------------------------------------------------------------------

_EVENINGS = ((19 * 60, 21 * 60), (19 * 60 + 30, 21 * 60), (20 * 60, 22 * 60), (18 * 60 + 30, 20 * 60 + 30))
_WEEKDAY_DAY = (
    (12 * 60, 13 * 60),
    (13 * 60, 15 * 60),
    (14 * 60, 16 * 60),
    (10 * 60, 12 * 60),
    (9 * 60, 11 * 60),
)
_SATURDAY = ((9 * 60, 12 * 60), (8 * 60, 11 * 60), (13 * 60, 16 * 60), (10 * 60, 14 * 60))
_SUNDAY = ((9 * 60, 12 * 60), (13 * 60, 16 * 60), (19 * 60, 21 * 60))

_MODE_CHOICES: tuple[str, ...] = ("either", "offline", "online")
_MODE_P: tuple[float, ...] = (0.65, 0.20, 0.15)
_POOL = 512


def _join_id(items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " serta " + items[-1]


def _join_en(items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _availability_pool(rng: np.random.Generator, size: int) -> list[tuple[Window, ...] | None]:
    """Realistic weekly availabilities: evenings, Saturday mornings, some weekday lunches; some blank."""
    pool: list[tuple[Window, ...] | None] = []
    for _ in range(size):
        if rng.random() < 0.25:
            pool.append(None)
            continue
        n = int(rng.choice(4, p=(0.25, 0.35, 0.25, 0.15))) + 1
        chosen: dict[int, tuple[int, int]] = {}
        while len(chosen) < n:
            kind = rng.random()
            if kind < 0.45:
                day, slots = int(rng.integers(0, 5)), _EVENINGS
            elif kind < 0.70:
                day, slots = 5, _SATURDAY
            elif kind < 0.90:
                day, slots = int(rng.integers(0, 5)), _WEEKDAY_DAY
            else:
                day, slots = 6, _SUNDAY
            chosen.setdefault(day, slots[int(rng.integers(len(slots)))])
        pool.append(tuple(Window(d, s, e) for d, (s, e) in sorted(chosen.items())))
    return pool


def _needs_pool(
    rng: np.random.Generator, weights: Sequence[float], size: int, counts: Sequence[float]
) -> list[tuple[str, ...]]:
    p = np.asarray(weights, dtype=float)
    p /= p.sum()
    out = []
    for _ in range(size):
        k = int(rng.choice(len(counts), p=counts)) + 1
        k = min(k, int((p > 0).sum()))
        out.append(tuple(_SUPPORT[i] for i in rng.choice(len(_SUPPORT), size=k, replace=False, p=p)))
    return out


def _kecamatan_arrays(boost: dict[str, float] | None = None) -> tuple[list[str], list[str], np.ndarray]:
    kec = reference.kecamatan()
    codes = list(kec)
    w = np.array([_POPULATION.get(c, 100) * (boost or {}).get(c, 1.0) for c in codes], dtype=float)
    return codes, [kec[c].name for c in codes], w / w.sum()


def _names(
    rng: np.random.Generator, n: int, female: np.ndarray, mentors: bool
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Display names, first names, honorifics and heritage languages ('' for none) of ``n`` people."""
    groups = list(_NAMING.values())
    w = np.array([g.share_mentors if mentors else g.share_entrepreneurs for g in groups], dtype=float)
    eth = rng.choice(len(groups), size=n, p=w / w.sum()).tolist()
    u1, u2, u3 = rng.random(n).tolist(), rng.random(n).tolist(), rng.random(n).tolist()
    cache: dict[tuple[str, str], str] = {}
    names, firsts, hons, langs = [], [], [], []
    for i, f in enumerate(female.tolist()):
        g = groups[eth[i]]
        given, second, hon = (
            (g.given_f, g.second_f, g.honorifics_f) if f else (g.given_m, g.second_m, g.honorifics_m)
        )
        first = given[int(u1[i] * len(given))]
        last = second[int(u2[i] * len(second))]
        if last == first:
            last = second[(int(u2[i] * len(second)) + 1) % len(second)]
        key = (first, last)
        name = cache.get(key)
        if name is None:
            name = cache[key] = f"{first} {last}"
        names.append(name)
        firsts.append(first)
        hons.append(hon[int(u3[i] * len(hon))])
        langs.append(g.language)
    return names, firsts, hons, langs


def _languages(
    rng: np.random.Generator, heritage: list[str], p_en: np.ndarray | float, p_heritage: float
) -> list[tuple[str, ...]]:
    n = len(heritage)
    en = (rng.random(n) < p_en).tolist()
    her = (rng.random(n) < p_heritage).tolist()
    cache: dict[tuple[bool, str], tuple[str, ...]] = {}
    out = []
    for i in range(n):
        key = (en[i], heritage[i] if her[i] else "")
        langs = cache.get(key)
        if langs is None:
            langs = cache[key] = ("id",) + (("en",) if key[0] else ()) + ((key[1],) if key[1] else ())
        out.append(langs)
    return out


def _entrepreneurs(rng: np.random.Generator, n: int) -> list[Entrepreneur]:
    sec_codes = list(_SECTOR_WEIGHTS)
    sec_p = np.array(list(_SECTOR_WEIGHTS.values()))
    sector_idx = rng.choice(len(sec_codes), size=n, p=sec_p / sec_p.sum())
    by_sector = {s: [b for b in _BUSINESSES if b.sector == s] for s in sec_codes}
    kinds = {b: _business_kind(b) for b in _BUSINESSES}
    phrases = {
        b: {a: _NEED_PHRASES_BY_KIND.get((a, kinds[b]), _NEED_PHRASES[a]) for a in _SUPPORT} for b in kinds
    }
    biz_idx = np.empty(n, dtype=np.int64)
    for k, s in enumerate(sec_codes):
        mask = sector_idx == k
        bw = np.array([b.weight for b in by_sector[s]])
        biz_idx[mask] = rng.choice(len(bw), size=int(mask.sum()), p=bw / bw.sum())
    stage_idx = rng.choice(4, size=n, p=_STAGE_WEIGHTS)
    codes, kec_names, kec_p = _kecamatan_arrays()
    kec_idx = rng.choice(len(codes), size=n, p=kec_p).tolist()
    female = rng.random(n) < 0.60
    names, firsts, hons, heritage = _names(rng, n, female, mentors=False)
    p_en = (
        np.where(stage_idx >= 2, 0.25, 0.08)
        + np.isin(sector_idx, [sec_codes.index("J"), sec_codes.index("M")]) * 0.3
    )
    langs = _languages(rng, heritage, p_en, 0.25)
    counts = (0.35, 0.45, 0.20)
    needs_pools = [_needs_pool(rng, _NEED_WEIGHTS[s], _POOL, counts) for s in STAGES]
    needs_pick = rng.integers(0, _POOL, size=n).tolist()
    avail_pool = _availability_pool(rng, _POOL)
    avail_pick = rng.integers(0, _POOL, size=n).tolist()
    modes = rng.choice(3, size=n, p=_MODE_P).tolist()
    with_kbli = (rng.random(n) < 0.5).tolist()
    pref = rng.random(n)
    prefers = np.where(female, pref < 0.14, pref < 0.03)
    english = (rng.random(n) < 0.10).tolist()
    u = rng.random((n, 6)).tolist()
    years = rng.integers(1, 3, size=n).tolist()
    old_years = rng.integers(5, 21, size=n).tolist()
    staff = rng.integers(2, 16, size=n).tolist()
    female_l, prefers_l = female.tolist(), prefers.tolist()
    stage_l, sector_l, biz_l = stage_idx.tolist(), sector_idx.tolist(), biz_idx.tolist()
    out: list[Entrepreneur] = []
    for i in range(n):
        sector = sec_codes[sector_l[i]]
        biz = by_sector[sector][biz_l[i]]
        stage = STAGES[stage_l[i]]
        ui = u[i]
        needs = needs_pools[stage_l[i]][needs_pick[i]]
        said = phrases[biz]
        sells = kinds[biz] != "service"
        brand = _BRANDS[int(ui[0] * len(_BRANDS))]
        biz_name = biz.names[int(ui[1] * len(biz.names))].format(hon=hons[i], first=firsts[i], brand=brand)
        kec = kec_names[kec_idx[i]]
        age = old_years[i] if stage == "established" else (years[i] + (2 if stage == "growth" else 0))
        if english[i]:
            template = _E_BIOS_EN[stage][int(ui[2] * len(_E_BIOS_EN[stage]))]
            bio = template.format(
                biz=biz_name,
                kind=biz.kind_en,
                kec=kec,
                product=biz.product_en,
                years=age,
                staff=staff[i],
                sells="selling" if sells else "offering",
                help=_join_en([said[x][1] for x in needs]),
            )
        else:
            template = _E_BIOS_ID[stage][int(ui[2] * len(_E_BIOS_ID[stage]))]
            bio = template.format(
                biz=biz_name,
                kind=biz.kind,
                kec=kec,
                product=biz.products[int(ui[3] * len(biz.products))],
                year=2026 - age,
                years=age,
                staff=staff[i],
                sells="menjual" if sells else "menawarkan",
                help=_join_id([said[x][0][int(ui[4] * len(said[x][0]))] for x in needs]),
            )
        g = "f" if female_l[i] else "m"
        out.append(
            Entrepreneur(
                id=f"E{i + 1:06d}",
                name=names[i],
                sector=sector,
                stage=stage,
                kecamatan=codes[kec_idx[i]],
                needs=needs,
                kbli=biz.kbli if with_kbli[i] else None,
                languages=langs[i],
                mode=_MODE_CHOICES[modes[i]],
                availability=avail_pool[avail_pick[i]],
                gender=g,
                prefers_mentor_gender=g if prefers_l[i] else None,
                bio=bio,
            )
        )
    return out


def _mentors(rng: np.random.Generator, n: int) -> list[Mentor]:
    sec_codes = list(_SECTOR_WEIGHTS)
    # Mentors spread more evenly over sectors than entrepreneurs do (square-root flattening).
    sec_p = np.sqrt(np.array(list(_SECTOR_WEIGHTS.values())))
    main_idx = rng.choice(len(sec_codes), size=n, p=sec_p / sec_p.sum()).tolist()
    codes, kec_names, kec_p = _kecamatan_arrays(_CBD_BOOST)
    kec_idx = rng.choice(len(codes), size=n, p=kec_p).tolist()
    female = rng.random(n) < 0.40
    names, _, _, heritage = _names(rng, n, female, mentors=True)
    langs = _languages(rng, heritage, 0.55, 0.35)
    avail_pool = _availability_pool(rng, _POOL)
    avail_pick = rng.integers(0, _POOL, size=n).tolist()
    modes = rng.choice(3, size=n, p=_MODE_P).tolist()
    capacity = (rng.choice(5, size=n, p=(0.10, 0.35, 0.30, 0.15, 0.10)) + 1).tolist()
    exp_p = np.array(_EXPERTISE_WEIGHTS) / sum(_EXPERTISE_WEIGHTS)
    female_l = female.tolist()
    stage_cache: dict[tuple[int, int], tuple[str, ...]] = {}
    out: list[Mentor] = []
    for i in range(n):
        main = sec_codes[main_idx[i]]
        related = _RELATED.get(main, ())
        n_extra = min(len(related), int(rng.choice(3, p=(0.35, 0.45, 0.20))))
        extra = (
            tuple(related[j] for j in sorted(rng.choice(len(related), size=n_extra, replace=False)))
            if n_extra
            else ()
        )
        if rng.random() < 0.55:
            length, start = 2, int(rng.choice(3, p=(0.40, 0.35, 0.25)))
        else:
            length, start = 3, int(rng.choice(2, p=(0.60, 0.40)))
        stages = stage_cache.setdefault((start, length), STAGES[start : start + length])
        k = int(rng.integers(2, 6))
        expertise = [_SUPPORT[j] for j in rng.choice(len(_SUPPORT), size=k, replace=False, p=exp_p)]
        expert_roles = [r for r in _EXPERT_ROLES if r[0] in expertise]
        if expert_roles and rng.random() < 0.35:
            area, role_id, role_en = expert_roles[int(rng.integers(len(expert_roles)))]
            expertise.remove(area)
            expertise.insert(0, area)
        else:
            role_id, role_en = _ROLES[main][int(rng.integers(len(_ROLES[main])))]
        cap = capacity[i]
        r = rng.random()
        active = cap if r < 0.15 else int(rng.integers(0, cap + 1)) if r < 0.75 else 0
        years = int(rng.integers(5, 31))
        kec = kec_names[kec_idx[i]]
        if rng.random() < 0.15:
            template = _M_BIOS_EN[int(rng.integers(len(_M_BIOS_EN)))]
            bio = template.format(
                role=role_en,
                years=years,
                sector=_SECTOR_WORDS[main][1],
                kec=kec,
                exp=_join_en([_EXPERTISE_WORDS[x][1] for x in expertise]),
            )
        else:
            template = _M_BIOS_ID[int(rng.integers(len(_M_BIOS_ID)))]
            bio = template.format(
                role=role_id,
                years=years,
                sector=_SECTOR_WORDS[main][0],
                kec=kec,
                exp=_join_id([_EXPERTISE_WORDS[x][0] for x in expertise]),
            )
        out.append(
            Mentor(
                id=f"M{i + 1:05d}",
                name=names[i],
                sectors=(main, *extra),
                stages=stages,
                kecamatan=codes[kec_idx[i]],
                expertise=tuple(expertise),
                capacity=cap,
                active_mentees=active,
                languages=langs[i],
                mode=_MODE_CHOICES[modes[i]],
                availability=avail_pool[avail_pick[i]],
                gender="f" if female_l[i] else "m",
                bio=bio,
            )
        )
    return out


def _history(
    rng: np.random.Generator, entrepreneurs: list[Entrepreneur], mentors: list[Mentor], n: int
) -> list[HistoryRecord]:
    """Earlier proposals whose outcomes follow the pair's fit (sector, needs, stage, distance) plus noise."""
    if n <= 0 or not entrepreneurs or not mentors:
        return []
    sec_codes = sorted(reference.sectors())
    area_bit = {a: 1 << j for j, a in enumerate(_SUPPORT)}
    kec = reference.kecamatan()
    e_idx = rng.integers(0, len(entrepreneurs), size=n)
    e_sector = np.array([sec_codes.index(entrepreneurs[i].sector) for i in e_idx.tolist()])
    m_sector_mask = np.array(
        [sum(1 << sec_codes.index(s) for s in m.sectors) for m in mentors], dtype=np.int64
    )
    # Half of the proposals went to a mentor of the same sector, as staff would have proposed.
    m_idx = rng.integers(0, len(mentors), size=n)
    same = rng.random(n) < 0.5
    for k in np.unique(e_sector[same]).tolist():
        candidates = np.flatnonzero(m_sector_mask & (1 << k))
        rows = np.flatnonzero(same & (e_sector == k))
        if len(candidates):
            m_idx[rows] = candidates[rng.integers(0, len(candidates), size=len(rows))]
    e_list, m_list = e_idx.tolist(), m_idx.tolist()
    sector_fit = ((m_sector_mask[m_idx] >> e_sector) & 1).astype(float)
    cover = np.empty(n)
    stage_fit = np.empty(n)
    dist = np.empty(n)
    for r in range(n):
        e, m = entrepreneurs[e_list[r]], mentors[m_list[r]]
        offered = sum(area_bit[a] for a in m.expertise)
        cover[r] = sum(1 for a in e.needs if area_bit[a] & offered) / len(e.needs)
        stage_fit[r] = e.stage in m.stages
        a, b = kec[e.kecamatan], kec[m.kecamatan]
        dx = (a.lon - b.lon) * 111.32 * math.cos(math.radians((a.lat + b.lat) / 2))
        dist[r] = math.hypot(dx, (a.lat - b.lat) * 110.57)
    fit = 1.2 * sector_fit + 1.2 * cover + 0.6 * stage_fit + 0.8 * np.exp(-dist / 7.0) + rng.normal(0, 0.6, n)
    declined = rng.random(n) < 1 / (1 + np.exp(2.0 * (fit - 1.6)))
    completed = ~declined & (rng.random(n) < 0.6)
    rating = np.clip(np.rint(1.0 + 1.2 * fit + rng.normal(0, 0.7, n)), 1, 5).astype(int)
    out: list[HistoryRecord] = []
    seen: set[tuple[int, int]] = set()
    for r, (d, c, rt) in enumerate(zip(declined.tolist(), completed.tolist(), rating.tolist(), strict=True)):
        key = (e_list[r], m_list[r])
        if key in seen:
            continue
        seen.add(key)
        outcome = "declined" if d else "completed" if c else "accepted"
        out.append(HistoryRecord(entrepreneurs[key[0]].id, mentors[key[1]].id, outcome, rt if c else None))
    return out


def generate_rooms() -> list[Room]:
    """One meeting room at each of the 44 kecamatan entrepreneurship centres, two in the biggest kecamatan."""
    full_day = (8 * 60, 21 * 60)
    office = (8 * 60, 16 * 60)
    rooms: list[Room] = []
    for k, (code, kc) in enumerate(reference.kecamatan().items()):
        pop = _POPULATION.get(code, 100)
        weekday = full_day if pop >= 200 or code in _CBD_BOOST else office
        saturday = (8 * 60, 15 * 60) if weekday == full_day else (8 * 60, 12 * 60)
        windows = [Window(d, *weekday) for d in range(5)] + [Window(5, *saturday)]
        if pop >= 300 and k % 2 == 0:
            windows.append(Window(6, 9 * 60, 13 * 60))  # some big centres open on Sunday mornings
        capacity = 1 if pop < 100 else 2 if pop < 200 else 3 if pop < 350 else 4
        name = f"Pusat Kewirausahaan (PKT) {kc.name}"
        rooms.append(Room(f"R-{code}", code, name, capacity, tuple(windows)))
        if pop >= 350:
            rooms.append(Room(f"R-{code}-2", code, f"{name}, Ruang 2", 2, tuple(windows[:6])))
    return rooms


def generate_city(
    n_entrepreneurs: int = 2000, n_mentors: int = 150, *, seed: int = 0, n_history: int | None = None
) -> City:
    """A deterministic synthetic Jakarta programme: the same ``seed`` always gives the same city.

    Parameters
    ----------
    n_entrepreneurs, n_mentors
        How many people to generate (ids ``E000001``.. and ``M00001``..).
    seed
        Seed of the random generator.
    n_history
        Earlier proposals among the generated people; by default ``n_entrepreneurs // 5``.
    """
    if n_entrepreneurs < 0 or n_mentors < 0:
        raise ValueError("the numbers of entrepreneurs and mentors must be 0 or more")
    e_rng, m_rng, h_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    entrepreneurs = _entrepreneurs(e_rng, n_entrepreneurs)
    mentors = _mentors(m_rng, n_mentors)
    history = _history(
        h_rng, entrepreneurs, mentors, n_entrepreneurs // 5 if n_history is None else n_history
    )
    return City(entrepreneurs, mentors, history, generate_rooms())
