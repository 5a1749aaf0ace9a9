"""Fixture trees of EmoBox's corpora whose audio ships in video or a compressed format (eNTERFACE's .avi, MEAD's
.m4a, MELD's .mp4, EMNS's .webm: converted audio sits beside each original, as docs/corpora.md asks) or whose
labels are in a file beside the audio (MSP-Podcast, MELD, EMNS). Names as in tests/emobox_fixtures.py: real ones
from EmoBox's ``data/<corpus>/`` files, planted oddities marked."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from emobox_fixtures import Planted, plant, wav

AVI = b"RIFF\x00\x00\x00\x00AVI "
M4A = b"\x00\x00\x00\x18ftypM4A "
MP4 = b"\x00\x00\x00\x18ftypmp42"
WEBM = b"\x1aE\xdf\xa3"

# ----------------------------------------------------------------------------- eNTERFACE

ENTERFACE = {  # EmoBox data/enterface/data.seg.audmap (read whole): subject folder -> speaker, file -> code
    "subject 19/anger/sentence 4/s19_an_4": "an",
    "subject 19/disgust/sentence 1/s19_di_1": "di",
    "subject 19/fear/sentence 3/s19_fe_3": "fe",
    "subject 19/happiness/sentence 5/s19_ha_5": "ha",
    "subject 19/sadness/sentence 2/s19_sa_2": "sa",
    "subject 19/surprise/sentence 1/s19_su_1": "su",
    "subject 3/anger/sentence 1/s3_an_1": "an",
    "subject 3/surprise/sentence 4/s_3_su_4": "su",  # s_3: real, beside s3_an_1
    "subject 3/sadness/sentence 3/s_3_sa_3": "sa",
    "subject 6/happiness/s6_ha": "ha",  # subject 6: one long take per emotion, no sentence
    "subject 6/disgust/s6_di": "di",
    "subject 11/fear/sentence 2/s12_fe_2": "fe",  # the folder subject 11 holds s12_* files
    "subject 16/surprise/sentence 3/s16_su_3avi": "su",  # sic
}


def make_enterface(data_root: Path) -> Planted:
    """``enterface database/subject 19/anger/sentence 4/s19_an_4.avi`` with the audio extracted beside it
    (``s19_an_4.wav``): ENTERFACE's 13 names, subjects 3 6 11 16 19 (``subject 11`` is s11 though its files say
    s12); planted: a misnamed wav."""
    root = data_root / "enterface" / "enterface database"
    for rel in ENTERFACE:
        wav(root / f"{rel}.wav", 44100)
        (root / f"{rel}.avi").write_bytes(AVI)
    wav(root / "subject 19" / "anger" / "sentence 4" / "take2.wav", 44100)
    speakers = {"s" + rel.split("/")[0].split()[1] for rel in ENTERFACE}
    return Planted(root.parent, Counter(ENTERFACE.values()), speakers, ["unrecognised file name"], {"ENG"})


# ----------------------------------------------------------------------------- MEAD

# EmoBox data/mead/data.seg.audmap: M040/audio/angry/level_3/018.m4a, neutral/level_1/034, happy/level_3/018,
# M034/audio/sad/level_1/010; the other folders are named by the keys of EmoBox's data/mead/label_map.json.
MEAD = {
    "M040/audio/angry/level_3/018": "angry",
    "M040/audio/neutral/level_1/034": "neutral",
    "M040/audio/happy/level_3/018": "happy",
    "M040/audio/contempt/level_1/001": "contempt",
    "M040/audio/disgusted/level_2/002": "disgusted",
    "M040/audio/fear/level_1/003": "fear",
    "M040/audio/surprised/level_2/004": "surprised",
    "M034/audio/sad/level_1/010": "sad",
    "M034/audio/angry/level_1/018": "angry",
}


def make_mead(data_root: Path) -> Planted:
    """``M040/audio/<emotion>/level_<n>/018.wav`` converted from the .m4a beside it: MEAD's 9 names, actors M040
    and M034, the 8 emotions; planted: a wav outside the layout."""
    root = data_root / "mead"
    for rel in MEAD:
        wav(root / f"{rel}.wav", 48000)
        (root / f"{rel}.m4a").write_bytes(M4A)
    wav(root / "M040" / "video" / "front.wav", 48000)
    return Planted(root, Counter(MEAD.values()), {"M040", "M034"}, ["unrecognised file name"], {"ENG"})


# ----------------------------------------------------------------------------- MSP-Podcast

# FileName and EmoClass from EmoBox's data/msppodcast/fold_1/msppodcast_test_fold_1.jsonl; EmoBox has no speaker
# column, so SpkrID values here are placeholders in the release's form (a number, or Unknown).
MSP_ROWS = [
    ("MSP-PODCAST_0001_0008.wav", "N", "127"),
    ("MSP-PODCAST_0001_0009.wav", "N", "127"),
    ("MSP-PODCAST_0001_0019.wav", "H", "127"),
    ("MSP-PODCAST_0001_0043.wav", "X", "Unknown"),
    ("MSP-PODCAST_0001_0048.wav", "O", "Unknown"),
    ("MSP-PODCAST_0001_0098.wav", "U", "1001"),
]
MSP_HEADER = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"


def write_msp_labels(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A labels_consensus.csv with MSP_HEADER and one line per (FileName, EmoClass, SpkrID)."""
    lines = [MSP_HEADER] + [f"{name},{emo},4.2,3.8,4.0,{spk},Female,Test1" for name, emo, spk in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def make_msp_podcast(data_root: Path) -> Planted:
    """``Audios/MSP-PODCAST_0001_0008.wav`` and ``Labels/labels_consensus.csv``: 6 labelled files of speakers 127,
    1001 and Unknown; planted: a labelled row without audio (0001_0011) and an audio file without a row
    (0001_0013)."""
    root = data_root / "msp_podcast"
    for name, _, _ in MSP_ROWS:
        wav(root / "Audios" / name)
    write_msp_labels(root / "Labels" / "labels_consensus.csv", [*MSP_ROWS, ("MSP-PODCAST_0001_0011.wav", "N", "127")])
    wav(root / "Audios" / "MSP-PODCAST_0001_0013.wav")
    labels = Counter(emo for _, emo, _ in MSP_ROWS)
    return Planted(root, labels, {"127", "1001", "unknown-0001"}, ["missing file", "not listed"], {"ENG"})


# ----------------------------------------------------------------------------- MELD

# test: the first rows of declare-lab/MELD data/MELD/test_sent_emo.csv (dialogue, utterance, speaker, emotion,
# start, end); train/dev: real clip names (EmoBox's data/meld audmap lists train/train_splits/dia0_utt0.mp4 ...)
# with placeholder speakers and emotions.
MELD_ROWS = {
    "test": [
        (0, 0, "Mark", "surprise", "00:14:38,127", "00:14:40,378"),
        (0, 1, "Rachel", "anger", "00:14:40,629", "00:14:47,385"),
        (0, 2, "Rachel", "neutral", "00:14:56,353", "00:14:57,520"),
        (1, 1, "Joey", "joy", "0:10:46,146", "0:10:46,833"),
        (2, 2, "Ross", "sadness", "00:07:30,741", "00:07:34,119"),
        (3, 1, "Ross", "fear", "00:06:02,153", "00:06:06,823"),
        (3, 5, "Ross", "disgust", "00:06:26,177", "00:06:28,178"),
    ],
    "train": [(0, 0, "Chandler", "neutral", "0", "1"), (0, 1, "The Interviewer", "neutral", "0", "1")],
    "dev": [
        (0, 0, "Phoebe", "sadness", "0", "1"),
        (0, 1, "Chandler", "anger", "0", "1"),
        (110, 7, "Ross", "fear", "0", "1"),
    ],
}
MELD_FOLDERS = {"train": "train/train_splits", "dev": "dev_splits_complete", "test": "output_repeated_splits_test"}
MELD_HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime"


def make_meld(data_root: Path) -> Planted:
    """``MELD.Raw/{train,dev,test}_sent_emo.csv`` (MELD's header, quoted times with commas, curly quotes in the
    text) and the split folders with each clip's ``.mp4`` and its extracted ``.wav``; planted: a dev row without
    its clip (dia110_utt7) and a train clip no CSV lists (dia9_utt9)."""
    root = data_root / "meld" / "MELD.Raw"
    for split, rows in MELD_ROWS.items():
        lines = [MELD_HEADER]
        for i, (dia, utt, speaker, emotion, start, end) in enumerate(rows, 1):
            lines.append(
                f'{i},"Oh my God, he\u2019s lost it.",{speaker},{emotion},neutral,{dia},{utt},3,19,"{start}","{end}"'
            )
            if (split, dia) != ("dev", 110):
                clip = root / MELD_FOLDERS[split] / f"dia{dia}_utt{utt}"
                wav(clip.with_suffix(".wav"))
                clip.with_suffix(".mp4").write_bytes(MP4)
        (root / f"{split}_sent_emo.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    wav(root / MELD_FOLDERS["train"] / "dia9_utt9.wav")
    labels = Counter(row[3] for split, rows in MELD_ROWS.items() for row in rows if (split, row[0]) != ("dev", 110))
    speakers = {row[2] for split, rows in MELD_ROWS.items() for row in rows if (split, row[0]) != ("dev", 110)}
    return Planted(root.parent, labels, speakers, ["missing file", "not listed"], {"ENG"})


# ----------------------------------------------------------------------------- EMNS

EMNS = {  # EmoBox data/emns/emns.jsonl: cleaned_webm/recorded_audio_<id>.webm -> emotion (as the CSV spells it)
    "RF6OuQ4": "Disgust",
    "KkeDrQa": "Excited",
    "oGl6q2Q": "Surprise",
    "DTKHnUN": "Sad",
    "vPRtT8a": "Sarcastic",
    "7aAzWg9": "Sarcastic",
    "ro2dOpZ": "Happy",
    "Oy8ANqo": "Neutral",
    "He9Mect": "Angry",
}
EMNS_HEADER = "id|utterance|description|emotion|date_created|status|gender|age|level|audio_recording|user_id"


def make_emns(data_root: Path) -> Planted:
    """OpenSLR's ``metadata.csv`` (``|``-separated, ``audio_recording`` = ``wavs/recorded_audio_<id>.webm``) and
    ``cleaned_webm/recorded_audio_<id>.webm`` converted beside to ``.wav``: EMNS's 9 names (all 8 emotions, two
    Sarcastic) of user 1, 48 kHz; planted: a row without audio and a wav no row lists."""
    root = data_root / "emns"
    lines = [EMNS_HEADER]
    for i, (rec, emo) in enumerate([*EMNS.items(), ("Xq3LmP0", "Sad")]):
        lines.append(
            f"{i}|The dragon slept.|calm, soft|{emo}|2022-10-01|Accepted|Male|20s|3|wavs/recorded_audio_{rec}.webm|1"
        )
    (root / "metadata.csv").parent.mkdir(parents=True, exist_ok=True)
    (root / "metadata.csv").write_text("\n".join(lines) + "\n")
    plant(root / "cleaned_webm", {f"recorded_audio_{rec}.wav": emo for rec, emo in EMNS.items()}, 48000)
    for rec in EMNS:
        (root / "cleaned_webm" / f"recorded_audio_{rec}.webm").write_bytes(WEBM)
    wav(root / "cleaned_webm" / "recorded_audio_zzzzzzz.wav", 48000)
    labels = Counter(emo.lower() for emo in EMNS.values())
    return Planted(root, labels, {"1"}, ["missing file", "not listed"], {"ENG"})


BUILDERS = {
    "enterface": make_enterface,
    "mead": make_mead,
    "msp_podcast": make_msp_podcast,
    "meld": make_meld,
    "emns": make_emns,
}
