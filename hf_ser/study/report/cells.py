"""The data of a results table: a `UAR / F1` :class:`Cell` and a :class:`Table` of rows of cells."""

from __future__ import annotations

from dataclasses import dataclass, field

PAPER_PREFIX = "Paper: "
NOT_EVALUATED = "//"


@dataclass(frozen=True)
class Cell:
    """One `UAR / F1` cell in percent; the std fields are set when it averages several seeds."""

    uar: float
    f1: float
    uar_std: float | None = None
    f1_std: float | None = None
    n_seeds: int = 1
    wa: float | None = field(default=None, compare=False)
    uar_ci: tuple[float, float] | None = field(default=None, compare=False)
    f1_ci: tuple[float, float] | None = field(default=None, compare=False)
    wa_ci: tuple[float, float] | None = field(default=None, compare=False)
    n: int | None = field(default=None, compare=False)

    def __str__(self) -> str:
        """The cell as printed: `UAR / F1`, each with `±std` when it averages several seeds."""
        if self.n_seeds > 1 and self.uar_std is not None and self.f1_std is not None:
            return f"{self.uar:.1f}±{self.uar_std:.1f} / {self.f1:.1f}±{self.f1_std:.1f}"
        return f"{self.uar:.1f} / {self.f1:.1f}"

    def text(self, ci: bool = False) -> str:
        """The cell as printed; with `ci`, each value followed by its 95% CI, e.g. `58.4 [55.0, 61.9] / ...`."""
        if not ci or self.uar_ci is None or self.f1_ci is None:
            return str(self)
        return (
            f"{self.uar:.1f} [{self.uar_ci[0]:.1f}, {self.uar_ci[1]:.1f}] / "
            f"{self.f1:.1f} [{self.f1_ci[0]:.1f}, {self.f1_ci[1]:.1f}]"
        )

    def as_dict(self) -> dict:
        """JSON form (percent): values, stds, CIs, seeds, test size."""
        return {
            "uar": self.uar,
            "f1": self.f1,
            "wa": self.wa,
            "uar_std": self.uar_std,
            "f1_std": self.f1_std,
            "uar_ci": list(self.uar_ci) if self.uar_ci else None,
            "f1_ci": list(self.f1_ci) if self.f1_ci else None,
            "wa_ci": list(self.wa_ci) if self.wa_ci else None,
            "n_seeds": self.n_seeds,
            "n": self.n,
        }


@dataclass
class Table:
    """A results table: a title, language columns and rows of (train-set label, cells)."""

    title: str
    columns: list[str]
    rows: list[tuple[str, list[Cell | None]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rule_before: list[int] = field(default_factory=list)  # row indices preceded by a rule (paper rows)
    name: str = "table"
    provenance: str = ""  # what produced the rows (corpus, backbone, epochs, seeds, split, shift); see provenance()

    @property
    def caption(self) -> str:
        """Title followed by the notes (seeds, `//`, provenance of paper rows) and the runs' provenance."""
        return " ".join(filter(None, [self.title, *self.notes, self.provenance]))
