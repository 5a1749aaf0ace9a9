"""Fixture trees laid out like EmoBox's corpora as their distributors publish them (the relative paths in EmoBox's
fold files and the corpora's READMEs): real folder and file names, the label files (IEMOCAP's EmoEvaluation
lines, MSP-Podcast's labels_consensus.csv), the files that do not belong (a misnamed file, a whole-dialogue wav,
a song where speech is read, a label without audio) and macOS junk.

Every builder is ``make_<corpus>(data_root) -> Planted``: the corpus folder and what the loader must find there,
written out by hand beside the files it plants. Audio is 0.3 s of a tone at 16 kHz unless the corpus ships
another rate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from corpus_fixtures import macos_junk, write_audio


@dataclass
class Planted:
    """A fixture tree and what its loader must report: native label counts, speakers, languages, skip reasons
    (prefixes), labels outside the corpus's map, and the loader options."""

    root: Path
    labels: Counter
    speakers: set[str]
    skipped: list[str]
    languages: set[str]
    unknown: list[str] = field(default_factory=list)
    options: dict = field(default_factory=dict)


def wav(path: Path, sr: int = 16000) -> Path:
    """A 0.3 s tone at `sr`."""
    return write_audio(path, sr, 0.3)


# ----------------------------------------------------------------------------- IEMOCAP

IEMOCAP_TURNS = {  # session -> (turn, label); the turn's own F/M is its speaker's gender
    1: [("Ses01F_impro01_F000", "neu"), ("Ses01F_impro01_M000", "exc"), ("Ses01M_script01_1_F004", "fru")],
    2: [("Ses02F_impro02_F001", "ang"), ("Ses02M_impro02_M003", "hap")],
    3: [("Ses03M_script02_2_F010", "sad"), ("Ses03M_script02_2_M011", "xxx")],
    4: [("Ses04F_impro05_M002", "sur"), ("Ses04F_impro05_F002", "neu")],
    5: [("Ses05M_impro03_F005", "ang"), ("Ses05M_impro03_M006", "sad")],
}


def make_iemocap(data_root: Path) -> Planted:
    """``IEMOCAP_full_release/Session1-5``: 11 labelled turns of 10 speakers (Ses01F ... Ses05M), EmoEvaluation
    files with the header and evaluator lines, a labelled turn whose wav is missing, a wav without a label line,
    a whole-dialogue wav under dialog/wav (never read) and macOS junk."""
    root = data_root / "iemocap" / "IEMOCAP_full_release"
    for session, turns in IEMOCAP_TURNS.items():
        s = root / f"Session{session}"
        by_dialog: dict[str, list[str]] = {}
        for turn, label in turns:
            dialog = turn.rsplit("_", 1)[0]
            wav(s / "sentences" / "wav" / dialog / f"{turn}.wav")
            by_dialog.setdefault(dialog, []).append(
                f"[6.2901 - 8.2357]\t{turn}\t{label}\t[2.5000, 2.5000, 2.5000]\nC-E2:\tNeutral;\t()\nA-E3:\tval 3;\n"
            )
        if session == 1:
            by_dialog["Ses01F_impro01"].append("[9.0 - 10.5]\tSes01F_impro01_F009\tang\t[2.0, 3.5, 3.5]\n")
            wav(s / "sentences" / "wav" / "Ses01F_impro01" / "Ses01F_impro01_F099.wav")  # no label line
            wav(s / "dialog" / "wav" / "Ses01F_impro01.wav")  # the whole dialogue
            macos_junk(s / "sentences" / "wav" / "Ses01F_impro01", "Ses01F_impro01_F000.wav")
        for dialog, blocks in by_dialog.items():
            txt = s / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
            txt.parent.mkdir(parents=True, exist_ok=True)
            txt.write_text("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" + "\n".join(blocks))
    labels = Counter(label for turns in IEMOCAP_TURNS.values() for _, label in turns)
    speakers = {t[:5] + t.rsplit("_", 1)[1][0] for turns in IEMOCAP_TURNS.values() for t, _ in turns}
    return Planted(root.parent, labels, speakers, ["missing file", "no label line"], {"ENG"})


# ----------------------------------------------------------------------------- RAVDESS


def make_ravdess(data_root: Path) -> Planted:
    """``Audio_Speech_Actors_01-24/Actor_NN/03-01-EE-II-SS-RR-AA.wav`` for actors 01 and 02 x 8 emotions (48 kHz),
    one song file (channel 02, left out), one video-only name (modality 02) and a misnamed file."""
    root = data_root / "ravdess"
    speech = root / "Audio_Speech_Actors_01-24"
    for actor in ("01", "02"):
        for e in range(1, 9):
            intensity = "01" if e == 1 else "02"
            wav(speech / f"Actor_{actor}" / f"03-01-{e:02d}-{intensity}-01-01-{actor}.wav", 48000)
    wav(root / "Audio_Song_Actors_01-24" / "Actor_01" / "03-02-03-01-01-01-01.wav", 48000)
    wav(speech / "Actor_01" / "02-01-03-01-01-01-01.wav", 48000)
    wav(speech / "Actor_01" / "readme.wav", 48000)
    labels = Counter({f"{e:02d}": 2 for e in range(1, 9)})
    return Planted(root, labels, {"01", "02"}, ["unrecognised file name"] * 2, {"ENG"})


# ----------------------------------------------------------------------------- EmoDB, TESS, SAVEE, ShEMO


def make_emodb(data_root: Path) -> Planted:
    """``wav/`` with speakers 03 and 10 x the 7 letters, ``lablaut/`` (no audio) and a misnamed wav."""
    root = data_root / "emodb"
    for spk in ("03", "10"):
        for letter in "WLEAFTN":
            wav(root / "wav" / f"{spk}a01{letter}a.wav")
    (root / "lablaut").mkdir(parents=True)
    (root / "lablaut" / "03a01Fa.lab").write_text("#\n")
    wav(root / "wav" / "03a01Fa_copy.wav")
    return Planted(root, Counter({c: 2 for c in "WLEAFTN"}), {"03", "10"}, ["unrecognised file name"], {"DEU"})


def make_tess(data_root: Path) -> Planted:
    """``TESS Toronto emotional speech set data/OAF_angry/OAF_back_angry.wav`` ...: OAF and YAF x 7 emotions
    (``ps`` in ``*_pleasant_surprised/``, one ``YAF_Neutral`` spelling) and a misnamed file. 24.4 kHz."""
    root = data_root / "tess" / "TESS Toronto emotional speech set data"
    folders = {"angry": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy"}
    folders |= {"neutral": "neutral", "ps": "pleasant_surprised", "sad": "sad"}
    for spk in ("OAF", "YAF"):
        for emo, folder in folders.items():
            name = "Neutral" if (spk, emo) == ("YAF", "neutral") else emo
            wav(root / f"{spk}_{folder}" / f"{spk}_back_{name}.wav", 24414)
    wav(root / "OAF_angry" / "back.wav", 24414)
    return Planted(root.parent, Counter({e: 2 for e in folders}), {"OAF", "YAF"}, ["unrecognised file name"], {"ENG"})


def make_savee(data_root: Path) -> Planted:
    """Both layouts: ``AudioData/DC/a01.wav`` ... (speaker by folder) and the flat Kaggle ``ALL/JK_sa01.wav``
    (speaker by prefix), 7 prefixes each; a file in a folder that names no speaker is skipped. 44.1 kHz."""
    root = data_root / "savee"
    prefixes = ("a", "d", "f", "h", "n", "sa", "su")
    for p in prefixes:
        wav(root / "AudioData" / "DC" / f"{p}01.wav", 44100)
        wav(root / "ALL" / f"JK_{p}02.wav", 44100)
    wav(root / "AudioData" / "extra" / "a01.wav", 44100)
    return Planted(root, Counter({p: 2 for p in prefixes}), {"DC", "JK"}, ["unrecognised file name"], {"ENG"})


def make_shemo(data_root: Path) -> Planted:
    """``female/F01A01.wav`` ... and ``male/M12N03.wav`` ...: 6 letters x 2 speakers, and ``male/M12X01.wav``
    (X is no ShEMO letter) and a misnamed file."""
    root = data_root / "shemo"
    for folder, spk in (("female", "F01"), ("male", "M12")):
        for letter in "AFHNSW":
            wav(root / folder / f"{spk}{letter}01.wav", 44100)
    wav(root / "male" / "M12X01.wav", 44100)
    wav(root / "male" / "notes.wav", 44100)
    labels = Counter({c: 2 for c in "AFHNSW"})
    return Planted(root, labels + Counter({"X": 1}), {"F01", "M12"}, ["unrecognised file name"], {"FAS"}, ["X"])


# ----------------------------------------------------------------------------- ESD, CASIA, AESDD, URDU


def make_esd(data_root: Path) -> Planted:
    """``Emotion Speech Dataset/0001/Angry/0001_000351.wav`` ... for speaker 0001 (Mandarin) and, in the first
    release's ``<Emotion>/train/`` layout, 0011 (English): 5 emotions each, the transcripts ``0001.txt``, a file
    outside any emotion folder and a speaker number outside 0001-0020."""
    root = data_root / "esd" / "Emotion Speech Dataset"
    emotions = ("Angry", "Happy", "Neutral", "Sad", "Surprise")
    for i, emo in enumerate(emotions):
        wav(root / "0001" / emo / f"0001_{351 + i:06d}.wav")
        wav(root / "0011" / emo / "train" / f"0011_{351 + i:06d}.wav")
    (root / "0001" / "0001.txt").write_text("0001_000001\t打远一看，它们的确很是美丽，\t中立\n", encoding="utf-8")
    wav(root / "0001" / "0001_000999.wav")
    wav(root / "0021" / "Angry" / "0021_000001.wav")
    labels = Counter({e.lower(): 2 for e in emotions})
    return Planted(root.parent, labels, {"0001", "0011"}, ["unrecognised file name"] * 2, {"CHI", "ENG"})


def make_casia(data_root: Path) -> Planted:
    """``CASIA/<speaker>/<emotion>/201.wav``: liuchanhg and ZhaoZuoxiang x 6 emotions, a ``bored/`` folder (no
    CASIA class) and a file in an unknown speaker's folder."""
    root = data_root / "casia" / "CASIA database"
    emotions = ("angry", "fear", "happy", "neutral", "sad", "surprise")
    for spk in ("liuchanhg", "ZhaoZuoxiang"):
        for emo in emotions:
            wav(root / spk / emo / "201.wav")
    wav(root / "liuchanhg" / "bored" / "202.wav")
    wav(root / "someone" / "angry" / "201.wav")
    labels = Counter({e: 2 for e in emotions}) + Counter({"bored": 1})
    return Planted(root.parent, labels, {"liuchanhg", "zhaozuoxiang"}, ["unrecognised file name"], {"CHI"}, ["bored"])


def make_aesdd(data_root: Path) -> Planted:
    """``Acted Emotional Speech Dynamic Database/<emotion>/a01 (1).wav``: 5 emotions x actors 1 and 3, a
    ``b`` retake (``a02 (3)b.wav``) and a misnamed file. 44.1 kHz."""
    root = data_root / "aesdd" / "Acted Emotional Speech Dynamic Database"
    folders = {"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "s": "sadness"}
    for letter, folder in folders.items():
        for actor in (1, 3):
            wav(root / folder / f"{letter}01 ({actor}).wav", 44100)
    wav(root / "anger" / "a02 (3)b.wav", 44100)
    wav(root / "anger" / "anger.wav", 44100)
    labels = Counter({c: 2 for c in folders}) + Counter({"a": 1})
    return Planted(root.parent, labels, {"1", "3"}, ["unrecognised file name"], {"ELL"})


def make_urdu(data_root: Path) -> Planted:
    """``URDU-Dataset/<Emotion>/SM1_F1_A01.wav``: 4 emotions x speakers SM1 and SF3, and a misnamed file."""
    root = data_root / "urdu" / "URDU-Dataset"
    emotions = {"Angry": "A", "Happy": "H", "Neutral": "N", "Sad": "S"}
    for emo, letter in emotions.items():
        for spk in ("SM1", "SF3"):
            wav(root / emo / f"{spk}_F1_{letter}01.wav")
    wav(root / "Angry" / "angry01.wav")
    labels = Counter({e.lower(): 2 for e in emotions})
    return Planted(root.parent, labels, {"SM1", "SF3"}, ["unrecognised file name"], {"URD"})


# ----------------------------------------------------------------------------- Polish, JL-Corpus, EmoV-DB


def make_polish(data_root: Path) -> Planted:
    """Flat ``m3.s_trzymaj_5.wav``: speakers m1 and m3 x a n s, and a misnamed file. 44.1 kHz."""
    root = data_root / "polish"
    for spk in ("m1", "m3"):
        for letter, word in (("a", "nie"), ("n", "podaj"), ("s", "trzymaj")):
            wav(root / f"{spk}.{letter}_{word}_5.wav", 44100)
    wav(root / "m1_a_nie.wav", 44100)
    return Planted(root, Counter({"a": 2, "n": 2, "s": 2}), {"m1", "m3"}, ["unrecognised file name"], {"POL"})


def make_jl_corpus(data_root: Path) -> Planted:
    """``Raw JL corpus (unchecked and unannotated)/JL(wav+txt)/female1_angry_1a_1.wav`` with its ``.txt``:
    female1 and male2 x the 5 primary emotions, one secondary (``male2_anxious_12b_2``) and a misnamed file."""
    root = data_root / "jl_corpus" / "Raw JL corpus (unchecked and unannotated)" / "JL(wav+txt)"
    primary = ("angry", "sad", "neutral", "happy", "excited")
    for spk in ("female1", "male2"):
        for emo in primary:
            wav(root / f"{spk}_{emo}_1a_1.wav", 44100)
            (root / f"{spk}_{emo}_1a_1.txt").write_text("Ice cream is really good.\n")
    wav(root / "male2_anxious_12b_2.wav", 44100)
    wav(root / "female1_angry.wav", 44100)
    labels = Counter({e: 2 for e in primary}) + Counter({"anxious": 1})
    return Planted(root.parent.parent, labels, {"female1", "male2"}, ["unrecognised file name"], {"ENG"})


def make_emovdb(data_root: Path) -> Planted:
    """The OpenSLR archives extracted into their folders: ``bea_Amused/amused_1-15_0001.wav`` ... for bea and
    sam x 5 emotions, and a file outside any speaker folder."""
    root = data_root / "emovdb"
    emotions = ("Amused", "Angry", "Disgusted", "Neutral", "Sleepy")
    for spk in ("bea", "sam"):
        for emo in emotions:
            wav(root / f"{spk}_{emo}" / f"{emo.lower()}_1-15_0001.wav")
    wav(root / "amused_1-15_0002.wav")
    labels = Counter({e.lower(): 2 for e in emotions})
    return Planted(root, labels, {"bea", "sam"}, ["unrecognised file name"], {"ENG"})


# ----------------------------------------------------------------------------- eNTERFACE, MEAD, MSP-Podcast


def make_enterface(data_root: Path) -> Planted:
    """``enterface database/subject 1/anger/sentence 1/s1_an_1.avi`` with the audio extracted beside it
    (``s1_an_1.wav``): subjects 1 and 12 (``s_12_...``) x 6 emotions, and a misnamed wav."""
    root = data_root / "enterface" / "enterface database"
    emotions = {"anger": "an", "disgust": "di", "fear": "fe", "happiness": "ha", "sadness": "sa", "surprise": "su"}
    for subject, prefix in ((1, "s1"), (12, "s_12")):
        for folder, code in emotions.items():
            base = root / f"subject {subject}" / folder / "sentence 1" / f"{prefix}_{code}_1"
            wav(base.with_suffix(".wav"), 44100)
            base.with_suffix(".avi").write_bytes(b"RIFF\x00\x00\x00\x00AVI ")
    wav(root / "subject 1" / "anger" / "sentence 1" / "take2.wav", 44100)
    labels = Counter({c: 2 for c in emotions.values()})
    return Planted(root.parent, labels, {"s1", "s12"}, ["unrecognised file name"], {"ENG"})


def make_mead(data_root: Path) -> Planted:
    """``M003/audio/<emotion>/level_<n>/001.wav`` (converted from .m4a; the .m4a stays beside): M003 x 8 emotions
    at level 1, W009 x angry at levels 1-3, and a wav outside the layout."""
    root = data_root / "mead"
    emotions = ("angry", "contempt", "disgusted", "fear", "happy", "neutral", "sad", "surprised")
    for emo in emotions:
        wav(root / "M003" / "audio" / emo / "level_1" / "001.wav", 48000)
        (root / "M003" / "audio" / emo / "level_1" / "001.m4a").write_bytes(b"\x00\x00\x00\x18ftypM4A ")
    for level in (1, 2, 3):
        wav(root / "W009" / "audio" / "angry" / f"level_{level}" / "002.wav", 48000)
    wav(root / "M003" / "video" / "front.wav", 48000)
    labels = Counter({e: 1 for e in emotions}) + Counter({"angry": 3})
    return Planted(root, labels, {"M003", "W009"}, ["unrecognised file name"], {"ENG"})


MSP_ROWS = [  # FileName, EmoClass, SpkrID
    ("MSP-PODCAST_0001_0008.wav", "N", "127"),
    ("MSP-PODCAST_0001_0019.wav", "A", "127"),
    ("MSP-PODCAST_0002_0033.wav", "C", "Unknown"),
    ("MSP-PODCAST_0002_0039.wav", "X", "Unknown"),
    ("MSP-PODCAST_0003_0001.wav", "H", "1001"),
    ("MSP-PODCAST_0004_0002.wav", "U", "1001"),
]


def make_msp_podcast(data_root: Path) -> Planted:
    """``Audios/MSP-PODCAST_*.wav`` and ``Labels/labels_consensus.csv``: 6 labelled files of speakers 127, 1001
    and Unknown, a labelled row without audio and an audio file without a row."""
    root = data_root / "msp_podcast"
    lines = ["FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"]
    for name, emo, spk in MSP_ROWS:
        wav(root / "Audios" / name)
        lines.append(f"{name},{emo},4.2,3.8,4.0,{spk},Female,Train")
    lines.append("MSP-PODCAST_0005_0001.wav,S,2.0,2.0,2.0,1001,Male,Test1")
    wav(root / "Audios" / "MSP-PODCAST_0009_0009.wav")
    (root / "Labels").mkdir(parents=True)
    (root / "Labels" / "labels_consensus.csv").write_text("\n".join(lines) + "\n")
    labels = Counter(emo for _, emo, _ in MSP_ROWS)
    return Planted(root, labels, {"127", "1001", "unknown"}, ["missing file", "not listed"], {"ENG"})


# ----------------------------------------------------------------------------- ASVP-ESD, ASED, TurEV-DB


def make_asvp_esd(data_root: Path) -> Planted:
    """``ASVP-ESD-Update/Audio/actor_36/03-01-09-01-06-36-02-02-01-39.wav`` ...: actors 36 and 101, speech and
    non-speech, names of 9 to 11 fields, emotions 02 04 05 09 13, and a misnamed file."""
    root = data_root / "asvp_esd" / "ASVP-ESD-Update" / "Audio"
    names = {
        "36": ["03-01-09-01-06-36-02-02-01-39", "03-01-04-01-10-36-03-03-01", "03-02-05-01-02-36-03-03-01"],
        "101": ["03-02-04-01-28-101-02-01-00-14-02", "03-01-02-01-01-101-02-01-00-13", "03-02-13-01-03-101-02-01-00"],
    }
    for actor, stems in names.items():
        for stem in stems:
            wav(root / f"actor_{actor}" / f"{stem}.wav")
    wav(root / "actor_36" / "actor_36.wav")
    labels = Counter({"09": 1, "04": 2, "05": 1, "02": 1, "13": 1})
    return Planted(root.parent.parent, labels, {"36", "101"}, ["unrecognised file name"], {"ENG"})


def make_ased(data_root: Path) -> Planted:
    """``ASED_V1/01Neutral/n1-04-02-01-31.wav`` ...: the 5 emotion folders, speakers 31 and 65, a capital ``S``
    sad file and a misnamed file."""
    root = data_root / "ased" / "ASED_V1"
    folders = {"n1": "01Neutral", "f2": "02Fearful", "h3": "03Happy", "s4": "04Sad", "a5": "05Angry"}
    for code, folder in folders.items():
        for spk in ("31", "65"):
            wav(root / folder / f"{code}-04-02-01-{spk}.wav")
    wav(root / "04Sad" / "S4-01-01-02-31.wav")
    wav(root / "04Sad" / "sad.wav")
    labels = Counter({code[0]: 2 for code in folders}) + Counter({"s": 1})
    return Planted(root.parent, labels, {"31", "65"}, ["unrecognised file name"], {"AMH"})


def make_turevdb(data_root: Path) -> Planted:
    """``TurEV-DB/Sound Source/<Emotion>/1984_sk_eger.wav``: 4 emotions x speakers 1984 and 6783, and a file
    outside the emotion folders."""
    root = data_root / "turevdb" / "TurEV-DB" / "Sound Source"
    for emo in ("Angry", "Calm", "Happy", "Sad"):
        for spk in ("1984", "6783"):
            wav(root / emo / f"{spk}_sk_eger.wav")
    wav(root / "1984_sk_eger.wav")
    labels = Counter({e: 2 for e in ("angry", "calm", "happy", "sad")})
    return Planted(root.parent.parent, labels, {"1984", "6783"}, ["unrecognised file name"], {"TUR"})


# ----------------------------------------------------------------------------- MELD

MELD_ROWS = {  # split -> (dialogue, utterance, speaker, emotion); the same diaN_uttM recurs across splits
    "train": [(0, 0, "Chandler", "neutral"), (0, 1, "The Interviewer", "surprise"), (1, 0, "Monica", "joy")],
    "dev": [(0, 0, "Phoebe", "sadness"), (0, 1, "Joey", "anger"), (110, 7, "Ross", "fear")],
    "test": [(0, 0, "Mark", "disgust"), (0, 1, "Rachel", "joy")],
}
MELD_FOLDERS = {"train": "train_splits", "dev": "dev_splits_complete", "test": "output_repeated_splits_test"}


def make_meld(data_root: Path) -> Planted:
    """``MELD.Raw/{train,dev,test}_sent_emo.csv`` and the split folders with each clip's ``.mp4`` and its
    extracted ``.wav``: 7 rows with audio, ``dia110_utt7`` listed without a clip (as in the real dev set) and a
    clip no CSV lists."""
    root = data_root / "meld" / "MELD.Raw"
    header = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime"
    for split, rows in MELD_ROWS.items():
        lines = [header]
        for i, (dia, utt, speaker, emotion) in enumerate(rows, 1):
            lines.append(f'{i},"Oh my God, he\u2019s lost it.",{speaker},{emotion},neutral,{dia},{utt},8,21,0,1')
            if (split, dia) != ("dev", 110):
                clip = root / MELD_FOLDERS[split] / f"dia{dia}_utt{utt}"
                wav(clip.with_suffix(".wav"))
                clip.with_suffix(".mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
        (root / f"{split}_sent_emo.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    wav(root / "train_splits" / "dia9_utt9.wav")
    labels = Counter({"neutral": 1, "surprise": 1, "joy": 2, "sadness": 1, "anger": 1, "disgust": 1})
    speakers = {"Chandler", "The Interviewer", "Monica", "Phoebe", "Joey", "Mark", "Rachel"}
    return Planted(root.parent, labels, speakers, ["missing file", "not listed"], {"ENG"})


# ----------------------------------------------------------------------------- EMNS


def make_emns(data_root: Path) -> Planted:
    """``metadata.csv`` (the Hub copy's columns) and ``raw_webm/<id>.webm`` converted beside to ``.wav``: 8 rows
    of user 1 with audio (one per emotion, two sarcastic), a row without audio and a wav no row lists."""
    root = data_root / "emns"
    emotions = ("Angry", "Disgust", "Excited", "Happy", "Neutral", "Sad", "Sarcastic", "Surprise", "Sarcastic")
    lines = ["id,utterance,description,emotion,date_created,status,gender,age,level,audio_recording,user_id"]
    for i, emo in enumerate(emotions):
        name = f"raw_webm/{1000 + i}.webm"
        lines.append(f'{i},"The dragon slept.",calm,{emo},2022-10-01,Accepted,Male,20s,3,{name},1')
        wav((root / name).with_suffix(".wav"), 48000)
        (root / name).write_bytes(b"\x1aE\xdf\xa3")
    lines.append('99,"Lost.",x,Sad,2022-10-01,Accepted,Male,20s,3,raw_webm/1099.webm,1')
    (root / "metadata.csv").write_text("\n".join(lines) + "\n")
    wav(root / "raw_webm" / "2000.wav", 48000)
    labels = Counter(e.lower() for e in emotions)
    return Planted(root, labels, {"1"}, ["missing file", "not listed"], {"ENG"})


BUILDERS = {
    "iemocap": make_iemocap,
    "ravdess": make_ravdess,
    "emodb": make_emodb,
    "tess": make_tess,
    "savee": make_savee,
    "esd": make_esd,
    "casia": make_casia,
    "shemo": make_shemo,
    "aesdd": make_aesdd,
    "polish": make_polish,
    "urdu": make_urdu,
    "jl_corpus": make_jl_corpus,
    "emovdb": make_emovdb,
    "enterface": make_enterface,
    "mead": make_mead,
    "msp_podcast": make_msp_podcast,
    "asvp_esd": make_asvp_esd,
    "ased": make_ased,
    "turevdb": make_turevdb,
    "meld": make_meld,
    "emns": make_emns,
}
