"""Corpus loaders on fixture trees that copy the real layouts (tests/corpus_fixtures.py):
exact per-class counts, speakers, languages and skip reasons per loader; manifests and
tables; robustness (bad files, missing corpora); the cache; the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import corpus_fixtures as F  # noqa: E402

from hf_ser.data.audio import AudioError, PreprocessConfig, read_audio, read_audio_bytes, to_mono  # noqa: E402
from hf_ser.data.corpora import FEATURES, CorpusError, CorpusNotFound, load_corpus, scan_corpus, scan_source  # noqa: E402
from hf_ser.data.corpora.__main__ import main as cli_main  # noqa: E402
from hf_ser.labels import CORPORA, EMOTIONS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def kept(**counts: int) -> dict[str, int]:
    return {e: counts.get(e, 0) for e in EMOTIONS}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    for build in F.BUILDERS.values():
        build(root)
    F.make_manifest_corpus(root, "red", "ROM")
    return root


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


def prepare(name, root, cache, **options):
    return load_corpus(name, root, cache_dir=cache, num_proc=1, **options)


# (corpus, options, kept, dropped, speakers, languages, skip reasons (prefixes), extra report checks)
CASES = [
    (
        "oreau",
        {},
        kept(anger=2, disgust=2, fear=2, happiness=2, neutral=2, sadness=2),
        {"S": 2},
        2,
        {"FRE"},
        ["unknown label 'X'"],
        {"files_seen": 15, "sample_rates": {"44100": 12}, "channels": {"mono": 6, "stereo": 6}},
    ),
    (
        "oreau",
        {"release": "_01"},
        kept(anger=3, neutral=3, sadness=3),
        {},
        3,
        {"FRE"},
        ["unrecognised file name"],
        {"files_seen": 10},
    ),
    (
        "cafe",
        {},
        kept(anger=4, disgust=4, fear=4, happiness=4, neutral=2, sadness=4),
        {"S": 4},
        2,
        {"FRE"},
        [],
        {"sample_rates": {"48000": 22}},
    ),
    (
        "cafe",
        {"release": "192k"},
        kept(anger=2, disgust=2, fear=2, happiness=2, neutral=1, sadness=2),
        {"S": 2},
        1,
        {"FRE"},
        [],
        {"sample_rates": {"192000": 11}, "channels": {"stereo": 11}},
    ),
    (
        "emozionalmente",
        {},
        kept(anger=3, disgust=3, fear=3, happiness=3, neutral=3, sadness=2),
        {"surprise": 3},
        3,
        {"ITA"},
        ["missing file", "not listed in metadata/samples.csv"],
        {"sample_rates": {"16000": 16, "44100": 1}},
    ),
    (
        "emouerj",
        {},
        kept(anger=2, happiness=2, neutral=2, sadness=2),
        {},
        2,
        {"POR"},
        ["unknown label 'x'", "unrecognised file name"],
        {"channels": {"stereo": 8}},
    ),
    (
        "emoprosody",
        {},
        kept(anger=2, disgust=2, fear=2, happiness=2, neutral=2, sadness=2),
        {"surprise": 2},
        2,
        {"POR"},
        [],
        {"sample_rates": {"22050": 6, "44100": 6}},
    ),
    (
        "mesd",
        {},
        kept(anger=1, disgust=1, fear=1, happiness=1, neutral=1, sadness=1),
        {},
        3,
        {"SPA"},
        ["unrecognised file name"],
        {"sample_rates": {"48000": 6}},
    ),
    ("emofilm", {}, kept(anger=2, fear=2, happiness=1, sadness=1), {"dis": 2}, 4, {"SPA"}, ["unknown label 'xyz'"], {}),
    (
        "emofilm",
        {"part": "all"},
        kept(anger=2, fear=3, happiness=1, sadness=2),
        {"dis": 2},
        6,
        {"SPA", "ENG", "ITA"},
        ["unknown label 'xyz'"],
        {},
    ),
    (
        "subesco",
        {},
        kept(anger=1, disgust=1, fear=1, happiness=1, neutral=1, sadness=1),
        {"SURPRISE": 2},
        2,
        {"BEN"},
        ["unknown label 'BORED'"],
        {"sample_rates": {"44100": 3, "48000": 3}, "channels": {"mono": 4, "stereo": 2}},
    ),
    (
        "crema_d",
        {},
        kept(anger=1, disgust=1, fear=1, happiness=1, neutral=1, sadness=1),
        {},
        2,
        {"ENG"},
        ["silent after trimming", "unknown label 'CAL'"],
        {"files_seen": 8},
    ),
    (
        "resd",
        {},
        kept(anger=2, disgust=1, fear=1, happiness=1, neutral=2, sadness=2),
        {"enthusiasm": 1},
        4,
        {"RUS"},
        ["unknown label 'boredom'", "unreadable"],
        {"sample_rates": {"16000": 7, "44100": 2}},
    ),
    (
        "red",
        {},
        kept(anger=2, happiness=1, neutral=1),
        {},
        2,
        {"ROM"},
        ["missing file", "unknown label 'plictiseala'"],
        {},
    ),
]


@pytest.mark.parametrize(
    "name,options,want_kept,want_dropped,speakers,languages,reasons,extra",
    CASES,
    ids=[f"{c[0]}{'-' + '-'.join(map(str, c[1].values())) if c[1] else ''}" for c in CASES],
)
def test_loader_counts(
    data_root, cache_dir, name, options, want_kept, want_dropped, speakers, languages, reasons, extra
):
    ds, report = prepare(name, data_root, cache_dir, **options)
    assert report["kept"] == want_kept
    assert report["kept_total"] == len(ds) == sum(want_kept.values())
    assert report["dropped"] == want_dropped
    assert report["speakers"] == speakers == len(set(ds["speaker"]))
    assert set(ds["language"]) == languages
    got = sorted(s["reason"] for s in report["skipped"])
    assert len(got) == len(reasons), got
    for r, want in zip(got, sorted(reasons)):
        assert r.startswith(want), (r, want)
    for k, v in extra.items():
        assert report[k] == v, k
    # dataset and report agree, in the shared schema
    assert ds.features == FEATURES
    assert dict(Counter(ds.features["label"].int2str(ds["label"]))) == {k: v for k, v in want_kept.items() if v}
    assert all(c == name for c in ds["corpus"])
    assert report["hours"] > 0 and all(n > 0 for n in ds["length"])
    # macOS metadata is ignored silently, never reported or loaded
    assert not any("/._" in s["path"] or ".DS_Store" in s["path"] for s in report["skipped"])
    assert not any("/._" in p for p in ds["path"])


def test_audio_is_preprocessed(data_root, cache_dir):
    ds, _ = prepare("subesco", data_root, cache_dir)
    row = ds[0]
    wave, sr = sf.read(__import__("io").BytesIO(row["audio"]["bytes"]))
    assert sr == 16000 and wave.ndim == 1 and len(wave) == row["length"]
    assert 0.05 < np.abs(wave).max() <= 0.99


def test_speaker_ids(data_root, cache_dir):
    ds, _ = prepare("subesco", data_root, cache_dir)
    assert set(ds["speaker"]) == {"F_01", "M_05"}
    ds, _ = prepare("emouerj", data_root, cache_dir)
    assert set(ds["speaker"]) == {"m01", "w04"}
    ds, _ = prepare("emofilm", data_root, cache_dir)
    # accents, case and '+6' folded; '?' is unknown
    assert set(ds["speaker"]) == {"maria moscardo", "rosa guinon", "constantino romero", "unknown"}
    ds, _ = prepare("resd", data_root, cache_dir)
    assert set(ds["speaker"]) == {"dialog1", "dialog2", "dialog4", "dialog5"}


def test_undecodable_folder_name_is_read_and_reported_safely(data_root, cache_dir):
    ds, report = prepare("cafe", data_root, cache_dir, release="192k")
    anger = [p for p, lab in zip(ds["path"], ds["label"]) if lab == EMOTIONS.index("anger")]
    assert len(anger) == 2 and all("\ufffd" in p for p in anger)  # U+FFFD stands for the latin-1 byte
    json.dumps(report, ensure_ascii=False).encode("utf-8")  # the report is valid UTF-8


def test_oreau_release_option(data_root):
    with pytest.raises(CorpusError, match="release"):
        scan_corpus("oreau", data_root, release="_03")
    with pytest.raises(CorpusError, match="accepts: release"):
        scan_corpus("oreau", data_root, part="es")


def test_oreau_release_missing(tmp_path):
    F.make_oreau(tmp_path)
    import shutil

    shutil.rmtree(tmp_path / "oreau" / "OréauFR_02")
    with pytest.raises(CorpusNotFound, match="release='_01'"):
        scan_corpus("oreau", tmp_path)


def test_emofilm_without_legend(tmp_path):
    F.make_emofilm(tmp_path, legend=False)
    ds, report = prepare("emofilm", tmp_path, tmp_path / "cache")
    assert set(ds["speaker"]) == {"unknown"} and report["kept_total"] == 6
    assert any("legend" in n for n in report["notes"])


def test_crema_d_lfs_clone(tmp_path):
    F.make_crema_d(tmp_path, lfs="all")
    ds, report = prepare("crema_d", tmp_path, tmp_path / "cache")
    assert len(ds) == 0 and report["kept_total"] == 0
    assert sum(s["reason"].startswith("git-LFS pointer") for s in report["skipped"]) == 7
    assert any("git lfs pull" in n for n in report["notes"])


def test_crema_d_mostly_pointers(tmp_path):
    F.make_crema_d(tmp_path, lfs="most")
    ds, report = prepare("crema_d", tmp_path, tmp_path / "cache")
    assert report["kept"] == kept(anger=1)
    assert any("7 of 8 audio files are git-LFS pointer" in n for n in report["notes"])


def test_resd_csv_layout(tmp_path):
    F.make_resd(tmp_path, layout="csv")
    ds, report = prepare("resd", tmp_path, tmp_path / "cache")
    assert report["kept"] == kept(anger=2, disgust=1, fear=1, happiness=1, neutral=1, sadness=2)
    assert report["dropped"] == {"enthusiasm": 1}
    assert [s["reason"] for s in report["skipped"]] == ["unknown label 'boredom'"]
    assert set(ds["speaker"]) == {"dialog1", "dialog2", "dialog4"}


def test_one_bad_file_never_stops_a_preparation(tmp_path):
    F.make_subesco(tmp_path)
    folder = tmp_path / "subesco" / "SUBESCO"
    (folder / "F_01_OISHI_S_9_SAD_1.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")  # truncated header
    (folder / "F_01_OISHI_S_9_SAD_2.wav").write_bytes(b"")
    F.write_audio(folder / "F_01_OISHI_S_9_SAD_3.wav", 44100, 0.1)  # too short
    ds, report = prepare("subesco", tmp_path, tmp_path / "cache")
    assert report["kept_total"] == 6
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert reasons["F_01_OISHI_S_9_SAD_1.wav"].startswith("unreadable")
    assert reasons["F_01_OISHI_S_9_SAD_2.wav"].startswith("empty file")
    assert reasons["F_01_OISHI_S_9_SAD_3.wav"].startswith("too short")


class Blocked(Exception):
    """Raised by fails_after; not an OSError, so no `except OSError` on the way can swallow it."""


@contextmanager
def fails_after(seconds: int):
    """Raise Blocked in the block after `seconds` (SIGALRM interrupts a blocking open() of a FIFO)."""

    def timeout(*_):
        raise Blocked(f"still running after {seconds} s (blocked on a FIFO?)")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_fifo_in_a_corpus_folder_or_a_manifest_is_skipped_not_waited_on(tmp_path):
    """A FIFO named like audio, in a layout loader's folder or listed in a manifest, is reported as skipped with its
    file type; preparation checks the type (predict's check_audio_file) before anything opens it."""
    folder = F.make_mesd(tmp_path) / "Mexican Emotional Speech Database (MESD)"
    os.mkfifo(folder / "Fear_M_A_tubo.wav")
    F.write_audio(tmp_path / "m" / "a.wav", 16000)
    os.mkfifo(tmp_path / "m" / "pipe.wav")
    manifest = write_manifest(tmp_path / "m", "path,label,language\na.wav,angry,FRE\npipe.wav,sad,FRE\n")
    for source in ("mesd", str(manifest)):
        with fails_after(20):
            _, report = prepare(source, tmp_path, tmp_path / "cache")
        reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
        pipe = "Fear_M_A_tubo.wav" if source == "mesd" else "pipe.wav"
        assert reasons[pipe].startswith("not a regular file") and "is a FIFO" in reasons[pipe], reasons
        assert report["kept_total"] == (6 if source == "mesd" else 1)


def test_cache_is_reused_and_invalidated(tmp_path, monkeypatch):
    F.make_mesd(tmp_path)
    cache = tmp_path / "cache"
    ds1, r1 = prepare("mesd", tmp_path, cache)
    import hf_ser.data.corpora.prepare as base

    def boom(*a, **k):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(base.datasets.Dataset, "map", boom)
    ds2, r2 = prepare("mesd", tmp_path, cache)
    assert r2 == r1 and ds2["path"] == ds1["path"] and ds2["audio"] == ds1["audio"]
    monkeypatch.undo()
    folder = tmp_path / "mesd" / "Mexican Emotional Speech Database (MESD)"
    F.write_audio(folder / "Sadness_F_B_lluvia.wav", 48000)
    ds3, r3 = prepare("mesd", tmp_path, cache)
    assert r3["cache"] != r1["cache"] and r3["kept"]["sadness"] == 2
    os.utime(folder / "Fear_M_B_adios.wav", ns=(1, 1))  # a modified file changes the key too
    _, r4 = prepare("mesd", tmp_path, cache)
    assert r4["cache"] not in (r1["cache"], r3["cache"])
    assert json.loads((Path(r4["cache"]) / "report.json").read_text())["kept"] == r4["kept"]


def test_missing_corpus_names_folder_and_url(tmp_path):
    with pytest.raises(CorpusNotFound) as e:
        scan_corpus("emouerj", tmp_path)
    assert str(tmp_path / "emouerj") in str(e.value) and CORPORA["emouerj"].url in str(e.value)
    (tmp_path / "mder").mkdir()
    with pytest.raises(CorpusNotFound, match="manifest.csv"):
        scan_corpus("mder", tmp_path)


# ----------------------------------------------------------------------------- manifests


def write_manifest(folder: Path, text: str, name: str = "manifest.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def test_manifest_happy_path_relative_paths(tmp_path):
    F.write_audio(tmp_path / "m" / "clips" / "a.wav", 22050)
    F.write_audio(tmp_path / "m" / "clips" / "b.wav", 16000, channels=2)
    F.write_audio(tmp_path / "m" / "clips" / "c.wav", 16000)
    m = write_manifest(
        tmp_path / "m",
        "path,label,language,speaker,corpus\n"
        "clips/a.wav,angry,fr,s1,mine\nclips/b.wav,Sad,FRE,s2,mine\nclips/c.wav,surprise,French,s2,mine\n",
    )
    ds, report = load_corpus(str(m), tmp_path, cache_dir=tmp_path / "cache", num_proc=1)
    assert report["corpus"] == "mine" and report["kept"] == kept(anger=1, sadness=1)
    assert report["dropped"] == {"surprise": 1} and set(ds["language"]) == {"FRE"}
    assert report["channels"] == {"mono": 1, "stereo": 1}


def test_manifest_jsonl_label_map_unknown_and_missing(tmp_path):
    F.write_audio(tmp_path / "j" / "x.wav", 16000)
    F.write_audio(tmp_path / "j" / "y.wav", 16000)
    lines = [
        {"path": "x.wav", "label": "colere", "language": "FRE"},
        {"path": "y.wav", "label": "ennui", "language": "FRE"},
        {"path": "gone.wav", "label": "colere", "language": "FRE"},
        {"path": "y.wav", "label": "colere", "language": "xx"},
    ]
    m = write_manifest(tmp_path / "j", "\n".join(json.dumps(r) for r in lines), "set.jsonl")
    ds, report = load_corpus(
        str(m), tmp_path, cache_dir=tmp_path / "cache", num_proc=1, label_map='{"colere": "anger", "ennui": null}'
    )
    assert report["kept"] == kept(anger=1) and report["dropped"] == {"ennui": 1}
    reasons = sorted(s["reason"] for s in report["skipped"])
    assert reasons[0].startswith("missing file") and reasons[1] == "unknown language 'xx'"
    with pytest.raises(CorpusError, match="allowed"):
        load_corpus(str(m), tmp_path, label_map={"colere": "rage"})


def test_manifest_unknown_label_is_skipped(tmp_path):
    F.write_audio(tmp_path / "u" / "a.wav", 16000)
    F.write_audio(tmp_path / "u" / "b.wav", 16000)
    m = write_manifest(tmp_path / "u", "path;label;language\na.wav;happy;ITA\nb.wav;boh;ITA\n")
    _, report = load_corpus(str(m), tmp_path, cache_dir=tmp_path / "cache", num_proc=1)
    assert report["kept"] == kept(happiness=1)
    assert [s["reason"] for s in report["skipped"]] == ["unknown label 'boh'"]


def test_manifest_missing_columns(tmp_path):
    m = write_manifest(tmp_path / "bad", "file,emotion\na.wav,angry\n")
    with pytest.raises(CorpusError, match=r"lacks column\(s\) path, label, language"):
        scan_source(str(m))


def test_manifest_all_labels_unknown_raises_with_report(tmp_path):
    F.write_audio(tmp_path / "n" / "a.wav", 16000)
    m = write_manifest(tmp_path / "n", "path,label,language\na.wav,boh,SPA\n")
    with pytest.raises(CorpusNotFound) as e:
        load_corpus(str(m), tmp_path, cache_dir=tmp_path / "cache")
    assert e.value.report["skipped"][0]["reason"] == "unknown label 'boh'"


# ----------------------------------------------------------------------------- tables


def test_parquet_folder_with_classlabel(tmp_path):
    folder = F.make_label_table(tmp_path / "tbl")
    ds, report = load_corpus(str(folder), tmp_path, cache_dir=tmp_path / "cache", num_proc=1)
    assert report["kept"] == kept(anger=2, happiness=1, sadness=1) and report["dropped"] == {"surprised": 1}
    assert set(ds["language"]) == {"SPA"} and report["speakers"] == 3
    assert report["sample_rates"] == {"16000": 1, "44100": 3}


def test_parquet_language_option_and_missing_columns(tmp_path):
    folder = F.make_label_table(tmp_path / "tbl", with_language=False)
    ds, _ = load_corpus(str(folder), tmp_path, cache_dir=tmp_path / "cache", num_proc=1, language="ben")
    assert set(ds["language"]) == {"BEN"}
    with pytest.raises(CorpusError, match="no column 'emotion'"):
        scan_source(str(folder), label_column="emotion", language="BEN")


def test_table_rows_read_lazily_across_row_groups(data_root):
    from hf_ser.data.corpora.table import read_table_audio

    file = str(data_root / "resd" / "data" / "train-00000-of-00001.parquet")  # row groups of 4 rows
    sizes = [read_table_audio(file, i, "speech")[1] for i in (6, 0, 5, 1)]
    assert sizes == [16000, 16000, 16000, 44100]
    with pytest.raises(AudioError, match="unreadable"):
        read_table_audio(file, 99, "speech")


# ----------------------------------------------------------------------------- command line


def test_cli_list_shows_every_corpus_without_data(tmp_path, capsys):
    assert cli_main(["list", "--data_root", str(tmp_path / "nothing")]) == 0
    out = capsys.readouterr().out
    for info in CORPORA.values():
        line = next(l for l in out.splitlines() if l.startswith(info.name + " "))
        assert info.url in line and line.rstrip().endswith("no")
    assert len(CORPORA) >= 30 and list(CORPORA)[:13] == [  # the paper's 13 first, then EmoBox's
        *("oreau", "cafe", "emozionalmente", "emouerj", "emoprosody", "red", "mesd", "emofilm", "mder"),
        *("subesco", "mcaesd", "crema_d", "resd"),
    ]


def test_cli_module_entry_point(tmp_path):
    F.make_emouerj(tmp_path)
    res = subprocess.run(
        [sys.executable, "-m", "hf_ser.data.corpora", "list", "--data_root", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
    )
    assert res.returncode == 0
    assert next(l for l in res.stdout.splitlines() if l.startswith("emouerj ")).rstrip().endswith("yes")


def test_cli_prepare_report_json(data_root, tmp_path, capsys):
    report_file = tmp_path / "out" / "report.json"
    table = F.make_label_table(tmp_path / "tbl")
    rc = cli_main(
        [
            "prepare",
            "subesco",
            "oreau",
            "mcaesd",
            str(table),
            "--data_root",
            str(data_root),
            "--cache_dir",
            str(tmp_path / "cache"),
            "--num_proc",
            "1",
            "--output",
            str(report_file),
            "--option",
            "oreau.release=_01",
        ]
    )
    assert rc == 0
    reports = json.loads(report_file.read_text())
    assert set(reports) == {"subesco", "oreau", "mcaesd", "tbl"}
    for name in ("subesco", "oreau", "tbl"):
        r = reports[name]
        assert set(r["kept"]) == set(EMOTIONS) and isinstance(r["dropped"], dict)
        assert all(set(s) == {"path", "reason"} for s in r["skipped"])
        assert isinstance(r["speakers"], int) and isinstance(r["hours"], float) and r["sample_rates"]
    assert reports["subesco"]["dropped"] == {"SURPRISE": 2}
    assert reports["oreau"]["kept"] == kept(anger=3, neutral=3, sadness=3)  # the namespaced option
    missing = reports["mcaesd"]
    assert missing["kept_total"] == 0 and CORPORA["mcaesd"].url in missing["skipped"][0]["reason"]
    assert str(data_root / "mcaesd") in missing["skipped"][0]["path"]
    out = capsys.readouterr().out
    assert "== subesco:" in out and "mcaesd: SKIPPED" in out


def test_cli_prepare_exit_code_when_nothing_prepared(tmp_path):
    assert (
        cli_main(
            [
                "prepare",
                "cafe",
                "./nonexistent/manifest.csv",
                "--data_root",
                str(tmp_path),
                "--cache_dir",
                str(tmp_path / "cache"),
            ]
        )
        == 1
    )


# ----------------------------------------------------------------------------- audio helpers


def test_read_audio_bytes_and_to_mono(tmp_path):
    data, sr = read_audio_bytes(F.wav_bytes(44100, 0.3, 2))
    assert sr == 44100 and data.shape[1] == 2
    np.testing.assert_allclose(to_mono(data), data.mean(axis=1), atol=1e-7)
    with pytest.raises(AudioError, match="git-LFS pointer"):
        read_audio_bytes(F.LFS_POINTER.encode())
    p = F.write_lfs_pointer(tmp_path / "x.wav")
    with pytest.raises(AudioError, match="git-LFS pointer"):
        read_audio(p)


def test_preprocess_config_changes_the_cache_key(data_root, tmp_path):
    _, r1 = load_corpus("mesd", data_root, cache_dir=tmp_path, num_proc=1)
    _, r2 = load_corpus("mesd", data_root, cache_dir=tmp_path, num_proc=1, cfg=PreprocessConfig(target_lufs=-20.0))
    assert r1["cache"] != r2["cache"] and r1["kept"] == r2["kept"]


def test_two_processes_keep_order_and_report_every_file(tmp_path):
    folder = tmp_path / "mp"
    rows = ["path,label,language,speaker"]
    for i in range(100):
        name = f"c{i:03d}.wav"
        if i % 25 == 7:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(b"not audio")
        else:
            F.write_audio(folder / name, 16000 if i % 2 else 44100, 0.3, freq=150 + i)
        rows.append(f"{name},{EMOTIONS[i % 6]},ENG,s{i % 5}")
    m = write_manifest(folder, "\n".join(rows) + "\n")
    ds, report = load_corpus(str(m), tmp_path, cache_dir=tmp_path / "cache", num_proc=2)
    assert report["kept_total"] == len(ds) == 96
    assert sorted(Path(s["path"]).name for s in report["skipped"]) == ["c007.wav", "c032.wav", "c057.wav", "c082.wav"]
    assert [Path(p).name for p in ds["path"]] == [f"c{i:03d}.wav" for i in range(100) if i % 25 != 7]
    assert sum(report["sample_rates"].values()) == 96
