"""Predict's output: rows as JSON, CSV or a terminal table, the format chosen from --output, and the
:class:`RowWriter` that writes them file by file and resumes a run cut short (:func:`read_finished`)."""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hf_ser.errors import UserError
from hf_ser.safe_io import atomic_write_text, display_path, spreadsheet_safe

logger = logging.getLogger("hf_ser.infer.predict")

FORMATS = ("csv", "jsonl", "json", "table")
SUFFIX_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
COLUMNS = ("path", "kind", "start", "end", "label", "score", "scores", "error")


def _num(x: float | None, digits: int) -> str:
    """A number cell ('' for None)."""
    return "" if x is None else f"{x:.{digits}f}"


def _rounded(scores: dict[str, float] | None) -> dict[str, float] | None:
    """Scores rounded to 6 decimals (None stays None)."""
    return None if scores is None else {k: round(v, 6) for k, v in scores.items()}


def json_record(row: dict) -> dict:
    """The JSON / JSON Lines object of a row (printable path and error)."""
    return {
        "path": display_path(row["path"]),
        "kind": row["kind"],
        "start": row["start"],
        "end": row["end"],
        "label": row["label"],
        "score": None if row["score"] is None else round(row["score"], 6),
        "scores": _rounded(row["scores"]),
        "error": row["error"],
    }


def csv_record(row: dict) -> list[str]:
    """The CSV cells of a row: printable, one line each, formula-like text neutralised."""
    return [
        spreadsheet_safe(display_path(row["path"])),
        row["kind"],
        _num(row["start"], 3),
        _num(row["end"], 3),
        spreadsheet_safe(row["label"] or ""),
        _num(row["score"], 6),
        "" if row["scores"] is None else json.dumps(_rounded(row["scores"])),
        spreadsheet_safe(" ".join((row["error"] or "").split())),
    ]


def to_table(rows: Sequence[dict]) -> str:
    """An aligned text table for the terminal (segment rows indented under their path)."""
    header = ["path", "kind", "span", "label", "score", "scores", "error"]
    lines = []
    for r in rows:
        scores = ", ".join(f"{k} {v:.3f}" for k, v in (r["scores"] or {}).items())
        lines.append(
            [
                display_path(r["path"]),
                r["kind"],
                f"{r['start']:.2f}-{r['end']:.2f} s",
                r["label"] or "-",
                _num(r["score"], 3),
                scores,
                r["error"] or "",
            ]
        )
    widths = [max(len(h), *(len(line[j]) for line in lines)) if lines else len(h) for j, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines]
    return "\n".join(out)


def format_for(output: str | None, fmt: str | None) -> str:
    """The output format: --format, else from the --output suffix, else a table on stdout."""
    if fmt:
        return fmt
    if not output:
        return "table"
    suffix = Path(output).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise UserError(
            f"cannot tell the format of --output {display_path(output)} from its suffix; use .csv, "
            ".jsonl or .json, or give --format"
        )
    return SUFFIX_FORMATS[suffix]


def resume_key(path: str, fmt: str) -> str:
    """How a path appears in the output (the key --resume matches inputs on)."""
    return spreadsheet_safe(display_path(path)) if fmt == "csv" else display_path(path)


def read_finished(output: Path, fmt: str) -> tuple[list, dict[str, bool], bool]:
    """Records already in `output` for files that are complete, their path keys (-> classified?), and
    whether anything was dropped (rows of a file cut short, a half-written last line).

    A file is complete when its file row (always written last) is there; the rows of any other file are
    dropped, so rerunning it gives no duplicates.
    """
    text = output.read_text(encoding="utf-8", errors="replace")
    truncated = bool(text) and not text.endswith("\n")
    if truncated:
        text = text[: text.rfind("\n") + 1]
    if fmt == "csv":
        parsed = list(csv.reader(io.StringIO(text)))
        if parsed and parsed[0] != list(COLUMNS):
            raise UserError(
                f"{display_path(output)} is not a predict CSV (header {','.join(parsed[0])[:80]}); "
                "give another --output or drop --resume"
            )
        records = [r for r in parsed[1:] if len(r) == len(COLUMNS)]
        dropped = len(records) != len(parsed) - 1
        keyed = [(r[0], r[1], r[7]) for r in records]
    elif fmt == "jsonl":
        records, dropped = [], False
        for line in text.splitlines():
            try:
                obj = json.loads(line)
                if isinstance(obj, dict) and set(COLUMNS) <= obj.keys():
                    records.append(obj)
                    continue
            except json.JSONDecodeError:
                pass
            dropped = True
        keyed = [(r["path"], r["kind"], r["error"]) for r in records]
    else:
        try:
            records = json.loads(text) if text.strip() else []
            assert isinstance(records, list) and all(set(COLUMNS) <= r.keys() for r in records)
        except (json.JSONDecodeError, AssertionError, AttributeError):
            raise UserError(
                f"{display_path(output)} is not a complete predict JSON array, so it cannot be resumed; "
                "use --format csv or jsonl for runs you may have to resume"
            ) from None
        dropped = False
        keyed = [(r["path"], r["kind"], r["error"]) for r in records]
    done = {key: not error for key, kind, error in keyed if kind == "file"}
    kept = [r for r, (key, _, _) in zip(records, keyed) if key in done]
    return kept, done, truncated or dropped or len(kept) != len(records)


class RowWriter:
    """Writes rows as files finish: CSV / JSON Lines appended and flushed per file, JSON and table at close."""

    def __init__(self, fmt: str, output: str | None, resume: bool = False):
        """Open `output` (stdout when None); with `resume`, keep the complete files already written there."""
        self.fmt, self.output = fmt, Path(output) if output else None
        self.done: dict[str, bool] = {}
        self.held: list = []  # json records / table rows, written at close
        existing: list = []
        if resume and self.output is not None and self.output.is_file() and self.output.stat().st_size:
            existing, self.done, dropped = read_finished(self.output, fmt)
            if dropped and fmt != "json":
                logger.info("dropped the rows of a file cut short in %s; it is classified again", display_path(output))
                atomic_write_text(self.output, self._text(existing, header=True))
        if fmt in ("json", "table"):
            self.held = existing
            self.stream = None
            return
        if self.output is None:
            self.stream = sys.stdout
        else:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            append = resume and bool(existing)
            self.stream = self.output.open("a" if append else "w", encoding="utf-8", newline="")
            if append:
                return
        if fmt == "csv":
            self.stream.write(self._text([], header=True))

    def _text(self, records: list, header: bool = False) -> str:
        """CSV or JSON Lines text of already formatted records."""
        if self.fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            if header:
                writer.writerow(COLUMNS)
            writer.writerows(records)
            return buf.getvalue()
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)

    def write(self, rows: Sequence[dict]) -> None:
        """Write one file's rows (its file row last) and flush, so a kill never leaves half a file unseen."""
        if self.fmt == "table":
            self.held += rows
        elif self.fmt == "json":
            self.held += [json_record(r) for r in rows]
        else:
            records = [csv_record(r) if self.fmt == "csv" else json_record(r) for r in rows]
            self.stream.write(self._text(records))
            self.stream.flush()

    def close(self) -> None:
        """Write the held JSON array or table, close the file."""
        if self.fmt == "json":
            text = json.dumps(self.held, indent=2, ensure_ascii=False) + "\n"
            if self.output is None:
                sys.stdout.write(text)
            else:
                self.output.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(self.output, text)
        elif self.fmt == "table":
            text = to_table(self.held) + "\n"
            if self.output is None:
                sys.stdout.write(text)
            else:
                atomic_write_text(self.output, text)
        elif self.stream is not None and self.stream is not sys.stdout:
            self.stream.close()
