"""Emotions, languages, groups and the paper's corpora, kept as plain data.

Everything that names a language, a group or a corpus reads these tables, so a
user who adds a language or a group (``register_language``) gets recipes, splits
and table rows for it without touching any other module.
"""

from __future__ import annotations

from dataclasses import dataclass

from hf_ser.corpus_info import EMOBOX_CORPORA, CorpusInfo
from hf_ser.errors import UserError

# The six target classes, in the fixed order used for class ids everywhere.
EMOTIONS: tuple[str, ...] = ("anger", "disgust", "fear", "happiness", "neutral", "sadness")
EMOTION2ID: dict[str, int] = {name: i for i, name in enumerate(EMOTIONS)}
# The shared vocabulary every corpus's native labels map into (scan.NativeLabel.canonical): the six paper
# EMOTIONS first, in their order, then the other classes the corpora carry.
CANONICAL_EMOTIONS: tuple[str, ...] = (
    *EMOTIONS,
    "surprise",  # surprised, pleasant surprise (RAVDESS, TESS, SAVEE, ESD, IEMOCAP 'sur', ...)
    "calm",  # RAVDESS and TurEV-DB 'calm', distinct from neutral
    "contempt",  # MSP-Podcast, MEAD; EmoFilm's 'dis' (disprezzo)
    "boredom",  # EmoDB 'L' (Langeweile)
    "frustration",  # IEMOCAP 'fru'
    "enthusiasm",  # RESD
    "excitement",  # JL-Corpus 'excited', EMNS 'excited' (IEMOCAP 'exc' merges into happiness instead)
    "amusement",  # EmoV-DB 'amused'
    "sleepiness",  # EmoV-DB 'sleepy'
    "anxiety",  # JL-Corpus 'anxious' (secondary emotion)
    "apology",  # JL-Corpus 'apologetic'
    "assertiveness",  # JL-Corpus 'assertive'
    "concern",  # JL-Corpus 'concerned'
    "encouragement",  # JL-Corpus 'encouraging'
    "sarcasm",  # EMNS 'sarcastic'
    "pain",  # ASVP-ESD 'pain'
    "pleasure",  # ASVP-ESD 'pleasure'
    "disappointment",  # ASVP-ESD 'disappointment'
    "worry",  # MER2023 'worried'
    "other",  # IEMOCAP 'oth'/'xxx', MSP-Podcast 'O'/'X': no agreed class
)
SAMPLING_RATE = 16_000


@dataclass(frozen=True)
class Language:
    """One language of the study: the paper's code, its name, ISO 639 codes and its group."""

    code: str
    name: str
    iso639_1: str
    iso639_3: str
    group: str
    family: str


NO_PAPER_GROUP = ""  # Language.group of a language outside the paper's neo_latin/others split
LANGUAGES: dict[str, Language] = {}
CORPORA: dict[str, CorpusInfo] = {}


def register_language(lang: Language) -> None:
    """Add (or replace) a language; its group becomes available to recipes and tables."""
    LANGUAGES[lang.code] = lang


def register_corpus(info: CorpusInfo) -> None:
    """Add (or replace) a corpus in the registry."""
    CORPORA[info.name] = info


for _lang in (
    Language("FRE", "French", "fr", "fra", "neo_latin", "Romance"),
    Language("ITA", "Italian", "it", "ita", "neo_latin", "Romance"),
    Language("POR", "Portuguese", "pt", "por", "neo_latin", "Romance"),
    Language("ROM", "Romanian", "ro", "ron", "neo_latin", "Romance"),
    Language("SPA", "Spanish", "es", "spa", "neo_latin", "Romance"),
    Language("ARA", "Moroccan Arabic", "ar", "ary", "others", "Semitic"),
    Language("BEN", "Bengali", "bn", "ben", "others", "Indo-Aryan"),
    Language("CHI", "Mandarin Chinese", "zh", "cmn", "others", "Sinitic"),
    Language("ENG", "English", "en", "eng", "others", "Germanic"),
    Language("RUS", "Russian", "ru", "rus", "others", "Slavic"),
    # EmoBox's languages beyond the paper's ten: outside the paper's neo_latin/others split (group ""), so the
    # paper's recipes and group rows stay as they are; the LINEAGES below group them for analyses across languages.
    Language("DEU", "German", "de", "deu", NO_PAPER_GROUP, "Germanic"),
    Language("ELL", "Greek", "el", "ell", NO_PAPER_GROUP, "Hellenic"),
    Language("AMH", "Amharic", "am", "amh", NO_PAPER_GROUP, "Semitic"),
    Language("FAS", "Persian", "fa", "fas", NO_PAPER_GROUP, "Iranian"),
    Language("POL", "Polish", "pl", "pol", NO_PAPER_GROUP, "Slavic"),
    Language("TUR", "Turkish", "tr", "tur", NO_PAPER_GROUP, "Turkic"),
    Language("URD", "Urdu", "ur", "urd", NO_PAPER_GROUP, "Indo-Aryan"),
):
    register_language(_lang)

GROUP_TITLES: dict[str, str] = {"neo_latin": "Neo-Latin", "others": "Others"}

# Lineage groups (name -> language codes), separate from the paper's neo_latin/others split: the groups a
# lineage or cross-group analysis can be run over (resolve_groups). Data: register_lineage adds one.
LINEAGES: dict[str, tuple[str, ...]] = {
    "romance": ("FRE", "ITA", "POR", "ROM", "SPA"),  # the paper's five Neo-Latin languages
    "germanic": ("ENG", "DEU"),
    "slavic": ("RUS", "POL"),
    "indo_iranian": ("BEN", "URD", "FAS"),  # Indo-Aryan (Bengali, Urdu) and Iranian (Persian)
    "semitic": ("ARA", "AMH"),
    "indo_european": ("FRE", "ITA", "POR", "ROM", "SPA", "ENG", "DEU", "RUS", "POL", "BEN", "URD", "FAS", "ELL"),
    "non_indo_european": ("ARA", "AMH", "CHI", "TUR"),
}
LINEAGE_TITLES: dict[str, str] = {
    "romance": "Romance",
    "germanic": "Germanic",
    "slavic": "Slavic",
    "indo_iranian": "Indo-Iranian",
    "semitic": "Semitic",
    "indo_european": "Indo-European",
    "non_indo_european": "Non-Indo-European",
}

for _c in (
    CorpusInfo(
        "oreau",
        "Oréau French emotional speech database",
        "FRE",
        "CC-BY-4.0",
        "https://zenodo.org/records/4405783",
        "L. Kerkeni, C. Cleder, Y. Serrestou, K. Raouf. French emotional speech database - Oréau. Zenodo, 2020.",
        six_class_count=372,
        note="two releases: _01 (502 files) and _02 (434 validated, default)",
    ),
    CorpusInfo(
        "cafe",
        "CaFE: Canadian French Emotional speech dataset",
        "FRE",
        "CC-BY-NC-SA-4.0",
        "https://zenodo.org/records/1478765",
        "P. Gournay, O. Lahaie, R. Lefebvre. A Canadian French emotional speech dataset. ACM MMSys 2018.",
        six_class_count=792,
    ),
    CorpusInfo(
        "emozionalmente",
        "Emozionalmente",
        "ITA",
        "CC-BY-4.0",
        "https://zenodo.org/records/6569824",
        "F. Catania, J. W. Wilke, F. Garzotto. Emozionalmente: a crowd-sourced corpus of simulated "
        "emotional speech in Italian. IEEE/ACM TASLP, 2025.",
        six_class_count=5916,
    ),
    CorpusInfo(
        "emouerj",
        "emoUERJ",
        "POR",
        "CC-BY-4.0",
        "https://zenodo.org/records/5427549",
        "R. G. Bastos Germano et al. emoUERJ: an emotional speech database in Portuguese. Zenodo, 2021.",
        six_class_count=377,
        note="4 classes",
    ),
    CorpusInfo(
        "emoprosody",
        "Portuguese emotional prosody sentences (Castro & Lima 2010)",
        "POR",
        "unknown",
        "https://doi.org/10.3758/BRM.42.1.74",
        "S. L. Castro, C. F. Lima. Recognizing emotions in spoken language: a validated set of Portuguese "
        "sentences and pseudosentences for research on emotional prosody. Behav. Res. Methods 42(1), 2010.",
        six_class_count=304,
        note="journal supplementary material",
    ),
    CorpusInfo(
        "red",
        "RED: Romanian emotion recognition audio database",
        "ROM",
        "unknown",
        "https://doi.org/10.1109/ISETC56213.2022.10010268",
        "T. Telebici, L. Muscar, L. Grama, C. Rusu. Emotion recognition audio database for service robots. ISETC 2022.",
        six_class_count=2100,
        note="layout not public: load through a manifest (see docs/manifests.md)",
    ),
    CorpusInfo(
        "mesd",
        "MESD: Mexican Emotional Speech Database",
        "SPA",
        "CC-BY-4.0",
        "https://data.mendeley.com/datasets/cy34mh68j9",
        "M. M. Duville, L. M. Alonso-Valerdi, D. I. Ibarra-Zarate. The Mexican Emotional Speech Database "
        "(MESD). IEEE EMBC 2021.",
        six_class_count=862,
    ),
    CorpusInfo(
        "emofilm",
        "EmoFilm (Spanish part)",
        "SPA",
        "EULA (research only)",
        "https://zenodo.org/records/1326428",
        "E. Parada-Cabaleiro, G. Costantini, A. Batliner, A. Baird, B. Schuller. Categorical vs dimensional "
        "perception of Italian emotional speech. Interspeech 2018.",
        six_class_count=309,
        note="'dis' is contempt (dropped); no neutral",
    ),
    # Licence unverified: CC-BY-4.0 comes from the third-party list SuperKogito/SER-datasets only; the IEEE DataPort
    # page was not readable here.
    CorpusInfo(
        "mder",
        "Moroccan dialect emotion recognition dataset",
        "ARA",
        "CC-BY-4.0 (unverified)",
        "https://ieee-dataport.org/",
        "M. A. Soumiaa. Moroccan dialect emotion recognition dataset. 2024.",
        note="layout not public: load through a manifest (see docs/manifests.md)",
    ),
    CorpusInfo(
        "subesco",
        "SUBESCO: SUST Bangla Emotional Speech Corpus",
        "BEN",
        "CC-BY-4.0",
        "https://zenodo.org/records/4526477",
        "S. Sultana, M. S. Rahman, M. R. Selim, M. Z. Iqbal. SUST Bangla Emotional Speech Corpus (SUBESCO). "
        "PLOS ONE 16(4), 2021.",
        hub_id="sajid73/SUBESCO-audio-dataset",
        six_class_count=6000,
    ),
    CorpusInfo(
        "mcaesd",
        "MCAESD: Mandarin Chinese Auditory Emotions Stimulus Database",
        "CHI",
        "unknown",
        "https://osf.io/sfbm6/",
        "B. Gong et al. The Mandarin Chinese auditory emotions stimulus database. Behav. Res. Methods 55(3), 2023.",
        six_class_count=4006,
        note="naming not public: load through a manifest (see docs/manifests.md)",
    ),
    CorpusInfo(
        "crema_d",
        "CREMA-D",
        "ENG",
        "ODbL-1.0",
        "https://github.com/CheyneyComputerScience/CREMA-D",
        "H. Cao, D. G. Cooper, M. K. Keutmann, R. C. Gur, A. Nenkova, R. Verma. CREMA-D: crowd-sourced "
        "emotional multimodal actors dataset. IEEE Trans. Affective Computing 5(4), 2014.",
        six_class_count=7442,
        note="git-LFS: run 'git lfs pull' in the clone",
    ),
    CorpusInfo(
        "resd",
        "RESD: Russian Emotional Speech Dialogs",
        "RUS",
        "MIT",
        "https://huggingface.co/datasets/Aniemore/resd",
        "I. Lubenets, N. Davidchuk, A. Amentes. Aniemore. https://github.com/aniemore/Aniemore, 2021.",
        hub_id="Aniemore/resd",
        six_class_count=1198,
    ),
    *EMOBOX_CORPORA,  # EmoBox's corpora beyond the paper's (hf_ser/corpus_info.py)
):
    register_corpus(_c)


def groups() -> dict[str, list[str]]:
    """The paper's split (and any user-registered group): group name -> language codes, in table order.
    Languages outside it (group ``NO_PAPER_GROUP``) are left out, so the paper's recipes plan what they did."""
    out: dict[str, list[str]] = {}
    for lang in LANGUAGES.values():
        if lang.group != NO_PAPER_GROUP:
            out.setdefault(lang.group, []).append(lang.code)
    return out


def study_languages() -> list[str]:
    """The languages of the paper's split (and of user-registered groups), in table order: the default columns of
    Tables 2-3 and the default test languages of evaluate/upstream, so the languages added for other corpora change
    nothing of the paper's outputs."""
    return [lang.code for lang in LANGUAGES.values() if lang.group != NO_PAPER_GROUP]


def group_title(group: str) -> str:
    """Human title of a group ('neo_latin' -> 'Neo-Latin', 'indo_iranian' -> 'Indo-Iranian')."""
    return GROUP_TITLES.get(group) or LINEAGE_TITLES.get(group) or group.replace("_", " ").title()


def register_lineage(name: str, codes: list[str] | tuple[str, ...], title: str | None = None) -> None:
    """Add (or replace) a lineage group of languages (codes as :func:`check_languages` takes them)."""
    LINEAGES[name] = tuple(check_languages(list(codes)))
    if title:
        LINEAGE_TITLES[name] = title


def lineage_groups() -> dict[str, list[str]]:
    """Lineage group name -> its registered language codes, in table order."""
    return {name: language_order(codes) for name, codes in LINEAGES.items()}


def resolve_groups(names: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
    """Group name -> language codes for user-chosen groups: a paper group (neo_latin, others) or a lineage
    (germanic, slavic, ...), any case, '-' or '_'; UserError naming the unknown one and every known name."""
    paper, lineages = groups(), lineage_groups()
    out: dict[str, list[str]] = {}
    for name in names:
        key = str(name).strip().lower().replace("-", "_")
        if key in paper:
            out[key] = paper[key]
        elif key in lineages:
            out[key] = lineages[key]
        else:
            raise UserError(f"unknown group {name!r}; known: {', '.join([*paper, *lineages])}")
    overlap = [(a, b) for i, a in enumerate(out) for b in list(out)[i + 1 :] if set(out[a]) & set(out[b])]
    if overlap:
        a, b = overlap[0]
        raise UserError(
            f"groups {a} and {b} share {', '.join(sorted(set(out[a]) & set(out[b])))}; pick disjoint groups"
        )
    return out


# Other spellings of a language beyond its paper code, ISO 639-1/-3 codes and English name: ISO 639-2/B codes
# and macrolanguage codes that differ from those, and the short names people write.
LANGUAGE_ALIASES: dict[str, str] = {
    "rum": "ROM",  # ISO 639-2/B (the paper's ROM is not ISO 639-3 `rom`, which is Romany)
    "ara": "ARA",
    "arabic": "ARA",
    "zho": "CHI",
    "chinese": "CHI",
    "mandarin": "CHI",
    "ger": "DEU",  # ISO 639-2/B
    "gre": "ELL",  # ISO 639-2/B
    "per": "FAS",  # ISO 639-2/B
    "pes": "FAS",  # ISO 639-3 Iranian Persian (fas is the macrolanguage)
    "farsi": "FAS",
}


def resolve_language(value: object) -> str | None:
    """The paper's language code for a paper code, an ISO 639-1/-2/-3 code or an English name, any case ('fr',
    'fra', 'French', 'FRE' -> 'FRE'); None when unknown or empty. The one table behind every flag and column
    that names a language."""
    if value is None:
        return None
    v = str(value).strip()
    if not v or v.lower() == "nan":
        return None
    if v.upper() in LANGUAGES:
        return v.upper()
    low = v.lower()
    for lang in LANGUAGES.values():
        if low in (lang.iso639_1, lang.iso639_3, lang.name.lower()):
            return lang.code
    code = LANGUAGE_ALIASES.get(low)
    return code if code in LANGUAGES else None


def check_languages(codes: list[str] | tuple[str, ...]) -> list[str]:
    """The paper's codes of the languages given as paper codes, ISO 639 codes or English names
    (:func:`resolve_language`); UserError naming the unknown one and the known codes."""
    out = []
    for code in codes:
        c = resolve_language(code)
        if c is None:
            raise UserError(
                f"unknown language code {code!r}; known codes: {' '.join(LANGUAGES)}, or an ISO 639 code (fr, fra) "
                "or an English name (French)"
            )
        out.append(c)
    return out


# Native label names met in corpora and in other models' id2label -> the six classes (one table for manifests,
# tables and hf_ser.infer.evaluate); matching is on the lower-cased letters of a label.
EMOTION_ALIASES: dict[str, str] = {
    **dict.fromkeys(("anger", "angry", "ang", "mad", "rage"), "anger"),
    **dict.fromkeys(("disgust", "disgusted", "dis", "disgusting"), "disgust"),
    **dict.fromkeys(("fear", "fearful", "fea", "afraid", "scared", "fright"), "fear"),
    **dict.fromkeys(("happiness", "happy", "hap", "joy", "joyful", "joyous"), "happiness"),
    **dict.fromkeys(("neutral", "neu", "neutrality"), "neutral"),
    **dict.fromkeys(("sadness", "sad", "sorrow"), "sadness"),
}


def language_order(codes) -> list[str]:
    """Distinct language codes in table order (unknown codes last, alphabetically): the one order of every
    table, figure and metrics dict."""
    order = list(LANGUAGES)
    return sorted(set(codes), key=lambda c: (order.index(c) if c in order else len(order), c))


def corpora_for_languages(codes: list[str]) -> list[str]:
    """Names of the registered corpora a recipe loads for `codes` when it names no --corpora, in registry order:
    those whose language (or one of whose languages) is in `codes` and that are ``by_language`` (the paper's
    corpora for its ten languages, every corpus of another language; name the others with --corpora)."""
    wanted = set(codes)
    return [c.name for c in CORPORA.values() if c.by_language and wanted & {c.language, *c.languages}]
