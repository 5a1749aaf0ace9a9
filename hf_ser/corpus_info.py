"""What is known of each corpus (language, licence, where to get it, how to cite it), and EmoBox's corpora beyond
the paper's thirteen. :mod:`hf_ser.labels` registers the paper's corpora first, then :data:`EMOBOX_CORPORA`, in
``CORPORA``; this module holds the record type and the EmoBox table so that neither module passes 600 lines.

Corpora of a paper language (English, Mandarin, Italian) are ``by_language=False``: a recipe that names the
language keeps loading the paper's corpus for it (CREMA-D, MCAESD, Emozionalmente) and reaches these only through
``--corpora``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MANIFEST_NOTE = "no public layout a loader can read: load through a manifest (see docs/manifests.md)"


@dataclass(frozen=True)
class CorpusInfo:
    """What is known of one corpus: language, licence, where to get it, how to cite it."""

    name: str
    title: str
    language: str
    licence: str
    url: str
    citation: str
    hub_id: str | None = None
    six_class_count: int | None = None
    note: str = ""
    languages: tuple[str, ...] = field(default=())  # every language of a corpus with several (ESD: CHI, ENG)
    by_language: bool = True  # loaded when a recipe names its language without --corpora

    @property
    def folder(self) -> str:
        """Folder name expected under the data root."""
        return self.name


def _emobox(name: str, title: str, language: str, licence: str, url: str, citation: str, **kw) -> CorpusInfo:
    """One EmoBox corpus; those of the paper's English and Mandarin are not loaded by language by default."""
    kw.setdefault("by_language", language not in ("ENG", "CHI"))
    return CorpusInfo(name, title, language, licence, url, citation, **kw)


EMOBOX_CORPORA: tuple[CorpusInfo, ...] = (
    _emobox(
        "iemocap",
        "IEMOCAP: Interactive Emotional Dyadic Motion Capture database",
        "ENG",
        "USC SAIL release agreement (research only)",
        "https://sail.usc.edu/iemocap/",
        "C. Busso, M. Bulut, C.-C. Lee, A. Kazemzadeh, E. Mower, S. Kim, J. N. Chang, S. Lee, S. S. Narayanan. "
        "IEMOCAP: interactive emotional dyadic motion capture database. Language Resources and Evaluation 42(4), 2008.",
        note="speaker = session + gender (Ses01F); exc merges into happiness",
    ),
    _emobox(
        "ravdess",
        "RAVDESS: Ryerson Audio-Visual Database of Emotional Speech and Song",
        "ENG",
        "CC-BY-NC-SA-4.0",
        "https://zenodo.org/records/1188976",
        "S. R. Livingstone, F. A. Russo. The Ryerson Audio-Visual Database of Emotional Speech and Song (RAVDESS). "
        "PLoS ONE 13(5), 2018.",
    ),
    _emobox(
        "emodb",
        "EmoDB: Berlin Database of Emotional Speech",
        "DEU",
        "free for research (no licence text; audb lists CC0-1.0)",
        "http://emodb.bilderbar.info/download/",
        "F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier, B. Weiss. A database of German emotional speech. "
        "Interspeech 2005, pp. 1517-1520. doi:10.21437/Interspeech.2005-446.",
        note="the authors' pages (emodb.bilderbar.info, database.syntheticspeech.de) ask only for the citation; "
        "audEERING publishes its audb copy under CC0-1.0 (audeering/emodb README.md)",
    ),
    _emobox(
        "tess",
        "TESS: Toronto emotional speech set",
        "ENG",
        "CC-BY-NC-ND-4.0",
        "https://doi.org/10.5683/SP2/E8H2MF",
        "K. Dupuis, M. K. Pichora-Fuller. Toronto emotional speech set (TESS). University of Toronto, 2010.",
    ),
    _emobox(
        "savee",
        "SAVEE: Surrey Audio-Visual Expressed Emotion database",
        "ENG",
        "free for research (registration)",
        "http://kahlan.eps.surrey.ac.uk/savee/",
        "S. Haq, P. J. B. Jackson. Speaker-dependent audio-visual emotion recognition. AVSP 2009.",
    ),
    _emobox(
        "esd",
        "ESD: Emotional Speech Dataset (Mandarin and English)",
        "CHI",
        "research only (licence agreement)",
        "https://github.com/HLTSingapore/Emotional-Speech-Data",
        "K. Zhou, B. Sisman, R. Liu, H. Li. Seen and unseen emotional style transfer for voice conversion with a "
        "new emotional speech dataset. ICASSP 2021.",
        languages=("CHI", "ENG"),
        note="speakers 0001-0010 Mandarin, 0011-0020 English",
    ),
    _emobox(
        "casia",
        "CASIA Chinese emotional speech corpus (public part)",
        "CHI",
        "research only (unstated)",
        "http://www.chineseldc.org/",
        "J. Tao, F. Liu, M. Zhang, H. Jia. Design of speech corpus for Mandarin text to speech. Blizzard Challenge "
        "2008 workshop.",
    ),
    _emobox(
        "shemo",
        "ShEMO: Sharif Emotional Speech Database",
        "FAS",
        "research use (see the repository)",
        "https://github.com/mansourehk/ShEMO",
        "O. Mohamad Nezami, P. Jamshid Lou, M. Karami. ShEMO: a large-scale validated database for Persian speech "
        "emotion detection. Language Resources and Evaluation 53, 2019.",
    ),
    _emobox(
        "aesdd",
        "AESDD: Acted Emotional Speech Dynamic Database",
        "ELL",
        "research only (on request)",
        "https://m3c.web.auth.gr/research/aesdd-speech-emotion-recognition/",
        "N. Vryzas, R. Kotsakis, A. Liatsou, C. Dimoulas, G. Kalliris. Speech emotion recognition for performance "
        "interaction. J. Audio Eng. Soc. 66(6), 2018.",
    ),
    _emobox(
        "polish",
        "Emotions in Polish speech recordings (commands; EmoBox's 'polish')",
        "POL",
        "unverified",
        "https://mostwiedzy.pl/en/open-research-data/emotions-in-polish-speech-recordings,11190523461146169-0",
        "M. Mięsikowska, D. Świsulski. Emotions in Polish speech recordings [dataset]. Gdańsk University of "
        "Technology, 2020. doi:10.34808/h46c-hb44.",
        note="distributor (Gdańsk University of Technology's MOST Wiedzy) from EmoBox's README; citation as "
        "nkululeko's data/polish README gives it; licence unverified (the MOST Wiedzy page was not read)",
    ),
    _emobox(
        "urdu",
        "URDU: Urdu-language speech emotion dataset",
        "URD",
        "unstated",
        "https://github.com/siddiquelatif/URDU-Dataset",
        "S. Latif, A. Qayyum, M. Usman, J. Qadir. Cross lingual speech emotion recognition: Urdu vs. Western "
        "languages. FIT 2018.",
    ),
    # Licence unverified: tli725/JL-Corpus's README (the authors' GitHub) asks for emotional-speech studies and the
    # Interspeech 2018 citation but names no licence; the Kaggle page holding the audio was not readable here.
    _emobox(
        "jl_corpus",
        "JL-Corpus (New Zealand English)",
        "ENG",
        "unverified (Kaggle)",
        "https://www.kaggle.com/datasets/tli725/jl-corpus",
        "J. James, L. Tian, C. Watson. An open source emotional speech corpus for human robot interaction "
        "applications. Interspeech 2018.",
    ),
    _emobox(
        "emovdb",
        "EmoV-DB: Emotional Voices Database",
        "ENG",
        "non-commercial only (EmoV-DB LICENSE.md)",
        "https://www.openslr.org/115/",
        "A. Adigwe, N. Tits, K. El Haddad, S. Ostadabbas, T. Dutoit. The emotional voices database: towards "
        "controlling the emotion dimension in voice generation systems. arXiv:1806.09514, 2018.",
        note="licence: numediart/EmoV-DB LICENSE.md (research, teaching, publication; commercial use by request); "
        "its README names OpenSLR 115 as the download",
    ),
    _emobox(
        "enterface",
        "eNTERFACE'05 audio-visual emotion database",
        "ENG",
        "free for research",
        "http://www.enterface.net/enterface05/",
        "O. Martin, I. Kotsia, B. Macq, I. Pitas. The eNTERFACE'05 audio-visual emotion database. ICDE Workshops 2006.",
        note="video (.avi): extract the audio beside each file first (docs/corpora.md)",
    ),
    # Licence unverified: uniBruce/Mead's LICENSE (MIT) covers its code only; the dataset's "Terms of Use_ Mead.pdf"
    # there and the project page's download terms could not be read. Authors and venue: the README and project page.
    _emobox(
        "mead",
        "MEAD: multi-view emotional audio-visual dataset",
        "ENG",
        "unverified (research only)",
        "https://wywu.github.io/projects/MEAD/MEAD.html",
        "K. Wang, Q. Wu, L. Song, Z. Yang, W. Wu, C. Qian, R. He, Y. Qiao, C. C. Loy. MEAD: a large-scale "
        "audio-visual dataset for emotional talking-face generation. ECCV 2020.",
        note=".m4a audio: convert to wav in place first (docs/corpora.md)",
    ),
    _emobox(
        "msp_podcast",
        "MSP-Podcast",
        "ENG",
        "academic licence (UT Dallas)",
        "https://ecs.utdallas.edu/research/researchlabs/msp-lab/MSP-Podcast.html",
        "R. Lotfian, C. Busso. Building naturalistic emotionally balanced speech corpus by retrieving emotional "
        "speech from existing podcast recordings. IEEE Trans. Affective Computing 10(4), 2019.",
    ),
    _emobox(
        "meld",
        "MELD: Multimodal EmotionLines Dataset",
        "ENG",
        "GPL-3.0",
        "https://affective-meld.github.io/",
        "S. Poria, D. Hazarika, N. Majumder, G. Naik, E. Cambria, R. Mihalcea. MELD: a multimodal multi-party "
        "dataset for emotion recognition in conversations. ACL 2019.",
        note="video clips: extract the audio beside each first (docs/corpora.md)",
    ),
    _emobox(
        "m3ed",
        "M3ED: multi-modal multi-scene multi-label emotional dialogue database",
        "CHI",
        "research only (on request)",
        "https://github.com/aim3-ruc/RUCM3ED",
        "J. Zhao, T. Zhang, J. Hu, Y. Liu, Q. Jin, X. Wang, H. Li. M3ED: multi-modal multi-scene multi-label "
        "emotional dialogue database. ACL 2022.",
        note="file names (modality_speech/A_doutinghao_22_8.wav) carry no label and the release's annotation format "
        "is not public: " + MANIFEST_NOTE,
    ),
    _emobox(
        "mer2023",
        "MER2023: multimodal emotion recognition challenge data",
        "CHI",
        "research only (EULA)",
        "http://merchallenge.cn/",
        "Z. Lian et al. MER 2023: multi-label learning, modality robustness, and semi-supervised learning. ACM "
        "Multimedia 2023.",
        note="video clips (samplenew_00065389.mp4) whose labels are only in the challenge's label files, not public: "
        + MANIFEST_NOTE,
    ),
    # Licence unverified: OpenSLR 136's page was not readable here and third-party lists disagree (Apache-2.0 in
    # SuperKogito/SER-datasets, CC BY 4.0 in nkululeko's dataset list); openempathic/EMNS-DCT is the recording tool.
    _emobox(
        "emns",
        "EMNS: Emotive Narrative Storytelling corpus",
        "ENG",
        "unverified",
        "https://www.openslr.org/136/",
        "K. A. Noriy, X. Yang, J. J. Zhang. EMNS /Imz/ corpus: an emotive single-speaker dataset for narrative "
        "storytelling in games, television and graphic novels. arXiv:2305.13137, 2023.",
        note=".webm audio: convert to wav beside each file first (docs/corpora.md)",
    ),
    # Licence unverified: the Zenodo records read (3782416 v1, 5573185 v2) ask to cite the ASVP-ESD and link the
    # Zenodo page, but their licence field was not in what could be read; the authors are those records' creators.
    # The benchmark paper cited before (Landry, He, Yan, Li, Global Scientific Journals 8(6), 2020) was not found.
    _emobox(
        "asvp_esd",
        "ASVP-ESD: speech and non-speech emotional sound database",
        "ENG",
        "unverified",
        "https://zenodo.org/records/7132783",
        "D. T. T. Landry, Q. He, W. Xie. Audio, Speech and Vision Processing Lab Emotional Sound database "
        "(ASVP-ESD). South China University of Technology, Zenodo, 2020.",
        note="mostly English, some other languages; non-speech sounds too",
    ),
    _emobox(
        "ased",
        "ASED: Amharic Speech Emotion Dataset",
        "AMH",
        "unstated",
        "https://github.com/Ethio2021/ASED_V1",
        "E. A. Retta, E. Almekhlafi, R. Sutcliffe, M. Mhamed, H. Ali, J. Feng. A new Amharic speech emotion dataset "
        "and classification benchmark. ACM TALLIP, 2023. doi:10.1145/3529759.",
        note="no licence in Ethio2021/ASED_V1 or wgwangang/ASED_V1 (README only: cite the paper); the paper calls it "
        "freely available for download",
    ),
    _emobox(
        "turevdb",
        "TurEV-DB: Turkish emotional voice database",
        "TUR",
        "CC-BY-NC-ND-4.0",
        "https://github.com/Xeonen/TurEV-DB",
        "S. F. Canpolat, Z. Ormanoğlu, D. Zeyrek. Turkish Emotion Voice Database (TurEV-DB). Proc. 1st Joint Workshop "
        "SLTU-CCURL (LREC 2020), pp. 368-375, 2020.",
        note="licence and citation from the repository's README.md (Xeonen/TurEV-DB)",
    ),
    _emobox(
        "pavoque",
        "PAVOQUE: expressive German single-speaker corpus",
        "DEU",
        "CC-BY-NC-SA-4.0",
        "https://github.com/marytts/pavoque-data",
        "I. Steiner, M. Schröder, A. Klepp. The PAVOQUE corpus as a resource for analysis and synthesis of "
        "expressive speech. Phonetik & Phonologie 9, 2013.",
        note="one FLAC per style (pavoque-sad.flac), utterances cut by start/end times: " + MANIFEST_NOTE,
    ),
    # Licence unverified: the Fondazione Ugo Bordoni page (voice.fub.it) was not readable here; the citation is the
    # LREC 2014 proceedings entry.
    _emobox(
        "emovo",
        "EMOVO: Italian emotional speech corpus",
        "ITA",
        "unverified (research use)",
        "http://voice.fub.it/activities/corpora/emovo/index.html",
        "G. Costantini, I. Iaderola, A. Paoloni, M. Todisco. EMOVO corpus: an Italian emotional speech database. "
        "LREC 2014, Reykjavik.",
        by_language=False,
        note="Italian, a paper language: reached with --corpora emovo (--languages ITA still means Emozionalmente)",
    ),
)
