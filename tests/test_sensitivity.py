"""The sensitivity curve's analysis on prepared runs (no training): shifts, pooled test, smallest detected shift."""

from __future__ import annotations

import json
from pathlib import Path

from test_report import write_grid_with_predictions

from hf_ser import sensitivity


def test_curve_from_prepared_runs_names_the_smallest_detected_shift(tmp_path: Path) -> None:
    for shift, planted in ((0.0, 0.0), (0.5, 0.08), (1.0, 0.3)):
        write_grid_with_predictions(sensitivity.shift_dir(tmp_path, shift), shift=planted, seed=int(10 * shift))
    code = sensitivity.main(["--output_dir", str(tmp_path), "--analyse_only", "--n_resamples", "400"])
    assert code == 0
    result = json.loads((tmp_path / "sensitivity.json").read_text(encoding="utf-8"))
    points = {p["shift"]: p for p in result["points"]}
    assert points[1.0]["n_significant_positive"] == 10 and points[1.0]["pooled"]["all"]["significant"]
    null = points[0.0]["pooled"]["all"]
    assert not (null["significant"] and null["margin"] > 0)  # nothing planted: no lineage effect detected
    assert result["smallest_detected_shift"] in (0.5, 1.0)
    assert result["smallest_shift_all_languages_significant"] == 1.0
    assert (tmp_path / "sensitivity.png").stat().st_size > 0
    assert "Smallest shift detected at 5%" in (tmp_path / "sensitivity.md").read_text(encoding="utf-8")
