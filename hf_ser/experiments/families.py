"""The paper's three experiment families as lists of runs (which languages train, which evaluate).

Groups come from the language table (labels.LANGUAGES), so a user-added group gets its
multilingual and leave-one-out runs with no code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from hf_ser.errors import UserError
from hf_ser.labels import LANGUAGES, groups, resolve_groups

EXPERIMENTS = ("single_language", "multilingual", "cross_group", "paper", "transfer")  # what a recipe can plan


@dataclass(frozen=True)
class Run:
    """One training: its name, family, training and evaluation languages."""

    name: str
    family: str
    train_languages: tuple[str, ...]
    eval_languages: tuple[str, ...]
    group: str
    heldout_language: str | None = None
    seed: int = 0
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def dirname(self) -> str:
        """Folder of the run under the output dir."""
        return f"{self.name}-seed{self.seed}"

    def to_dict(self) -> dict:
        """JSON-ready description."""
        d = asdict(self)
        d["train_languages"], d["eval_languages"] = list(self.train_languages), list(self.eval_languages)
        d.pop("extra")
        return d


def single_language_runs(languages: list[str]) -> list[Run]:
    """One model per language, trained and tested on it (Table 2 'Individual')."""
    return [Run(f"single-{l}", "single_language", (l,), (l,), LANGUAGES[l].group) for l in languages]


def group_table(group_names: list[str] | None) -> dict[str, list[str]]:
    """Group name -> languages for the groups a recipe names ('all' aside): the paper's split by default, else each
    name resolved as a paper group or a lineage (germanic, slavic, ...; labels.resolve_groups, one-line error for
    an unknown or overlapping one)."""
    named = [g for g in group_names or [] if g != "all"]
    return resolve_groups(named) if named else groups()


def named_group_languages(experiment: str, group_names: list[str] | None) -> list[str] | None:
    """The languages a grid over named groups involves when no --languages is given: for multilingual groups
    (without 'all') and for any grid over a lineage (germanic, slavic, ...), their members; None where the paper's
    whole split is meant (the default, 'all', or cross_group over paper groups, whose held-out languages are tested
    against the other paper group)."""
    named = [g for g in group_names or [] if g != "all"]
    if experiment not in ("multilingual", "cross_group") or not named or len(named) < len(group_names or []):
        return None  # no groups named, or 'all' among them: the whole split
    table = group_table(named)
    if experiment == "cross_group" and set(table) <= set(groups()):
        return None
    return [l for ls in table.values() for l in ls]


def multilingual_runs(group_names: list[str], languages: list[str]) -> list[Run]:
    """One model per group (or 'all'), evaluated on every language it was trained on (Table 2 rows)."""
    table = group_table(group_names)
    runs = []
    for g in [n if n == "all" else n.strip().lower().replace("-", "_") for n in group_names]:
        if g != "all" and g not in table:
            raise UserError(f"unknown group {g!r}; known: {', '.join(table)}, all")
        langs = tuple(l for l in (languages if g == "all" else table[g]) if l in languages)
        if langs:
            runs.append(Run(f"multi-{g}", "multilingual", langs, langs, g))
    return runs


def cross_group_runs(group_names: list[str], languages: list[str]) -> list[Run]:
    """Leave one language out per group; evaluate on it and on every language of the other named groups (Table 3;
    the paper's split unless lineages such as germanic and slavic are named)."""
    table = group_table(group_names)
    pool = groups() if set(table) <= set(groups()) else table  # paper groups test on the whole split, as before
    runs = []
    for g in table:
        members = [l for l in table[g] if l in languages]
        others = [l for og, ls in pool.items() if og != g for l in ls if l in languages]
        for held in members:
            train = tuple(l for l in members if l != held)
            if train:
                runs.append(Run(f"xgroup-{g}-minus-{held}", "cross_group", train, (held, *others), g, held))
    return runs


def transfer_runs(languages: list[str]) -> list[Run]:
    """One source model per language, scored on every language's test split (the transfer matrix's rows)."""
    return [Run(f"transfer-{l}", "transfer", (l,), tuple(languages), LANGUAGES[l].group) for l in languages]


def corpus_transfer_runs(runs: list[Run], corpora: dict[str, list[str]]) -> list[Run]:
    """``--unit corpus``: each language-level transfer run split into one source model per corpus of its language
    (`corpora` maps a language to its corpora in the data); the corpus is in the run's name, so in its identity."""
    out = []
    for r in runs:
        for c in corpora.get(r.train_languages[0], []):
            out.append(replace(r, name=f"transfer-{c}", extra={"train_corpus": c}))
    return out


def plan_runs(family: str, languages: list[str], group_names: list[str] | None = None, seeds: int = 1) -> list[Run]:
    """Runs of an experiment family over the given languages, repeated for seeds 0..seeds-1."""
    if family not in EXPERIMENTS:
        raise UserError(f"unknown experiment family {family!r}; known: {', '.join(EXPERIMENTS)}")
    gnames = group_names or list(groups())
    if family == "single_language":
        runs = single_language_runs(languages)
    elif family == "multilingual":
        runs = multilingual_runs(gnames, languages)
    elif family == "cross_group":
        runs = cross_group_runs([g for g in gnames if g != "all"], languages)
    elif family == "transfer":
        runs = transfer_runs(languages)
    else:
        grp = [g for g in groups()]
        runs = (
            single_language_runs(languages)
            + multilingual_runs(grp + ["all"], languages)
            + cross_group_runs(grp, languages)
        )
    return [replace(r, seed=s) for s in range(seeds) for r in runs]
