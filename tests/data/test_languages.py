"""EmoBox's languages and the lineage groups: new codes resolve, the paper's split and recipes stay as they were."""

from __future__ import annotations

import pytest

from hf_ser import labels
from hf_ser.data.corpora.__main__ import main as cli_main
from hf_ser.errors import UserError
from hf_ser.labels import (
    LANGUAGES,
    NO_PAPER_GROUP,
    check_languages,
    corpora_for_languages,
    group_title,
    groups,
    lineage_groups,
    register_lineage,
    resolve_groups,
    resolve_language,
)

PAPER = ["FRE", "ITA", "POR", "ROM", "SPA", "ARA", "BEN", "CHI", "ENG", "RUS"]
NEW = {"DEU": "de", "ELL": "el", "AMH": "am", "FAS": "fa", "POL": "pl", "TUR": "tr", "URD": "ur"}


def test_new_languages_resolve_by_code_iso_and_name():
    assert list(LANGUAGES)[:10] == PAPER
    for code, iso1 in NEW.items():
        lang = LANGUAGES[code]
        assert lang.iso639_1 == iso1 and len(lang.iso639_3) == 3 and lang.family and lang.name
        assert resolve_language(iso1) == resolve_language(lang.iso639_3) == resolve_language(lang.name) == code
    assert check_languages(["German", "fa", "pol", "farsi", "ger", "gre"]) == ["DEU", "FAS", "POL", "FAS", "DEU", "ELL"]
    assert len(LANGUAGES) >= 17


def test_the_paper_split_is_unchanged():
    assert groups() == {"neo_latin": PAPER[:5], "others": PAPER[5:]}
    assert all(LANGUAGES[c].group == NO_PAPER_GROUP for c in NEW)
    assert group_title("neo_latin") == "Neo-Latin" and group_title("indo_iranian") == "Indo-Iranian"


def test_lineage_groups_resolve_and_reject():
    table = lineage_groups()
    assert table["germanic"] == ["ENG", "DEU"]
    assert table["slavic"] == ["RUS", "POL"]
    assert table["indo_iranian"] == ["BEN", "FAS", "URD"]  # table order
    assert table["romance"] == PAPER[:5]
    assert all(c in LANGUAGES for codes in table.values() for c in codes)
    got = resolve_groups(["Germanic", "slavic"])
    assert got == {"germanic": ["ENG", "DEU"], "slavic": ["RUS", "POL"]}
    assert resolve_groups(["neo_latin", "others"]) == groups()
    with pytest.raises(UserError, match="unknown group 'celtic'.*germanic"):
        resolve_groups(["celtic"])
    with pytest.raises(UserError, match="share"):
        resolve_groups(["romance", "indo_european"])
    register_lineage("test_pair", ["de", "Polish"], "Test pair")
    try:
        assert (
            resolve_groups(["test-pair"]) == {"test_pair": ["DEU", "POL"]} and group_title("test_pair") == "Test pair"
        )
    finally:
        labels.LINEAGES.pop("test_pair"), labels.LINEAGE_TITLES.pop("test_pair")


def test_paper_languages_load_only_the_paper_corpora_by_default():
    assert corpora_for_languages(["ENG"]) == ["crema_d"]
    assert corpora_for_languages(["FRE", "CHI"]) == ["oreau", "cafe", "mcaesd"]


def test_corpora_list_names_every_language(tmp_path, capsys):
    assert cli_main(["list", "--data_root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "oreau" in out and "Neo-Latin" in out
