"""Tiny fixture trees that copy each corpus's distributed layout (docs/corpora.md, CORPORA.md):
real folder and file names (non-ASCII, mojibake and undecodable folder names, an extra top
folder), metadata files (CSV, TSV appendices with 5 header lines, xlsx legend, parquet), the
real audio formats (44.1/48/192 kHz, 16/24-bit, stereo, AIFF) and the real oddities (a
silent CREMA-D file, git-LFS pointers, ``..._SURPRISE_3].wav``, AppleDouble ``._`` files,
``.DS_Store``, a label outside the map, unrecognised names, missing and unlisted files).

Every builder is ``make_<corpus>(data_root, ...) -> Path`` (the corpus folder
``<data_root>/<name>``); the expected counts are written out in tests/data/test_corpora.py.
Audio is 0.3-0.5 s of a tone, so a whole tree prepares in well under a second.
"""

from __future__ import annotations

import io
import json
import os
import unicodedata
from pathlib import Path

import numpy as np
import soundfile as sf

LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 123456\n"
)


# How a zip made on Windows (cp437 names) shows UTF-8 folder names once extracted.
def mojibake(name: str) -> str:
    """'Colère' -> 'Col├¿re' (UTF-8 bytes read as code page 437)."""
    return name.encode("utf-8").decode("cp437")


def tone(
    sr: int, seconds: float = 0.4, channels: int = 1, freq: float = 220.0, amp: float = 0.3, seed: int = 0
) -> np.ndarray:
    """A voiced-like burst: a tone with harmonics and a little noise, 10 ms fades; (frames, channels)."""
    t = np.arange(int(sr * seconds)) / sr
    x = amp * (np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(2 * np.pi * 2 * freq * t))
    x += 0.01 * np.random.default_rng(seed).standard_normal(len(t))
    fade = min(len(t) // 2, int(0.01 * sr))
    ramp = np.linspace(0, 1, fade)
    x[:fade] *= ramp
    x[len(x) - fade :] *= ramp[::-1]
    x = x.astype(np.float32)
    return np.stack([x * (0.9**c) for c in range(channels)], axis=1)


def write_audio(
    path: Path,
    sr: int = 16000,
    seconds: float = 0.4,
    channels: int = 1,
    subtype: str = "PCM_16",
    silent: bool = False,
    freq: float = 220.0,
) -> Path:
    """Write a tiny WAV/AIFF (format from the suffix); `silent` writes digital silence."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = tone(sr, seconds, channels, freq)
    if silent:
        data[:] = 0.0
    fmt = "AIFF" if path.suffix.lower() in (".aif", ".aiff") else "WAV"
    sf.write(os.fsencode(path), data, sr, subtype=subtype, format=fmt)
    return path


def wav_bytes(sr: int = 16000, seconds: float = 0.4, channels: int = 1) -> bytes:
    """Encoded WAV bytes (for parquet fixtures)."""
    buf = io.BytesIO()
    sf.write(buf, tone(sr, seconds, channels), sr, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def write_lfs_pointer(path: Path) -> Path:
    """A git-LFS pointer file where the audio should be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LFS_POINTER)
    return path


def macos_junk(folder: Path, like: str) -> None:
    """An AppleDouble resource fork ``._<like>`` (not audio) and a ``.DS_Store``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"._{like}").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")


# ----------------------------------------------------------------------------- Oréau


def make_oreau(data_root: Path) -> Path:
    """Both releases. ``OréauFR_02/OréauFR_02/{m,f}/sess?/`` (NFC é, the nested folder of the zip):
    speakers 10 (stereo) and 22 (one `z` stem), 7 emotions each, plus ``10a03Xa.wav`` (X not a
    label) and macOS junk. ``OréauFR_01/`` (NFD é, as macOS writes it): speakers 10, 22, 31 x
    C N T, plus ``notes.wav`` (unrecognised). All 44.1 kHz."""
    root = data_root / "oreau"
    v2 = root / "OréauFR_02" / "OréauFR_02"
    for spk, gender, channels, sentence in (("10", "m", 2, "a01"), ("22", "f", 1, "z01")):
        for i, emo in enumerate("CDJNPTS"):
            write_audio(v2 / gender / "sessa" / f"{spk}{sentence}{emo}a.wav", 44100, 0.4, channels, freq=200 + 20 * i)
    write_audio(v2 / "m" / "sessb" / "10a03Xa.wav", 44100)
    macos_junk(v2 / "m" / "sessa", "10a01Ja.wav")
    (root / "OréauFR_02" / "contents.txt").write_text("Oréau v2\n")
    v1 = root / unicodedata.normalize("NFD", "OréauFR_01")
    for spk, gender in (("10", "m"), ("22", "f"), ("31", "m")):
        for emo in "CNT":
            write_audio(v1 / gender / "sessc" / f"{spk}a02{emo}b.wav", 44100)
    write_audio(v1 / "notes.wav", 44100)
    return root


# ----------------------------------------------------------------------------- CaFE

CAFE_FOLDERS = {"C": "Colère", "D": "Dégoût", "J": "Joie", "P": "Peur", "S": "Surprise", "T": "Tristesse"}


def make_cafe(data_root: Path) -> Path:
    """Both releases. ``CaFE_48k/`` with mojibake emotion folders, actors 01 (24-bit) and 02
    (16-bit) x 6 emotions x {Faible 1, Fort 2} + ``Neutre/AA-N-1-1.wav``: 26 files, 48 kHz.
    ``CaFE_192k/`` (AIFF, 24-bit, 192 kHz): actor 03 only, one folder with an undecodable
    latin-1 name, neutral as ``03-N-1.aiff``."""
    root = data_root / "cafe"
    r48 = root / "CaFE_48k"
    for actor, subtype in (("01", "PCM_24"), ("02", "PCM_16")):
        for emo, folder in CAFE_FOLDERS.items():
            for level, intensity in (("Faible", 1), ("Fort", 2)):
                write_audio(
                    r48 / mojibake(folder) / level / f"{actor}-{emo}-{intensity}-1.wav", 48000, 0.35, subtype=subtype
                )
        write_audio(r48 / "Neutre" / f"{actor}-N-1-1.wav", 48000, 0.35, subtype=subtype)
    macos_junk(r48 / "Neutre", "01-N-1-1.wav")
    r192 = root / "CaFE_192k"
    for emo, folder in CAFE_FOLDERS.items():
        name = os.fsdecode(folder.encode("latin-1")) if emo == "C" else folder  # undecodable bytes on disk
        for level, intensity in (("Faible", 1), ("Fort", 2)):
            write_audio(r192 / name / level / f"03-{emo}-{intensity}-1.aiff", 192000, 0.3, 2, "PCM_24")
    write_audio(r192 / "Neutre" / "03-N-1.aiff", 192000, 0.3, 2, "PCM_24")
    return root


# ----------------------------------------------------------------------------- Emozionalmente

EMOZIONALMENTE_LABELS = ("anger", "disgust", "fear", "joy", "neutrality", "sadness", "surprise")


def make_emozionalmente(data_root: Path) -> Path:
    """``emozionalmente_dataset/{audio,metadata}``: 3 actors x 7 labels in samples.csv; actor_3's
    sadness row points to a missing file, one wav is not in the CSV, one file is 44.1 kHz."""
    root = data_root / "emozionalmente" / "emozionalmente_dataset"
    audio, meta = root / "audio", root / "metadata"
    meta.mkdir(parents=True, exist_ok=True)
    rows, ts = [], 1611234567000
    for a in (1, 2, 3):
        for label in EMOZIONALMENTE_LABELS:
            ts += 1
            name = f"{ts}.wav"
            rows.append((name, "Il treno parte alle sette.", "it", f"actor_{a}", label))
            if (a, label) != (3, "sadness"):
                write_audio(audio / name, 44100 if (a, label) == (1, "anger") else 16000, 0.4)
    write_audio(audio / "1699999999999.wav", 16000)  # no row in samples.csv
    with open(meta / "samples.csv", "w", encoding="utf-8") as f:
        f.write("file_name,sentence,sentence_language,actor,emotion_expressed\n")
        for r in rows:
            f.write(",".join(f'"{v}"' if "," in v or " " in v else v for v in r) + "\n")
    (meta / "users.csv").write_text(
        "username,gender,age,mother_tongue\nactor_1,f,30,it\nactor_2,m,41,it\nactor_3,f,25,it\n"
    )
    return data_root / "emozionalmente"


# ----------------------------------------------------------------------------- emoUERJ


def make_emouerj(data_root: Path) -> Path:
    """Flat ``emoUERJ/``: m01 and w04 x a/h/n/s, ``w04x01.wav`` (x not a label), ``leia-me.wav``
    (unrecognised). Stereo, 44.1 kHz."""
    root = data_root / "emouerj" / "emoUERJ"
    for name in ("m01a01", "m01h01", "m01n01", "m01s01", "w04a11", "w04h02", "w04n03", "w04s03", "w04x01", "leia-me"):
        write_audio(root / f"{name}.wav", 44100, 0.4, 2)
    return data_root / "emouerj"


# ----------------------------------------------------------------------------- EmoProsody

APPENDIX_HEADER = "Appendix B\nCastro & Lima (2010)\nBehavior Research Methods 42(1)\n\n\n"


def make_emoprosody(data_root: Path) -> Path:
    """Two extracted zips: ``Castro-BRM-2010 Sents/`` (speaker A) and ``Castro-BRM-2010
    Pseudosents/`` (speaker B), 7 emotions each, with the tab-separated appendices whose names
    start with a space and have 5 header lines."""
    root = data_root / "emoprosody"
    for folder, kind, spk, start in (
        ("Castro-BRM-2010 Sents", "s", "A", 1),
        ("Castro-BRM-2010 Pseudosents", "p", "B", 60),
    ):
        stems = []
        for i, emo in enumerate(("angry", "disgust", "fear", "happy", "sad", "neutral", "surprise")):
            stem = f"{start + i}{kind}{spk}_{emo}{i + 1}"
            stems.append(stem)
            write_audio(root / folder / f"{stem}.wav", 44100 if kind == "s" else 22050, 0.4)
        title = "Sents" if kind == "s" else "Pseudosents"
        with open(root / folder / f" Castro_2010_AppxB_{title}.txt", "w", encoding="utf-8") as f:
            f.write(APPENDIX_HEADER + "Stimulus \tContent\tIntensity (1-7)\n")
            f.writelines(f"{s}\testaMesa\t5.1\n" for s in stems)
    return root


# ----------------------------------------------------------------------------- MESD


def make_mesd(data_root: Path) -> Path:
    """Flat files in an extra top folder; words with ``_``; voices F/M/C; ``Anger_F_A.wav``
    (unrecognised, no word). 48 kHz, 24-bit."""
    root = data_root / "mesd" / "Mexican Emotional Speech Database (MESD)"
    for name in (
        "Anger_F_A_abajo",
        "Disgust_C_A_basta_ya",
        "Fear_M_B_adios",
        "Happiness_F_B_abrazo",
        "Neutral_C_A_no_se_que",
        "Sadness_M_A_triste",
        "Anger_F_A",
    ):
        write_audio(root / f"{name}.wav", 48000, 0.4, subtype="PCM_24")
    return data_root / "mesd"


# ----------------------------------------------------------------------------- EmoFilm

EMOFILM_ES = (
    "f_ans001aes",
    "f_gio002bes",
    "f_rab003aes",
    "f_tri004aes",
    "f_dis005aes",
    "m_ans006aes",
    "m_rab007aes",
    "m_dis008bes",
    "f_xyz009aes",
)


def make_emofilm(data_root: Path, legend: bool = True) -> Path:
    """``EmoFilm/wav_corpus/``: 9 Spanish files (two ``dis`` = contempt, one ``xyz`` label),
    one English and one Italian file, and the xlsx legend beside ``wav_corpus/`` (sheets
    female/male; accents, '?' and '+6' as in the real one)."""
    import pandas as pd

    root = data_root / "emofilm" / "EmoFilm"
    for stem in EMOFILM_ES + ("f_ans001aen", "m_tri002ait"):
        write_audio(root / "wav_corpus" / f"{stem}.wav", 44100, 0.4)
    if legend:
        female = pd.DataFrame(
            {
                "file": ["f_ans001aes", "f_gio002bes", "f_rab003aes", "f_tri004aes", "f_dis005aes", "f_ans001aen"],
                "speaker": ["María Moscardó", "maria moscardo", "Rosa Guiñón", "?", "Rosa Guiñón", "Julia Roberts"],
                "film": ["Erin Brockovich"] * 6,
            }
        )
        male = pd.DataFrame(
            {
                "file": ["m_ans006aes", "m_rab007aes", "m_dis008bes", "m_tri002ait"],
                "speaker": ["Constantino Romero", "constantino romero+6", "Camilo García", "Luca Ward"],
                "film": ["Gladiator"] * 4,
            }
        )
        with pd.ExcelWriter(root / "f_m_corpus_it_es_en_legend.xlsx", engine="openpyxl") as xw:
            female.to_excel(xw, sheet_name="female", index=False)
            male.to_excel(xw, sheet_name="male", index=False)
    return data_root / "emofilm"


# ----------------------------------------------------------------------------- SUBESCO


def make_subesco(data_root: Path) -> Path:
    """Flat ``SUBESCO/``: speakers F_01 and M_05, 6 kept, 2 surprise (one named ``_3].wav``),
    one ``BORED`` label; mixed 44.1/48 kHz, mono/stereo."""
    root = data_root / "subesco" / "SUBESCO"
    files = [
        ("F_01_OISHI_S_10_ANGRY_1", 44100, 1),
        ("F_01_OISHI_S_1_DISGUST_2", 48000, 2),
        ("F_01_OISHI_S_2_FEAR_3", 44100, 2),
        ("F_01_OISHI_S_3_HAPPY_4", 48000, 1),
        ("M_05_SHANTO_S_4_NEUTRAL_5", 44100, 1),
        ("M_05_SHANTO_S_5_SAD_1", 48000, 1),
        ("M_05_SHANTO_S_6_SURPRISE_3]", 44100, 1),
        ("F_01_OISHI_S_7_SURPRISE_1", 48000, 1),
        ("F_01_OISHI_S_8_BORED_1", 44100, 1),
    ]
    for stem, sr, ch in files:
        write_audio(root / f"{stem}.wav", sr, 0.4, ch)
    return data_root / "subesco"


# ----------------------------------------------------------------------------- CREMA-D

CREMA_FILES = (
    "1001_DFA_ANG_XX",
    "1001_DFA_DIS_XX",
    "1001_IEO_FEA_HI",
    "1002_IEO_HAP_LO",
    "1002_DFA_NEU_XX",
    "1002_DFA_SAD_XX",
    "1076_MTI_SAD_XX",
    "1003_DFA_CAL_XX",
)


def make_crema_d(data_root: Path, lfs: str = "none") -> Path:
    """A GitHub zip (``CREMA-D-master/``): ``AudioWAV/`` with 6 usable files, the silent
    ``1076_MTI_SAD_XX.wav`` and a ``CAL`` label; ``AudioMP3/`` duplicates (ignored).
    ``lfs='all'``: every wav is a git-LFS pointer; ``'most'``: all but 1001_DFA_ANG_XX."""
    root = data_root / "crema_d" / "CREMA-D-master"
    for stem in CREMA_FILES:
        p = root / "AudioWAV" / f"{stem}.wav"
        if lfs == "all" or (lfs == "most" and stem != "1001_DFA_ANG_XX"):
            write_lfs_pointer(p)
        else:
            write_audio(p, 16000, 0.4, silent=stem == "1076_MTI_SAD_XX")
    write_lfs_pointer(root / "AudioMP3" / "1001_DFA_ANG_XX.mp3")
    (root / "processedResults").mkdir(parents=True, exist_ok=True)
    (root / "processedResults" / "summaryTable.csv").write_text("Index,FileName,VoiceVote\n1,1001_DFA_ANG_XX,A\n")
    return data_root / "crema_d"


# ----------------------------------------------------------------------------- RESD

RESD_ROWS = {
    "train": [
        ("1_anger_a_1", "anger", 16000),
        ("1_disgust_d_2", "disgust", 44100),
        ("1_fear_f_3", "fear", 16000),
        ("2_happiness_h_4", "happiness", 16000),
        ("2_neutral_n_5", "neutral", 44100),
        ("2_sadness_s_6", "sadness", 16000),
        ("3_enthusiasm_e_7", "enthusiasm", 16000),
    ],
    "test": [
        ("4_anger_a_8", "anger", 16000),
        ("4_sadness_s_9", "sadness", 16000),
        ("4_boredom_b_10", "boredom", 16000),
    ],
}


def make_resd(data_root: Path, layout: str = "parquet") -> Path:
    """RESD as on the Hub (``data/{train,test}-00000-of-00001.parquet``, columns name, path,
    emotion, speech{bytes, path}; one test row has corrupt bytes, one only a path to a wav
    beside the parquet) or the older raw layout (``train.csv``/``test.csv`` + wavs)."""
    root = data_root / "resd"
    if layout == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        (root / "data").mkdir(parents=True, exist_ok=True)
        for split, rows in RESD_ROWS.items():
            speech = [{"bytes": wav_bytes(sr), "path": f"{name}.wav"} for name, _, sr in rows]
            names = [r[0] for r in rows]
            emotions = [r[1] for r in rows]
            paths = [f"{split}/{r[1]}/{r[0]}.wav" for r in rows]
            if split == "test":
                names.append("5_fear_f_11")
                emotions.append("fear")
                paths.append("test/fear/5_fear_f_11.wav")
                speech.append({"bytes": b"RIFF\x00\x00garbage", "path": "5_fear_f_11.wav"})
                write_audio(root / "data" / "5_neutral_n_12.wav", 16000)
                names.append("5_neutral_n_12")
                emotions.append("neutral")
                paths.append("test/neutral/5_neutral_n_12.wav")
                speech.append({"bytes": None, "path": "5_neutral_n_12.wav"})
            table = pa.table(
                {
                    "name": names,
                    "path": paths,
                    "emotion": emotions,
                    "speech": pa.array(speech, type=pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
                }
            )
            pq.write_table(table, root / "data" / f"{split}-00000-of-00001.parquet", row_group_size=4)
    else:
        for split, rows in RESD_ROWS.items():
            lines = ["name,path,emotion"]
            for name, emo, sr in rows:
                write_audio(root / split / f"{name}.wav", sr)
                lines.append(f"{name},{split}/{name}.wav,{emo}")
            (root / f"{split}.csv").write_text("\n".join(lines) + "\n")
    return root


# ----------------------------------------------------------------------------- manifests and tables


def make_manifest_corpus(data_root: Path, name: str = "red", language: str = "ROM") -> Path:
    """``<name>/manifest.csv`` with relative paths and native (Romanian) labels mapped by a
    ``label_map.json`` beside it; one row points to a missing file, one has an unmapped label."""
    root = data_root / name
    rows = [
        ("audio/s1_furie_1.wav", "furie", "s1"),
        ("audio/s1_bucurie_1.wav", "bucurie", "s1"),
        ("audio/s2_neutru_1.wav", "neutru", "s2"),
        ("audio/s2_furie_2.wav", "furie", "s2"),
        ("audio/s2_missing.wav", "neutru", "s2"),
        ("audio/s3_plictiseala_1.wav", "plictiseala", "s3"),
    ]
    for path, _, _ in rows:
        if "missing" not in path:
            write_audio(root / path, 44100)
    lines = ["path,label,language,speaker"] + [f"{p},{l},{language},{s}" for p, l, s in rows]
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    (root / "label_map.json").write_text(json.dumps({"furie": "anger", "bucurie": "happiness", "neutru": "neutral"}))
    return root


def make_label_table(folder: Path, with_language: bool = True) -> Path:
    """A ``datasets``-style parquet with an ``audio`` struct, an integer ClassLabel ``label``
    (names in the huggingface schema metadata) and a ``language`` column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    names = ["angry", "happy", "sad", "surprised"]
    labels = [0, 1, 2, 3, 0]
    audio = [
        {"bytes": wav_bytes(16000 if i % 2 else 44100, 0.4, 1 + i % 2), "path": f"clip{i}.wav"}
        for i in range(len(labels))
    ]
    cols = {
        "audio": pa.array(audio, type=pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
        "label": pa.array(labels, type=pa.int64()),
        "speaker": ["a", "a", "b", "b", "c"],
    }
    if with_language:
        cols["language"] = ["es", "es", "es", "es", "es"]
    table = pa.table(cols)
    meta = {"info": {"features": {"audio": {"_type": "Audio"}, "label": {"_type": "ClassLabel", "names": names}}}}
    table = table.replace_schema_metadata({b"huggingface": json.dumps(meta).encode()})
    pq.write_table(table, folder / "train-00000-of-00001.parquet")
    return folder


BUILDERS = {
    "oreau": make_oreau,
    "cafe": make_cafe,
    "emozionalmente": make_emozionalmente,
    "emouerj": make_emouerj,
    "emoprosody": make_emoprosody,
    "mesd": make_mesd,
    "emofilm": make_emofilm,
    "subesco": make_subesco,
    "crema_d": make_crema_d,
    "resd": make_resd,
}
