"""EmoBox's corpora beyond the paper's: each loader reads a fixture tree laid out like the distributed corpus, with
real file names taken from EmoBox's data/<corpus>/ files (tests/emobox_fixtures.py, tests/emobox_fixtures_av.py);
native label counts, speakers and languages equal what the fixture planted, and every file that does not belong is
skipped with a reason."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import emobox_fixtures as E  # noqa: E402
import emobox_fixtures_av as AV  # noqa: E402

from hf_ser.data.corpora import CorpusNotFound, load_corpus, scan_corpus  # noqa: E402
from hf_ser.data.corpora.__main__ import list_corpora  # noqa: E402
from hf_ser.data.corpora.iemocap import session_of  # noqa: E402
from hf_ser.data.corpora.prepare import map_labels  # noqa: E402
from hf_ser.data.corpora.registry import LOADERS  # noqa: E402
from hf_ser.labels import CORPORA, EMOTIONS, LANGUAGES  # noqa: E402

BUILDERS = {**E.BUILDERS, **AV.BUILDERS}


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[Path, dict[str, E.Planted]]:
    root = tmp_path_factory.mktemp("emobox")
    return root, {name: build(root) for name, build in BUILDERS.items()}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_loader_reads_its_fixture_tree(planted, name):
    data_root, trees = planted
    want = trees[name]
    scan = scan_corpus(name, data_root, **want.options)
    assert Counter(it.label for it in scan.items) == want.labels
    assert {it.speaker for it in scan.items} == want.speakers
    assert {it.language for it in scan.items} == want.languages
    assert all(it.corpus == name for it in scan.items)
    got = sorted(s["reason"] for s in scan.skipped)
    assert len(got) == len(want.skipped), got
    for reason, prefix in zip(got, sorted(want.skipped)):
        assert reason.startswith(prefix), (reason, prefix)
    assert not any("/._" in s["path"] or ".DS_Store" in s["path"] for s in scan.skipped)
    # labels outside the corpus's own classes are skipped by the preparation, with the label in the reason
    _, _, unknown = map_labels(scan)
    assert sorted(s["reason"] for s in unknown) == sorted(f"unknown label {label!r}" for label in want.unknown)
    # every class the fixture planted is one of the corpus's declared native labels
    declared = {code.lower() for code in LOADERS[name].labels}
    assert {label.lower() for label in want.labels} - {u.lower() for u in want.unknown} <= declared


def test_iemocap_speakers_sessions_and_merged_excited(planted, tmp_path):
    data_root, _ = planted
    scan = scan_corpus("iemocap", data_root)
    speakers = {it.speaker for it in scan.items}
    assert len(speakers) == 10 and "Ses01F" in speakers and "Ses05M" in speakers
    assert sorted({session_of(s) for s in speakers}) == [f"Ses0{i}" for i in range(1, 6)]
    turn = next(it for it in scan.items if it.path.endswith("Ses01M_script01_1_F004.wav"))
    assert turn.speaker == "Ses01F"  # the turn's speaker, not the dialog's marker wearer
    ds, report = load_corpus("iemocap", data_root, cache_dir=tmp_path, num_proc=1)
    assert report["kept"]["happiness"] == 2  # hap + exc, as SUPERB merges them
    assert report["dropped"] == {"fru": 1, "sur": 1, "xxx": 1}
    assert len(ds) == 9 and set(ds["speaker"]) <= speakers


def test_ravdess_song_channel_and_eight_classes(planted):
    data_root, _ = planted
    scan = scan_corpus("ravdess", data_root, channel="all")
    assert len(scan.items) == 17 and any(it.label == "03" and it.path.count("Song") for it in scan.items)
    assert len(LOADERS["ravdess"].labels) == 8
    assert scan_corpus("ravdess", data_root).notes[-1].startswith("1 file(s) of the other vocal channel")


def test_esd_parts(planted):
    data_root, _ = planted
    assert {it.language for it in scan_corpus("esd", data_root, part="en").items} == {"ENG"}
    assert {it.speaker for it in scan_corpus("esd", data_root, part="zh").items} == {"0001"}


def test_video_and_m4a_only_trees_say_how_to_extract_audio(tmp_path):
    (tmp_path / "enterface" / "subject 19").mkdir(parents=True)
    (tmp_path / "enterface" / "subject 19" / "s19_an_4.avi").write_bytes(b"RIFF")
    with pytest.raises(CorpusNotFound, match="ffmpeg"):
        scan_corpus("enterface", tmp_path)
    (tmp_path / "mead" / "M040" / "audio").mkdir(parents=True)
    (tmp_path / "mead" / "M040" / "audio" / "018.m4a").write_bytes(b"\x00")
    with pytest.raises(CorpusNotFound, match="ffmpeg"):
        scan_corpus("mead", tmp_path)
    (tmp_path / "meld" / "train_splits").mkdir(parents=True)
    (tmp_path / "meld" / "train_splits" / "dia0_utt0.mp4").write_bytes(b"\x00")
    (tmp_path / "meld" / "train_sent_emo.csv").write_text("Speaker,Emotion,Dialogue_ID,Utterance_ID\nJoey,joy,0,0\n")
    with pytest.raises(CorpusNotFound, match="ffmpeg"):
        scan_corpus("meld", tmp_path)
    (tmp_path / "emns" / "cleaned_webm").mkdir(parents=True)
    (tmp_path / "emns" / "cleaned_webm" / "recorded_audio_DTKHnUN.webm").write_bytes(b"\x1a")
    (tmp_path / "emns" / "metadata.csv").write_text(
        "id|emotion|audio_recording|user_id\n0|Sad|wavs/recorded_audio_DTKHnUN.webm|1\n"
    )
    with pytest.raises(CorpusNotFound, match="ffmpeg"):
        scan_corpus("emns", tmp_path)
    (tmp_path / "msp_podcast" / "Audios").mkdir(parents=True)
    with pytest.raises(CorpusNotFound, match="labels_consensus.csv"):
        scan_corpus("msp_podcast", tmp_path)
    (tmp_path / "iemocap").mkdir()
    with pytest.raises(CorpusNotFound, match="EmoEvaluation"):
        scan_corpus("iemocap", tmp_path)


def test_enterface_irregular_names_and_subject_folders(planted):
    data_root, _ = planted
    scan = scan_corpus("enterface", data_root)
    by_name = {Path(it.path).name: it for it in scan.items}
    assert by_name["s12_fe_2.wav"].speaker == "s11"  # the folder subject 11 holds files named s12_*
    assert by_name["s6_ha.wav"].label == "ha" and by_name["s6_ha.wav"].speaker == "s6"  # a whole take
    assert by_name["s_3_su_4.wav"].speaker == by_name["s3_an_1.wav"].speaker == "s3"
    assert by_name["s16_su_3avi.wav"].label == "su"
    assert {it.speaker for it in scan.items} == {"s3", "s6", "s11", "s16", "s19"}


def test_emovdb_file_words_map_to_the_folder_emotion(planted):
    data_root, _ = planted
    labels = {Path(it.path).name: it.label for it in scan_corpus("emovdb", data_root).items}
    assert labels["anger_1-28_0022.wav"] == "angry" and labels["disgust_1-28_0003.wav"] == "disgusted"
    assert labels["sleepiness_1-28_0019.wav"] == "sleepy" and labels["amused_141_168_0145.wav"] == "amused"


def test_aesdd_zero_padded_actor_is_one_speaker(planted):
    data_root, _ = planted
    speakers = {Path(it.path).name: it.speaker for it in scan_corpus("aesdd", data_root).items}
    assert speakers["f10 (01).wav"] == speakers["a01 (1).wav"] == "1"


def test_msp_podcast_reads_the_concensus_spelling(tmp_path):
    root = tmp_path / "msp_podcast"
    for name, _, _ in AV.MSP_ROWS:
        E.wav(root / "Audios" / name)
    AV.write_msp_labels(root / "Labels" / "labels_concensus.csv", AV.MSP_ROWS)
    scan = scan_corpus("msp_podcast", tmp_path)
    assert Counter(it.label for it in scan.items) == Counter(emo for _, emo, _ in AV.MSP_ROWS) and not scan.skipped


def test_msp_podcast_reads_the_json_labels_of_newer_releases(tmp_path):
    root = tmp_path / "msp_podcast"
    for name, _, _ in AV.MSP_ROWS:
        E.wav(root / "Audios" / name)
    payload = {
        name: {
            "EmoClass": emo,
            "EmoAct": 4.2,
            "EmoVal": 3.8,
            "EmoDom": 4.0,
            "SpkrID": spk,
            "Gender": "Female",
            "Split_Set": "Train",
        }
        for name, emo, spk in AV.MSP_ROWS
    }
    (root / "Labels").mkdir()
    (root / "Labels" / "labels_consensus.json").write_text(json.dumps(payload))
    scan = scan_corpus("msp_podcast", tmp_path)
    assert Counter(it.label for it in scan.items) == Counter(emo for _, emo, _ in AV.MSP_ROWS) and not scan.skipped
    assert {it.speaker for it in scan.items} == {"127", "1001", "unknown-0001"}
    (root / "Labels" / "labels_consensus.json").write_text('["not", "labels"]')
    with pytest.raises(CorpusNotFound, match="labels_consensus.json is not MSP-Podcast"):
        scan_corpus("msp_podcast", tmp_path)


def test_msp_podcast_unknown_speakers_are_grouped_by_podcast_not_pooled():
    from hf_ser.data.corpora.msp_podcast import speaker_of

    assert speaker_of("Unknown", "MSP-PODCAST_0001_0043.wav") == "unknown-0001"
    assert speaker_of("Unknown", "MSP-PODCAST_2170_0012.wav") == "unknown-2170"
    assert speaker_of(" ", "Audios/MSP-PODCAST_0153_0361.wav") == "unknown-0153"
    assert speaker_of("127", "MSP-PODCAST_0001_0008.wav") == "127"
    assert speaker_of("Unknown", "clip.wav") == "unknown"


def test_emns_reads_a_comma_separated_copy_too(tmp_path):
    root = tmp_path / "emns"
    E.wav(root / "cleaned_webm" / "recorded_audio_RF6OuQ4.wav", 48000)
    (root / "metadata.csv").write_text(
        'id,utterance,emotion,audio_recording,user_id\n0,"Oh, no.",Disgust,wavs/recorded_audio_RF6OuQ4.webm,1\n'
    )
    scan = scan_corpus("emns", tmp_path)
    assert [(it.label, it.speaker) for it in scan.items] == [("disgust", "1")]


def test_corpora_list_shows_30_corpora_and_17_languages(tmp_path):
    out = list_corpora(tmp_path)
    names = [line.split()[0] for line in out.splitlines()[2:-1]]
    assert names == list(CORPORA) and len(names) >= 30
    languages = {c for info in CORPORA.values() for c in (info.languages or (info.language,))}
    assert len(languages) >= 17 and languages <= set(LANGUAGES)
    assert out.splitlines()[-1].startswith(f"{len(CORPORA)} corpora in {len(languages)} languages")
    # every EmoBox corpus has a loader or says it loads through a manifest
    for info in list(CORPORA.values())[13:]:
        assert info.name in LOADERS or "manifest" in info.note, info.name
        assert info.title and info.licence and info.url.startswith("http") and info.citation


def test_paper_six_classes_are_the_first_canonical_names():
    for name in BUILDERS:
        mapped = {v for v in LOADERS[name].label_map.values() if v is not None}
        assert mapped <= set(EMOTIONS), name
