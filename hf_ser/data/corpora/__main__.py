"""Command line: ``hf-ser corpora list`` and ``hf-ser corpora prepare NAME...``.

``list`` shows every known corpus and whether it was found under the data root.
``prepare`` parses, preprocesses and caches corpora (names, manifest files, parquet/Arrow
folders or Hub ids), prints a report for each and optionally writes them all as one JSON
object keyed by corpus name. A missing corpus or a bad file never stops the others; the exit
code is non-zero only when nothing at all was prepared. The report counts the classes of
``--label_set`` (default paper: the six emotions; ``native``: each corpus's own classes; or
canonical names), and, for a set other than paper, what each class merged and what was dropped.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import datasets

from hf_ser.console import ArgumentParser, command, setup_logging
from hf_ser.data.audio import PreprocessConfig
from hf_ser.data.corpora import (
    CorpusNotFound,
    corpus_folder,
    corpus_status,
    format_report,
    load_corpus,
    prepare_scan,
    scan_source,
)
from hf_ser.data.corpora.prepare import format_report_details, never_prepared
from hf_ser.data.label_set import LabelSet, corpus_class_counts, parse_label_set
from hf_ser.errors import StorageError, UserError
from hf_ser.labels import CORPORA, EMOTIONS, LANGUAGES, check_languages, group_title
from hf_ser.safe_io import atomic_write_json, display_path

logger = logging.getLogger(__name__)

STATUS_TEXT = {"found": "yes", "manifest": "yes (manifest)", "empty": "empty folder", "missing": "no"}


EXAMPLES = """examples:
  hf-ser corpora list --data_root data
  hf-ser corpora prepare cafe emovo --data_root data
  hf-ser corpora prepare iemocap --label_set anger happiness neutral sadness   # exc merged into happiness
  hf-ser corpora prepare ravdess --label_set native                            # its own 8 classes
  hf-ser corpora prepare my_clips.csv --language fr --output reports.json   # a manifest: path,label[,language]
"""


def missing_root(data_root: str | Path) -> str | None:
    """Why `data_root` cannot hold corpora ('does not exist', 'is a file...'), None when it is a folder."""
    p = Path(data_root).expanduser()
    if p.is_dir():
        return None
    return "is a file, not a folder" if p.exists() else "does not exist"


def list_corpora(data_root: str | Path) -> str:
    """The table printed by ``list``: one row per registered corpus."""
    header = ("name", "language", "group", "licence", "where to get it", "folder", "found")
    rows = [header]
    for info in CORPORA.values():
        lang = LANGUAGES.get(info.language)
        codes = "+".join(info.languages) if info.languages else info.language
        rows.append(
            (
                info.name,
                f"{codes} ({lang.name})" if lang and not info.languages else codes,
                (group_title(lang.group) if lang.group else "-") if lang else "?",
                info.licence,
                info.url,
                display_path(corpus_folder(data_root, info.name)) + "/",
                STATUS_TEXT[corpus_status(info.name, data_root)],
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    languages = {c for info in CORPORA.values() for c in (info.languages or (info.language,))}
    lines.append(f"{len(CORPORA)} corpora in {len(languages)} languages (group '-': outside the paper's split)")
    return "\n".join(lines)


def _failure_report(name: str, path: str, reason: str, report: dict | None = None) -> dict:
    """The report of a corpus that could not be prepared (same shape as a successful one)."""
    if report:
        return {**report, "error": reason}
    return {
        "corpus": name,
        "files_seen": 0,
        "kept": {e: 0 for e in EMOTIONS},
        "kept_total": 0,
        "dropped": {},
        "skipped": [{"path": path, "reason": reason}],
        "speakers": 0,
        "hours": 0.0,
        "sample_rates": {},
        "channels": {},
        "notes": [],
        "cache": None,
        "error": reason,
    }


def _parse_options(pairs: list[str]) -> dict:
    """--option KEY=VALUE pairs as a dict; UserError naming a malformed pair."""
    out: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--option expects KEY=VALUE, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def _options_for(name: str, options: dict) -> dict:
    """Options for one source: plain keys apply to all, ``NAME.key`` only to corpus NAME."""
    out = {k: v for k, v in options.items() if "." not in k}
    out.update({k.split(".", 1)[1]: v for k, v in options.items() if k.split(".", 1)[0] == name and "." in k})
    return out


def label_set_report(
    name: str,
    spec: LabelSet,
    data_root: str | Path,
    cache_dir: str | Path | None,
    cfg: PreprocessConfig,
    num_proc: int | None,
    options: dict,
) -> dict:
    """One source's preparation report with ``label_set``: what `spec` keeps, merges and drops of it
    (:func:`~hf_ser.data.label_set.corpus_class_counts`; the preparation caches every set's rows at once)."""
    scan = scan_source(name, data_root, **options)
    ds, report = prepare_scan(scan, cache_dir, cfg, num_proc, view="all")
    shown = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # mapping the label columns is instant: no bars between the reports
    try:
        counts = corpus_class_counts(ds, spec, never_prepared(scan))
    finally:
        if shown:
            datasets.enable_progress_bars()
    return {**report, "label_set": counts}


def format_label_set_report(report: dict, max_skips: int = 20) -> str:
    """:func:`format_report` of a report with ``label_set``: the set's classes counted, each with the native
    labels it took when they are not just its own name ('merged:' when more than one), the rows dropped per native
    label, and the skipped files of every class."""
    counts = report["label_set"]
    title = (
        " ".join(counts["classes"]) if counts["label_set"] != "native" else f"native, {len(counts['classes'])} classes"
    )
    lines = [
        f"== {report['corpus']}: {counts['kept_total']} kept of {report['files_seen']} files, "
        f"{counts['speakers']} speakers, {counts['hours']:.3f} h (label set: {title})"
    ]
    kept = []
    for cls, n in counts["kept"].items():
        natives = counts["natives"].get(cls, {})
        if cls in counts["merged"]:
            kept.append(f"{cls} {n} (merged: " + " + ".join(f"{k} {v}" for k, v in natives.items()) + ")")
        else:
            kept.append(f"{cls} {n}" + (f" ({', '.join(natives)})" if natives and list(natives) != [cls] else ""))
    lines.append("   kept:    " + ", ".join(kept))
    if counts["dropped"]:
        lines.append("   dropped: " + ", ".join(f"{k} {v}" for k, v in counts["dropped"].items()))
    every = {**report, "skipped": report["skipped"] + report.get("skipped_other_labels", [])}
    return "\n".join(lines + format_report_details(every, max_skips, rates_of=" (rows of the paper's six)"))


def kept_rows(report: dict) -> int:
    """Rows a report kept: of its label set's classes when it has one, else of the paper's six."""
    return int(report.get("label_set", report).get("kept_total", 0))


def prepare(
    names: list[str],
    data_root: str | Path = "data",
    cache_dir: str | Path | None = None,
    num_proc: int | None = None,
    output: str | Path | None = None,
    options: dict | None = None,
    cfg: PreprocessConfig = PreprocessConfig(),
    label_set: LabelSet | None = None,
) -> dict[str, dict]:
    """Prepare each source in turn; returns ``{name: report}`` (failures included, with ``error``). With a
    `label_set` other than paper each report also has ``label_set`` (:func:`label_set_report`)."""
    spec = label_set or parse_label_set(None)
    if names == ["all"]:
        names = list(CORPORA)
    reports: dict[str, dict] = {}
    for name in names:
        own = _options_for(name, options or {})
        key = name if name in CORPORA else Path(name).stem if Path(name).suffix else Path(name).name or name
        where = display_path(corpus_folder(data_root, name)) if name in CORPORA else name
        try:
            if spec.is_paper:
                _, report = load_corpus(name, data_root, cache_dir=cache_dir, cfg=cfg, num_proc=num_proc, **own)
            else:
                report = label_set_report(name, spec, data_root, cache_dir, cfg, num_proc, own)
            key = report.get("corpus", key) if name not in CORPORA else name
            reports[key] = report
            print(format_report(report) if spec.is_paper else format_label_set_report(report), flush=True)
        except StorageError:
            raise  # the cache folder is unwritable: every corpus would fail the same way
        except CorpusNotFound as e:
            reports[key] = _failure_report(key, where, str(e), e.report)
            print(f"== {key}: SKIPPED: {e}", flush=True)
            if e.report:
                print(format_report(e.report), flush=True)
        except UserError as e:
            reports[key] = _failure_report(key, where, str(e))
            print(f"== {key}: FAILED: {e}", flush=True)
        except Exception as e:  # a bug: its traceback is logged, and the other corpora still go on
            logger.exception("%s: unexpected error", key)
            reports[key] = _failure_report(key, where, f"{type(e).__name__}: {display_path(str(e))}")
            print(f"== {key}: FAILED: {type(e).__name__}: {display_path(str(e))}", flush=True)
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(output, reports)
    return reports


@command
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``hf-ser corpora``."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = ArgumentParser(
        prog="hf-ser corpora", description=__doc__.split("\n\n")[0], epilog=EXAMPLES, formatter_class=raw
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser(
        "list",
        help="table of every known corpus and whether it is under the data root",
        epilog=EXAMPLES,
        formatter_class=raw,
    )
    p_list.add_argument("--data_root", default="data", help="folder holding one sub-folder per corpus (default data)")
    p_prep = sub.add_parser(
        "prepare",
        help="parse, preprocess and cache corpora; print a report for each",
        epilog=EXAMPLES,
        formatter_class=raw,
    )
    p_prep.add_argument(
        "names",
        nargs="+",
        metavar="NAME",
        help="corpus name ('all' for every one), manifest file, parquet/Arrow folder or Hub id",
    )
    p_prep.add_argument("--data_root", default="data", help="folder holding one sub-folder per corpus (default data)")
    p_prep.add_argument("--output", default=None, help="write all reports to this JSON file")
    p_prep.add_argument("--cache_dir", default=None, help="default: $HF_SER_CACHE/prepared or ~/.cache/hf_ser/prepared")
    p_prep.add_argument("--num_proc", type=int, default=None, help="processes for audio preparation")
    p_prep.add_argument("--label_map", default=None, help="JSON file or inline JSON: native label -> emotion or null")
    p_prep.add_argument(
        "--label_set",
        nargs="+",
        default=["paper"],
        metavar="CLASS",
        help="classes the report counts: 'paper' (the six emotions, default), 'native' (each corpus's own classes) "
        "or canonical names, e.g. anger happiness neutral sadness (IEMOCAP excited merges into happiness); for a "
        "set other than paper the report shows what each class merged and what was dropped",
    )
    p_prep.add_argument(
        "--language",
        default=None,
        help="language of manifests/tables without a language column: a code (FRE), an ISO 639 code (fr, fra) or "
        "an English name (French)",
    )
    p_prep.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="loader option, e.g. --option oreau.release=_01, --option emofilm.part=all "
        "(a NAME. prefix limits it to that corpus)",
    )
    args = parser.parse_args(argv)
    setup_logging(logging.WARNING)
    if args.command == "list":  # a missing data root still lists where to get each corpus, and says so
        root = args.data_root
        print(list_corpora(root))
        why = missing_root(root)
        if why:
            print(
                f"note: the data root {display_path(root)} {why}: every corpus is missing; create it and put each "
                "corpus in its sub-folder (docs/corpora.md), or give --data_root",
                file=sys.stderr,
            )
        return 0
    spec = parse_label_set(args.label_set)
    options = _parse_options(args.option)
    if args.label_map:
        options["label_map"] = args.label_map
    if args.language:
        options["language"] = check_languages([args.language])[0]
    reports = prepare(args.names, args.data_root, args.cache_dir, args.num_proc, args.output, options, label_set=spec)
    prepared = [k for k, r in reports.items() if kept_rows(r) > 0 and "error" not in r]
    print(f"prepared {len(prepared)} of {len(reports)}: {', '.join(prepared) or 'none'}", flush=True)
    return 0 if prepared else 1


if __name__ == "__main__":
    sys.exit(main())
