"""Tables 2 and 3 built from the runs: rows per configuration, their notes (seeds, split, selection), paper rows."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from hf_ser import labels
from hf_ser.metrics import F1_DEFINITION
from hf_ser.study import paper_results
from hf_ser.study.report.cells import NOT_EVALUATED, PAPER_PREFIX, Cell, Table
from hf_ser.study.report.runs import report_groups
from hf_ser.study.report.seeds import (
    _Experiment,
    _experiments,
    _fold,
    _paper_order,
    _sort_key_language,
    _train_label,
)
from hf_ser.study.stats import DEFAULT_RESAMPLES

# One logger for the whole package, named as before the split: log lines read "hf_ser.study.report: ...".
logger = logging.getLogger("hf_ser.study.report")

TABLE2_TITLE = "Table 2. UAR / F1 of single-language and multilingual models (%, higher is better)."
TABLE3_TITLE = "Table 3. UAR / F1 cross-lingual generalization across unseen languages (%, higher is better)."
F1_NOTE = f"F1 = {F1_DEFINITION}."


def _seed_note(experiments: list[_Experiment], cells_used: list[Cell]) -> str:
    """How many seeds (or seeds x folds) each cell averages, naming the seeds; '' without cells."""
    counts = sorted({c.n_seeds for c in cells_used})
    seeds = sorted({s for e in experiments for s in e.seeds if s is not None})
    named = f" ({', '.join(str(s) for s in seeds)})" if seeds else ""
    if not counts:
        return ""
    folds = sorted({f for e in experiments for r in e.runs if (f := _fold(r)) is not None})
    if folds and counts != [1]:
        return (
            f"Mean ± std over {counts[0] if len(counts) == 1 else f'{counts[0]}–{counts[-1]}'} runs per cell "
            f"(seeds{named} x folds {', '.join(map(str, folds))})."
        )
    if counts == [1]:
        return f"One seed per cell{named}."
    if len(counts) == 1:
        return f"Mean ± std over {counts[0]} seeds{named}."
    return f"Mean ± std over {counts[0]}–{counts[-1]} seeds per cell{named}; plain values come from one seed."


def _split_note(experiments: list[_Experiment]) -> str:
    """Empty for the paper protocol; otherwise which protocol, and the languages that fell back from it."""
    runs = [r for e in experiments for r in e.runs]
    protocols = sorted({str(((r.get("config") or {}).get("data") or {}).get("split", "paper")) for r in runs})
    if protocols in ([], ["paper"]):
        return ""
    if protocols != ["speaker"]:
        return f"Runs mix split protocols ({', '.join(protocols)}): cells may not compare like with like."
    fell_back: dict[str, str] = {}
    for r in runs:
        for lang, note in (r.get("split_notes") or {}).items():
            if note and "fell back" in note:
                fell_back[lang] = note
    text = "Speaker-independent split (no speaker in both train and test)."
    if fell_back:
        text += (
            " Paper-protocol fallback: "
            + "; ".join(f"{lang} ({fell_back[lang]})" for lang in _paper_order(fell_back))
            + "."
        )
    return text


def _selection_note(experiments: list[_Experiment]) -> str:
    """Which model-selection protocol produced the numbers, from the records' ``protocol`` (empty for the paper's)."""
    runs = [r for e in experiments for r in e.runs]
    kinds = sorted({str((r.get("protocol") or {}).get("model_selection") or "last epoch") for r in runs})
    if kinds in ([], ["last epoch"]):
        return ""
    if len(kinds) == 1:
        return f"Model selection: {kinds[0]}."
    return f"Runs mix model-selection protocols ({'; '.join(kinds)}): cells may not compare like with like."


def _finish(table: Table, experiments: list[_Experiment]) -> Table:
    """Set the table's notes (seeds, split, model selection, F1 definition, `//`) from the runs used; returns it."""
    cells = [c for _, row in table.rows for c in row if c is not None]
    notes = (
        _seed_note(experiments, cells),
        _split_note(experiments),
        _selection_note(experiments),
        F1_NOTE,
        f"{NOT_EVALUATED} = not evaluated.",
    )
    table.notes = [n for n in notes if n]
    return table


def _row(exp: _Experiment, columns: list[str], shown: Sequence[str], n_resamples: int) -> list[Cell | None]:
    """The row's cells: `exp`'s cell for each shown language, None (`//`) elsewhere."""
    wanted = set(shown)
    return [exp.cell(lang, n_resamples) if lang in wanted else None for lang in columns]


def _add_paper_rows(table: Table, paper_rows: list[tuple[str, dict[str, tuple[float, float]]]], source: str) -> None:
    """Append the paper's published rows after a rule, labelled with PAPER_PREFIX, and say where they come from."""
    table.rule_before.append(len(table.rows))
    for label, cells in paper_rows:
        row = [Cell(*cells[lang]) if lang in cells else None for lang in table.columns]
        table.rows.append((PAPER_PREFIX + label, row))
    table.notes.append(f"Rows prefixed '{PAPER_PREFIX.strip()}' are the published numbers of {source}.")


def table_columns(runs: list[dict]) -> list[str]:
    """The languages a table shows, in the language table's order: the study's languages always (as the paper's
    tables do) and any other language only when a run trained or was tested on it, so the languages added for
    other corpora do not add empty columns to a paper grid's tables. A grid over lineages (germanic vs slavic)
    shows only its own languages."""
    used = {lang for run in runs for key in ("train_languages", "eval_languages") for lang in run.get(key) or ()}
    study = set(labels.study_languages()) if report_groups(runs) == labels.groups() else set()
    return [code for code in labels.LANGUAGES if code in study or code in used]


def table2(runs: list[dict], paper: bool = False, n_resamples: int = DEFAULT_RESAMPLES) -> Table:
    """Table 2: `Individual` (single-language runs), one row per group, `All`; optional paper rows."""
    columns = table_columns(runs)
    table = Table(TABLE2_TITLE, columns, name="table2")
    used: list[_Experiment] = []

    singles = _experiments(runs, "single_language")
    for variant in sorted({exp.variant for exp in singles}, key=lambda v: v or ""):  # one row per backbone/variant
        individual: list[Cell | None] = [None] * len(columns)
        for exp in (e for e in singles if e.variant == variant):
            if len(exp.train) != 1:
                logger.warning(
                    "single_language run %s trains on %s: not one language, left out", exp.runs[0]["run"], exp.label
                )
                continue
            lang = exp.train[0]
            if lang in columns and (cell := exp.cell(lang, n_resamples)) is not None:
                individual[columns.index(lang)] = cell
                used.append(exp)
        if any(c is not None for c in individual):
            table.rows.append(("Individual" + (f" [{variant}]" if variant else ""), individual))

    multi = _experiments(runs, "multilingual")
    placed: set[int] = set()
    for group, members in report_groups(runs).items():
        # Its group field names it (recipes run on a subset of languages keep the group) or it trains on exactly it.
        matches = [
            i for i, e in enumerate(multi) if e.group == group or (e.group != "all" and set(e.train) == set(members))
        ]
        if not matches:
            continue
        placed.update(matches)
        variants = [multi[i].variant for i in matches]
        if len(matches) > 1 and len(set(variants)) < len(variants):
            logger.warning("several multilingual configurations train on %s; using the first", group)
            matches = matches[:1]
        for i in matches:  # one row per balancing-ablation variant, or the one configuration
            exp = multi[i]
            title = labels.group_title(group) + (f" [{exp.variant}]" if exp.variant else "")
            table.rows.append((title, _row(exp, columns, members, n_resamples)))
            used.append(exp)
    everything = set(columns)
    all_idx = [i for i, e in enumerate(multi) if e.group == "all" or set(e.train) == everything]
    all_idx = [i for i in all_idx if i not in placed]
    if all_idx:
        placed.update(all_idx)
        all_variants = [multi[i].variant for i in all_idx]
        for i in all_idx if len(set(all_variants)) == len(all_variants) else all_idx[:1]:
            exp = multi[i]
            table.rows.append(
                ("All" + (f" [{exp.variant}]" if exp.variant else ""), _row(exp, columns, columns, n_resamples))
            )
            used.append(exp)
    for i, exp in enumerate(multi):  # user-defined language sets: keep them, labelled by their languages
        if i not in placed:
            table.rows.append((exp.label, _row(exp, columns, columns, n_resamples)))
            used.append(exp)

    for name, exp in _external_models(runs):  # existing models scored without training, one row each
        table.rows.append((f"{_external_row_kind(exp)}: {name}", _row(exp, columns, columns, n_resamples)))
        used.append(exp)

    table = _finish(table, used)
    if paper:
        _add_paper_rows(table, list(paper_results.TABLE2.items()), paper_results.TABLE2_SOURCE)
    return table


def _external_models(runs: list[dict]) -> list[tuple[str, _Experiment]]:
    """(model name, its evaluations) of every `external` record (hf_ser.infer.evaluate), one per model in name order."""
    by_name: dict[str, _Experiment] = {}
    for run in runs:
        if run["family"] == "external":
            name = str(run.get("name") or run["run"])
            by_name.setdefault(name, _Experiment("external", None, (), None, [])).runs.append(run)
    return sorted(by_name.items())


def _external_row_kind(exp: _Experiment) -> str:
    """How an evaluated model's row is labelled, from its records' ``protocol.zero_shot`` (hf_ser.infer.evaluate):
    'zero-shot' only for a model known not to be trained on any tested language."""
    flags = {(run.get("protocol") or {}).get("zero_shot") for run in exp.runs}
    if flags == {True}:
        return "External model, zero-shot"
    if False in flags:
        return "Existing model, trained on a tested language, scored as is"
    return "Existing model (training languages unknown), scored as is"


def _own_group(exp: _Experiment, groups: dict[str, list[str]]) -> str | None:
    """The group of `groups` a cross_group configuration's held-out language belongs to (else the
    configuration's group)."""
    for name, members in groups.items():
        if exp.heldout in members:
            return name
    return exp.group


def table3(runs: list[dict], paper: bool = False, n_resamples: int = DEFAULT_RESAMPLES) -> Table:
    """Table 3: one row per cross_group configuration (held-out language + the other groups)."""
    columns = table_columns(runs)
    table = Table(TABLE3_TITLE, columns, name="table3")
    groups = report_groups(runs)
    group_order = list(groups)
    experiments = _experiments(runs, "cross_group")

    def order(exp: _Experiment) -> tuple:
        """Table 3's row order: own group in the paper's order, then held-out language, then label."""
        group = _own_group(exp, groups)
        g = group_order.index(group) if group in group_order else len(group_order)
        return (g, _sort_key_language(exp.heldout) if exp.heldout else (len(columns) + 1, ""), exp.label)

    experiments.sort(key=order)
    for exp in experiments:
        own = _own_group(exp, groups)
        others = {c for name, members in groups.items() if name != own for c in members}
        shown = [c for c in columns if c == exp.heldout or c in others]
        table.rows.append((exp.label, _row(exp, columns, shown, n_resamples)))
    table = _finish(table, experiments)
    if paper:
        rows = [(_train_label(train), cells) for train, cells in paper_results.TABLE3.items()]
        _add_paper_rows(table, rows, paper_results.TABLE3_SOURCE)
    return table
