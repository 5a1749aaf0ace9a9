"""The standard protocols' plans: IEMOCAP leave-one-session-out (five folds, one session tested in each) and EmoBox's
benchmark (every corpus present with EmoBox folds, one pass per corpus and fold; the others skipped with why)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import datasets
import pytest
from emobox_fixtures import make_emodb, make_iemocap, make_ravdess

from hf_ser.data.corpora.iemocap import LOADER as IEMOCAP
from hf_ser.data.dataset import DataArguments
from hf_ser.errors import UserError
from hf_ser.experiments.recipe.arguments import SERArguments
from hf_ser.experiments.recipe.benchmark import (
    CORPORA_FILE,
    benchmark_corpora,
    benchmark_passes,
    corpus_languages,
    resolve_benchmark,
)
from hf_ser.experiments.recipe.parse import parse_recipe
from hf_ser.experiments.recipe.passes import grid_passes
from hf_ser.experiments.recipe.plan import plan_grid
from hf_ser.labels import EMOTIONS

# the recipe key `label_set` comes with the label-set work of issue 26; recipes that use it parse once it exists
HAS_LABEL_SET = any("label_set" in {f.name for f in dataclasses.fields(c)} for c in (DataArguments, SERArguments))
needs_label_set = pytest.mark.skipif(not HAS_LABEL_SET, reason="the recipe key label_set does not exist yet")


def iemocap_dataset(data_root: Path) -> datasets.Dataset:
    """The IEMOCAP fixture's turns whose label maps into the six classes, as prepared rows (no audio read)."""
    planted = make_iemocap(data_root)
    items = [i for i in IEMOCAP.scan(planted.root).items if IEMOCAP.label_map.get(i.label)]
    return datasets.Dataset.from_dict(
        {
            "path": [i.path for i in items],
            "label": [EMOTIONS.index(IEMOCAP.label_map[i.label]) for i in items],
            "language": [i.language for i in items],
            "corpus": [i.corpus for i in items],
            "speaker": [i.speaker for i in items],
            "length": [4800] * len(items),
        }
    )


def test_leave_one_session_out_plans_five_folds_each_testing_one_session(tmp_path):
    ds = iemocap_dataset(tmp_path / "data")
    recipe_file = tmp_path / "loso.yaml"  # iemocap_4class.yaml without its label_set
    recipe_file.write_text(
        "experiment: single_language\nlanguages: [ENG]\ncorpora: [iemocap]\nsplit: session\nfolds: 5\nfold: 0\n"
    )
    recipe = parse_recipe([str(recipe_file), "--output_dir", str(tmp_path / "runs"), "--data_root", str(tmp_path)])
    passes = grid_passes(recipe.ser, recipe.data, recipe.training.output_dir)
    assert [Path(p[3]).name for p in passes] == [f"fold{k}" for k in range(1, 6)]
    for k, (_, ser, data, out) in enumerate(passes, 1):
        training = dataclasses.replace(recipe.training, output_dir=out)
        grid = plan_grid(dataclasses.replace(recipe, ser=ser, data=data, training=training), (ds, {}))
        (run,) = grid.runs
        test_sessions = {s[:5] for s in run.test["speaker"]}
        assert test_sessions == {f"Ses0{k}"}
        assert f"Ses0{k}" not in {s[:5] for s in run.train["speaker"]}
        assert "leave-one-session-out" in grid.notes["ENG"]
        assert run.folder == Path(out) / "single-ENG-seed0"


@needs_label_set
def test_iemocap_4class_recipe():
    recipe = parse_recipe(["iemocap_4class"])
    assert recipe.data.split == "session" and recipe.data.folds == 5 and recipe.data.fold == 0
    assert recipe.data.corpora == ["iemocap"]
    assert len(grid_passes(recipe.ser, recipe.data, recipe.training.output_dir)) == 5


@needs_label_set
def test_benchmark_recipe():
    recipe = parse_recipe(["benchmark", "--emobox_dir", "EmoBox"])
    assert recipe.data.split == "emobox" and recipe.data.fold == 0 and recipe.ser.groups == ["all"]


def write_emobox(emobox: Path, dataset: str, folds: int) -> None:
    """An EmoBox dataset folder with `folds` folds (one row each side) and a label map."""
    folder = emobox / "data" / dataset
    folder.mkdir(parents=True)
    (folder / "label_map.json").write_text(json.dumps({"neu": "Neutral"}))
    for k in range(1, folds + 1):
        (folder / f"fold_{k}").mkdir()
        for part in ("train", "test"):
            row = {"key": f"{part}{k}", "wav": f"downloads/{dataset}/{part}{k}.wav", "emo": "neu"}
            (folder / f"fold_{k}" / f"{dataset}_{part}_fold_{k}.jsonl").write_text(json.dumps(row) + "\n")


def test_benchmark_runs_every_corpus_present_with_emobox_folds(tmp_path):
    data_root, emobox, out = tmp_path / "data", tmp_path / "EmoBox", tmp_path / "runs"
    make_iemocap(data_root)
    make_ravdess(data_root)
    make_emodb(data_root)  # present, but this EmoBox clone lacks its folds
    write_emobox(emobox, "iemocap", 5)
    write_emobox(emobox, "ravdess", 6)
    write_emobox(emobox, "tess", 1)  # folds, but no corpus folder
    args = DataArguments(data_root=str(data_root), split="emobox", fold=0, emobox_dir=str(emobox))
    found = benchmark_corpora(args)
    assert found.found == {"iemocap": ("iemocap", [1, 2, 3, 4, 5]), "ravdess": ("ravdess", [1, 2, 3, 4, 5, 6])}
    assert found.skipped["emodb"].startswith("no EmoBox fold files for emodb")
    assert found.skipped["tess"].startswith("not present")
    resolved = resolve_benchmark(args, str(out))
    assert resolved.corpora == ["iemocap", "ravdess"]
    written = json.loads((out / CORPORA_FILE).read_text())
    assert set(written["found"]) == {"iemocap", "ravdess"} and "emodb" in written["skipped"]
    ds = datasets.Dataset.from_dict({"corpus": ["iemocap", "ravdess", "esd", "esd"], "language": ["ENG"] * 3 + ["CMN"]})
    assert corpus_languages(ds) == {"esd": ["CMN", "ENG"], "iemocap": ["ENG"], "ravdess": ["ENG"]}
    ser = SERArguments(experiment="multilingual", groups=["all"])
    passes = benchmark_passes(ser, resolved, str(out), {"iemocap": ["ENG"], "ravdess": ["ENG"]})
    assert len(passes) == 11
    assert [Path(d).relative_to(out).as_posix() for _, _, d in passes[:2]] == ["iemocap/fold1", "iemocap/fold2"]
    for s, d, _ in passes:
        assert len(d.corpora) == 1 and 1 <= d.fold and s.languages == ["ENG"]
    via_grid = grid_passes(ser, resolved, str(out), {"iemocap": ["ENG"], "ravdess": ["ENG"]})
    assert [p[3] for p in via_grid] == [d for _, _, d in passes]


def test_benchmark_with_nothing_found_says_why(tmp_path):
    args = DataArguments(data_root=str(tmp_path / "data"), split="emobox", fold=0, emobox_dir=str(tmp_path / "EB"))
    with pytest.raises(UserError, match="no corpus with EmoBox folds is present"):
        resolve_benchmark(args, str(tmp_path / "runs"))
    unchanged = DataArguments(split="emobox", fold=2, emobox_dir="x")
    assert resolve_benchmark(unchanged, str(tmp_path / "runs")) is unchanged
    assert not (tmp_path / "runs").exists()
