"""What the card says about each corpus (:class:`CorpusCard`) and the licence the weights take: the most
restrictive of their training corpora's."""

from __future__ import annotations

from dataclasses import dataclass

from hf_ser.labels import CORPORA, LANGUAGES

SYNTHETIC_PREFIX = "synth_"

# Hub licence ids, from least to most restrictive; share-alike licences cannot be combined with each other.
LICENCE_RANK = {
    "mit": 0,
    "apache-2.0": 0,
    "cc-by-4.0": 1,
    "cc-by-sa-4.0": 2,
    "odbl": 2,
    "cc-by-nc-4.0": 3,
    "cc-by-nc-sa-4.0": 4,
    "other": 5,
}
SHARE_ALIKE = frozenset({"cc-by-sa-4.0", "odbl", "cc-by-nc-sa-4.0"})
_LICENCE_IDS = {
    "cc-by-4.0": "cc-by-4.0",
    "cc-by-sa-4.0": "cc-by-sa-4.0",
    "cc-by-nc-4.0": "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0": "cc-by-nc-sa-4.0",
    "mit": "mit",
    "apache-2.0": "apache-2.0",
    "odbl-1.0": "odbl",
    "odbl": "odbl",
}


@dataclass(frozen=True)
class CorpusCard:
    """What the card says about one training or test corpus."""

    name: str
    title: str
    language: str | None
    licence: str
    hub_licence: str
    url: str
    citation: str
    hub_id: str | None = None
    note: str = ""


def hub_licence_id(licence: str) -> str:
    """A registry licence string ('CC-BY-4.0', 'ODbL-1.0', 'EULA (research only)') -> Hub licence id or 'other'."""
    return _LICENCE_IDS.get(licence.strip().lower(), "other")


def corpus_card(name: str) -> CorpusCard:
    """Card facts of a corpus: from labels.CORPORA, the built-in synthetic corpus, or 'unknown' for others."""
    if name in CORPORA:
        c = CORPORA[name]
        return CorpusCard(
            c.name, c.title, c.language, c.licence, hub_licence_id(c.licence), c.url, c.citation, c.hub_id, c.note
        )
    if name.startswith(SYNTHETIC_PREFIX) and name[len(SYNTHETIC_PREFIX) :].upper() in LANGUAGES:
        code = name[len(SYNTHETIC_PREFIX) :].upper()
        return CorpusCard(
            name,
            f"hf_ser synthetic corpus, {LANGUAGES[code].name} part",
            code,
            "Apache-2.0 (synthesised by hf_ser, no recordings of people)",
            "apache-2.0",
            "hf_ser.data.corpora.synthetic",
            "hf_ser synthetic emotional speech (eSpeak NG voices), hf_ser.data.corpora.synthetic.",
        )
    return CorpusCard(name, name, None, "unknown (not in the hf_ser corpus registry)", "other", "", "")


def resolve_licence(corpora: list[str]) -> tuple[str, str]:
    """(Hub licence id, explanation) for weights trained on `corpora`: the most restrictive of their licences.

    Two different share-alike licences cannot both be honoured, and an unknown or research-only licence has no
    Hub id: both give 'other'.
    """
    cards = [corpus_card(n) for n in corpora]
    if not cards:
        return "other", "The training corpora are not recorded in metrics.json, so no licence can be derived."
    ids = {c.hub_licence for c in cards}
    share_alike = sorted(ids & SHARE_ALIKE)
    by_licence: dict[str, list[str]] = {}
    for c in cards:
        by_licence.setdefault(c.licence, []).append(c.title)
    listing = "; ".join(f"{lic}: {', '.join(titles)}" for lic, titles in by_licence.items())
    if "other" in ids:
        unclear = ", ".join(c.title for c in cards if c.hub_licence == "other")
        return "other", (
            f"Licence `other`: the terms of {unclear} are unknown, research-only or unverified, so the weights "
            f"carry no standard licence. Use them only as every training corpus allows ({listing}); ask the "
            f"corpus owners before any use beyond research."
        )
    if len(share_alike) > 1:
        return "other", (
            f"Licence `other`: the training corpora carry different share-alike licences ({', '.join(share_alike)}), "
            f"which cannot both be honoured by one licence. Use the weights only as every training corpus allows "
            f"({listing})."
        )
    chosen = max(ids, key=lambda i: (LICENCE_RANK[i], i))
    return chosen, (
        f"Licence `{chosen}`: the weights are derived from the training corpora and take the most restrictive of "
        f"their licences ({listing})."
    )
