"""``all``: every figure for every run of a grid, and one page (index.md + index.html) to read the study.

    hf-ser analysis all RUNS_DIR [--model facebook/wav2vec2-xls-r-300m]

Per trained run (a folder with metrics.json and model/), into ``RUNS_DIR/analysis/<run>/``: per-layer probes
(Fig. 1), t-SNE of two layers scaled to the depth like the paper's 4 and 18 of 24 (Fig. 2), the confusion
matrices (Fig. 3) and the projector t-SNE (Fig. 4), with the run's feature cache in ``<run>/features/`` (or
``--cache_dir``/<run>); the run folders are only read. ``RUNS_DIR/analysis/`` also gets Tables 2 and 3 (from
``hf_ser.study.report``), the Section 4.3 claim check, and the page, which embeds everything by relative path together
with the few-shot curves found under RUNS_DIR (``few_shot-<LANG>/few_shot.png``).
"""

from __future__ import annotations

import html
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from hf_ser.errors import UserError
from hf_ser.experiments.few_shot.outputs import HEADER as FEW_SHOT_HEADER
from hf_ser.experiments.few_shot.outputs import table_rows as few_shot_rows
from hf_ser.safe_io import atomic_write_json
from hf_ser.study.analysis.confusion import run_confusion
from hf_ser.study.analysis.features import model_config, model_tag
from hf_ser.study.analysis.layers import run_layers, summary_line
from hf_ser.study.analysis.tsne import default_layers, run_tsne
from hf_ser.study.report.cells import NOT_EVALUATED, Table
from hf_ser.study.report.claim_text import claim_summary, claims_payload, lineage_text
from hf_ser.study.report.claims import check_lineage_claim, lineage_test
from hf_ser.study.report.heatmap import plot_table
from hf_ser.study.report.render import ROW_HEADER, to_csv, to_markdown
from hf_ser.study.report.runs import load_runs
from hf_ser.study.report.tables import table2, table3

logger = logging.getLogger(__name__)

STEPS = ("layers", "tsne", "projector", "confusion")


@dataclass
class Page:
    """A page as blocks, rendered to Markdown and to HTML from the same content."""

    title: str
    blocks: list[tuple] = field(default_factory=list)

    def heading(self, level: int, text: str) -> None:
        self.blocks.append(("h", level, text))

    def text(self, text: str) -> None:
        self.blocks.append(("p", text))

    def images(self, items: list[tuple[str, str]]) -> None:
        """Images side by side: (relative path, alt text)."""
        if items:
            self.blocks.append(("img", items))

    def table(self, header: list[str], rows: list[list[str]], caption: str = "") -> None:
        self.blocks.append(("table", header, rows, caption))

    def markdown(self) -> str:
        """GitHub-flavoured Markdown."""
        out = [f"# {self.title}", ""]
        for block in self.blocks:
            kind = block[0]
            if kind == "h":
                out += ["#" * block[1] + " " + block[2], ""]
            elif kind == "p":
                out += [block[1], ""]
            elif kind == "img":
                out += [" ".join(f"![{alt}]({_url(path)})" for path, alt in block[1]), ""]
            elif kind == "table":
                _, header, rows, caption = block
                if caption:
                    out += [f"**{caption}**", ""]
                out.append("| " + " | ".join(header) + " |")
                out.append("|" + "|".join(["---"] * len(header)) + "|")
                out += ["| " + " | ".join(row) + " |" for row in rows]
                out.append("")
        return "\n".join(out) + "\n"

    def html(self) -> str:
        """A standalone HTML page (no external assets)."""
        esc = html.escape
        out = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{esc(self.title)}</title>",
            "<style>body{font-family:sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}"
            "img{max-width:100%;height:auto;border:1px solid #ddd;margin:4px}"
            ".row{display:flex;flex-wrap:wrap;gap:8px}.row img{max-width:49%}"
            "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
            "td,th{border:1px solid #ccc;padding:3px 7px;text-align:center}td:first-child{text-align:left}"
            "caption{font-weight:bold;text-align:left;padding:4px 0}</style></head><body>",
            f"<h1>{esc(self.title)}</h1>",
        ]
        for block in self.blocks:
            kind = block[0]
            if kind == "h":
                out.append(f"<h{block[1]}>{esc(block[2])}</h{block[1]}>")
            elif kind == "p":
                out.append(f"<p>{esc(block[1])}</p>")
            elif kind == "img":
                cls = ' class="row"' if len(block[1]) > 1 else ""
                imgs = "".join(
                    f'<a href="{esc(_url(p))}"><img src="{esc(_url(p))}" alt="{esc(a)}"></a>' for p, a in block[1]
                )
                out.append(f"<div{cls}>{imgs}</div>")
            elif kind == "table":
                _, header, rows, caption = block
                out.append("<table>" + (f"<caption>{esc(caption)}</caption>" if caption else ""))
                out.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
                out += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows]
                out.append("</table>")
        out.append("</body></html>")
        return "\n".join(out) + "\n"


def _url(path: str) -> str:
    return path.replace(os.sep, "/").replace(" ", "%20")


def _table_block(page: Page, table: Table) -> None:
    rows = [[label, *(NOT_EVALUATED if c is None else str(c) for c in cells)] for label, cells in table.rows]
    page.table([ROW_HEADER, *table.columns], rows, table.caption)


def analyse_run(
    run_dir: Path,
    out_dir: Path,
    *,
    steps: tuple[str, ...] = STEPS,
    model: str | None = None,
    layers: list[int] | None = None,
    batch_size: int = 8,
    device: str | None = None,
    seed: int = 0,
    max_points: int = 2000,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> dict:
    """Every figure of one run into `out_dir` (features cached in `cache_dir`, default ``<out_dir>/features``);
    returns {step: payload or {'error': message}}."""
    results: dict = {}
    extraction = {
        "out": out_dir,
        "batch_size": batch_size,
        "device": device,
        "seed": seed,
        "cache_dir": cache_dir,
        "progress": progress,
    }

    def attempt(name: str, fn) -> None:
        try:
            results[name] = fn()
        except (UserError, OSError) as e:
            logger.error("%s: %s failed: %s", run_dir.name, name, e)
            results[name] = {"error": str(e)}
        except Exception as e:  # a bug in one figure: its traceback is logged, the other figures still come
            logger.exception("%s: %s failed", run_dir.name, name)
            results[name] = {"error": f"{type(e).__name__}: {e}"}

    if "layers" in steps:
        attempt(
            "layers",
            lambda: run_layers(run_dir, split="test", **extraction),
        )
        if model is not None:
            attempt(
                "layers_frozen",
                lambda: run_layers(run_dir, split="test", model=model, **extraction),
            )
    if "tsne" in steps:

        def tsne() -> list[dict]:
            chosen = layers or default_layers(int(model_config(run_dir).num_hidden_layers))
            return run_tsne(run_dir, layers=chosen, max_points=max_points, **extraction)

        attempt("tsne", tsne)
    if "projector" in steps:
        attempt(
            "projector",
            lambda: run_tsne(run_dir, space="projector", max_points=max_points, **extraction)[0],
        )
    if "confusion" in steps:
        attempt("confusion", lambda: run_confusion(run_dir, out_dir))
    return results


def _rel(path: Path, start: Path) -> str:
    return os.path.relpath(path, start)


def build_page(
    runs_dir: Path,
    out: Path,
    analysed: dict[str, dict],
    few_shots: list[Path],
    tables: list[Table],
    model: str | None,
    claims: list[dict] | None = None,
) -> Page:
    """Assemble the index page from the written figures and their JSON numbers (and the Sec. 4.3 claim check)."""
    page = Page(f"hf_ser analysis of {runs_dir.resolve().name}")
    page.text(
        f"Runs folder: {runs_dir.resolve()}. {len(analysed)} trained run(s); every figure below has its "
        f"numbers beside it (same name, .json / .csv). Regenerate with `hf-ser analysis all "
        f"{runs_dir}`."
    )
    page.heading(2, tables_heading(tables))
    if not tables:
        page.text("No single-language, multilingual or cross-group run: no table.")
    for t in tables:
        _table_block(page, t)
        page.images([(f"{t.name}.png", t.title)])
    if claims:
        claim_block(page, claims)
    _figure_sections(page, out, analysed, model)
    _few_shot_block(page, out, few_shots)
    return page


def _figure_sections(page: Page, out: Path, analysed: dict[str, dict], model: str | None) -> None:
    """Figs. 1-4 on the page, one section each with one entry per analysed run ('not run' or 'failed: ...' when so)."""
    folder = {name: out / name for name in analysed}

    def section(title: str, key: str, render) -> None:
        page.heading(2, title)
        for name, res in analysed.items():
            page.heading(3, name)
            item = res.get(key)
            if item is None:
                page.text("not run")
            elif isinstance(item, dict) and "error" in item:
                page.text(f"failed: {item['error']}")
            else:
                render(name, item)

    def layers(name: str, payload: dict) -> None:
        page.text(summary_line(payload))
        images = [(_rel(folder[name] / "layers.png", out), f"{name} per-layer probes")]
        frozen = analysed[name].get("layers_frozen")
        if frozen and "error" not in frozen:
            page.text(summary_line(frozen))
            images.append((_rel(folder[name] / f"layers-{model_tag(model)}.png", out), f"{name} probes, {model}"))
        page.images(images)

    def tsne(name: str, payloads: list[dict]) -> None:
        page.text(
            "; ".join(
                f"{p['title']}: silhouette emotion {_num(p['silhouette_emotion'])}, language "
                f"{_num(p['silhouette_language'])}"
                for p in payloads
            )
        )
        combined = payloads[0].get("combined_png") or payloads[0]["png"]
        page.images([(_rel(folder[name] / combined, out), f"{name} t-SNE")])

    def confusion(name: str, payload: dict) -> None:
        page.text(payload["caption"])
        page.images([(_rel(folder[name] / "confusion.png", out), f"{name} confusion matrices")])

    def projector(name: str, payload: dict) -> None:
        page.text(
            f"projector (256-d pooled projection): silhouette emotion {_num(payload['silhouette_emotion'])}, "
            f"language {_num(payload['silhouette_language'])}"
        )
        page.images([(_rel(folder[name] / payload["png"], out), f"{name} projector t-SNE")])

    section("Fig. 1: per-layer linear probes", "layers", layers)
    section("Fig. 2: t-SNE of intermediate layers", "tsne", tsne)
    section("Fig. 3: confusion matrices", "confusion", confusion)
    section("Fig. 4: t-SNE of the projector space", "projector", projector)


def _few_shot_block(page: Page, out: Path, few_shots: list[Path]) -> None:
    """The few-shot section: per few_shot.json, its table, its upper-bound note and its curve when drawn."""
    page.heading(2, "Few-shot adaptation")
    if not few_shots:
        page.text("No few-shot result under this folder (run `hf-ser recipe few_shot --base RUN_DIR --language CODE`).")
    for path in few_shots:
        payload = json.loads(path.read_text())
        page.heading(3, f"{payload['language']} from {payload['base_run']}")
        page.table(FEW_SHOT_HEADER, few_shot_rows(payload))
        page.text(payload["upper_bound_note"])
        png = path.with_name("few_shot.png")
        if png.is_file():
            page.images([(_rel(png, out), f"few-shot {payload['language']}")])


CLAIM_RESAMPLES = 1000  # bootstrap resamples for the claim check's margin CIs on the page (a few seconds)


def tables_heading(tables: list[Table]) -> str:
    """'Tables 2 and 3', 'Table 3', ... naming exactly the tables shown ('Tables' when none)."""
    numbers = [t.name.removeprefix("table") for t in tables]
    if not numbers:
        return "Tables"
    return f"Table {numbers[0]}" if len(numbers) == 1 else f"Tables {', '.join(numbers[:-1])} and {numbers[-1]}"


CLAIM_HEADER = ["Held-out", "Group", "Own-group UAR", "Other-group mean", "Margin over mean", "95% CI", "Own rank"]


def claim_block(page: Page, claims: list[dict]) -> None:
    """The Section 4.3 claim check as in ``claims.md``: summary, the configuration-level test (its null and
    assumption), per-group figures and one row per held-out language."""
    page.heading(2, "Section 4.3 lineage claim")
    page.text(claim_summary(claims))
    for line in lineage_text(lineage_test(claims)):
        page.text(line)
    rows = []
    for r in claims:
        ci = r.get("mean_margin_ci")
        rows.append(
            [
                r["language"],
                r["group_title"],
                f"{r['own_group_uar']:.1f} ({r['own_group_train']})",
                "//" if r["mean_other_uar"] is None else f"{r['mean_other_uar']:.1f} ({r['n_other']})",
                "//" if r["mean_margin"] is None else f"{r['mean_margin']:+.1f}",
                "//" if ci is None else f"[{ci[0]:+.1f}, {ci[1]:+.1f}]",
                "//" if r["rank"] is None else f"{r['rank']} of {r['n_configs']}",
            ]
        )
    page.table(CLAIM_HEADER, rows, "Margin = own-group UAR minus the mean of the other-group configurations.")


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _write_tables(runs: list[dict], out: Path) -> list[Table]:
    """Tables 2 and 3 into `out` as .md, .csv and .png; returns the tables that have rows (those are written)."""
    tables = []
    for table in (table2(runs), table3(runs)):
        if table.rows:
            (out / f"{table.name}.md").write_text(to_markdown(table), encoding="utf-8")
            (out / f"{table.name}.csv").write_text(to_csv(table), encoding="utf-8")
            plot_table(table, out / f"{table.name}.png")
            tables.append(table)
    return tables


def _step_summary(analysed: dict[str, dict]) -> dict[str, dict]:
    """Per run, per step: 'ok' or {'error': message} (index.json's ``runs``)."""
    return {
        name: {
            step: ({"error": v["error"]} if isinstance(v, dict) and "error" in v else "ok") for step, v in res.items()
        }
        for name, res in analysed.items()
    }


def run_all(
    runs_dir: str | Path,
    *,
    model: str | None = None,
    layers: list[int] | None = None,
    steps: tuple[str, ...] = STEPS,
    batch_size: int = 8,
    device: str | None = None,
    seed: int = 0,
    max_points: int = 2000,
    output_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> tuple[Path, list[str]]:
    """Render every figure of every trained run under `runs_dir` and write analysis/index.{md,html,json}.

    Everything goes below `output_dir` (default ``RUNS_DIR/analysis``): each run's figures into ``<run>/`` and its
    feature cache into ``<run>/features/``, or into ``<cache_dir>/<run>/`` when `cache_dir` is given. The run
    folders are only read.

    Returns the index path and the failed steps ('<run>: <step>'), so the command can exit 1 when any failed.
    """
    runs_dir = Path(runs_dir)
    runs = load_runs(runs_dir)
    out = Path(output_dir) if output_dir else runs_dir / "analysis"
    out.mkdir(parents=True, exist_ok=True)
    analysed: dict[str, dict] = {}
    for r in sorted(runs, key=lambda r: r["_path"]):
        run_dir = Path(r["_path"]).parent
        if r["family"] == "few_shot":
            continue
        name = str(run_dir.relative_to(runs_dir))
        if not (run_dir / "model" / "config.json").is_file():
            logger.warning("%s has no model/: figures that need the model are skipped", run_dir)
        print(f"== {name}")
        analysed[name] = analyse_run(
            run_dir,
            out / name,
            steps=steps,
            model=model,
            layers=layers,
            batch_size=batch_size,
            device=device,
            seed=seed,
            max_points=max_points,
            cache_dir=Path(cache_dir) / name if cache_dir is not None else None,
            progress=progress,
        )
    tables = _write_tables(runs, out)
    few_shots = sorted(p for p in runs_dir.rglob("few_shot.json") if "analysis" not in p.relative_to(runs_dir).parts)
    claims = check_lineage_claim(runs, CLAIM_RESAMPLES)
    page = build_page(runs_dir, out, analysed, few_shots, tables, model, claims)
    (out / "index.md").write_text(page.markdown(), encoding="utf-8")
    (out / "index.html").write_text(page.html(), encoding="utf-8")
    summary = _step_summary(analysed)
    atomic_write_json(
        out / "index.json",
        {
            "runs_dir": str(runs_dir),
            "runs": summary,
            "tables": [t.name for t in tables],
            "claims": claims_payload(claims) if claims else None,
            "few_shot": [str(p.relative_to(runs_dir)) for p in few_shots],
        },
    )
    failed = [f"{n}: {s}" for n, res in summary.items() for s, v in res.items() if v != "ok"]
    if failed:
        print("failed steps:\n  " + "\n  ".join(failed))
    print(f"index: {out / 'index.md'} and {out / 'index.html'}")
    return out / "index.md", failed
