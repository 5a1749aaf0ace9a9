"""The sensitivity command: simulated power of the rank test, and the analysis of prepared runs (no training)."""

from __future__ import annotations

import json
from pathlib import Path

from test_report import write_grid_with_predictions

from hf_ser.study import sensitivity


def test_curve_from_prepared_runs_uses_the_rank_test_and_reports_simulated_power(tmp_path: Path) -> None:
    for shift, planted in ((0.0, 0.0), (0.5, 0.08), (1.0, 0.3)):
        write_grid_with_predictions(sensitivity.shift_dir(tmp_path, shift), shift=planted, seed=int(10 * shift))
    argv = ["--output_dir", str(tmp_path), "--analyse_only", "--n_resamples", "50", "--power_grids", "50"]
    assert sensitivity.main(argv) == 0
    result = json.loads((tmp_path / "sensitivity.json").read_text(encoding="utf-8"))
    points = {p["shift"]: p for p in result["points"]}
    assert points[1.0]["test"]["significant"] and points[1.0]["test"]["rank_sum"] == 10
    assert not points[0.0]["test"]["significant"]  # nothing planted: nothing detected
    assert result["smallest_detected_shift"] in (0.5, 1.0)
    curve = {c["effect"]: c["rate"] for c in result["power"]["curve"]}
    assert set(curve) == {0.0, 5.0, 10.0, 20.0} and curve[0.0] <= 0.1 and curve[20.0] == 1.0
    assert result["power"]["spec"]["n_utterances"] == 150  # the analysed runs' test size
    md = (tmp_path / "sensitivity.md").read_text(encoding="utf-8")
    assert "Smallest trained shift detected at 5% (configuration-level rank test)" in md
    assert "Smallest simulated effect detected with at least 80% power" in md
    assert (tmp_path / "sensitivity.png").stat().st_size > 0


def test_power_only_needs_no_runs(tmp_path: Path) -> None:
    argv = ["--output_dir", str(tmp_path), "--power_only", "--power_grids", "40", "--n_utterances", "54"]
    assert sensitivity.main(argv) == 0
    result = json.loads((tmp_path / "sensitivity.json").read_text(encoding="utf-8"))
    assert result["points"] == [] and result["power"]["spec"]["n_utterances"] == 54
