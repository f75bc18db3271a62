"""lthsteps.error_comparison: dense model vs ticket by TIDE error type (Figs 7-8) and keypoint error type
(Fig 9), from constructed per-run error files."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from lthsteps import error_comparison, paths
from lthsteps.error_comparison import main
from lthsteps.object_size import Run

FIXES = ("miss", "swap", "inversion", "jitter", "background_fp", "false_negatives")


def tide_json(ap50: float, loc: float) -> dict:
    main_errors = {"Cls": 1.0, "Loc": loc, "Both": 0.5, "Dupe": 0.25, "Bkg": 2.0, "Miss": 3.0}
    return {"AP50": ap50, "main_errors": main_errors, "special_errors": {"FalsePos": 4.0, "FalseNeg": 5.0},
            "main_error_share": {k: v / sum(main_errors.values()) for k, v in main_errors.items()}}


def keypoint_json(good: float, ap: float) -> dict:
    percents = {"good": good, "jitter": 10.0, "inversion": 5.0, "swap": 5.0, "miss": 80.0 - good}
    rows = [{"mode": "original", "fix": "none", "AP": ap, "AP50": ap + 0.1}]
    rows += [{"mode": "individual", "fix": f, "AP": ap + 0.01 * (i + 1), "AP50": 0.9} for i, f in enumerate(FIXES)]
    rows += [{"mode": "cumulative", "fix": f, "AP": 0.99, "AP50": 0.99} for f in FIXES]
    return {"counts": [{"error": e, "count": int(p), "percent": p} for e, p in percents.items()], "ap": rows,
            "totals": {"background_fp": 7, "false_negatives": 3}}


def pr_csv(path: Path, precision: float) -> None:
    rows = [{"mode": m, "fix": f, "oks": oks, "recall": r / 100, "precision": precision if r < 50 else -1}
            for m, f in [("original", "none"), *[("individual", f) for f in FIXES], ("cumulative", "jitter")]
            for oks in ("0.5", "0.50:0.95") for r in range(0, 101, 10)]
    pd.DataFrame(rows).to_csv(path, index=False)


def write_runs(root: Path, analysis: str, seeds=(0, 1)) -> tuple[list[tuple[int, Path]], list[Run]]:
    """Dense and 80% ticket run folders per seed with their error files (and the ticket's train.json)."""
    dense, runs = [], []
    for seed in seeds:
        for prune in (0, 80):
            folder = root / f"seed{seed}" / ("dense" if prune == 0 else "p80")
            (folder / "errors").mkdir(parents=True)
            if prune:
                (folder / "train.json").write_text(json.dumps({"network": {"sparsity": 0.75 + 0.01 * seed}}))
            if analysis == "tide":
                data = tide_json(50.0 - prune / 10 + seed, 4.0 + prune / 40 + seed)
                Path(paths.tide_errors(str(folder), "bbox")).write_text(json.dumps(data))
            else:
                data = keypoint_json(60.0 - prune / 10 + seed, 0.5 - prune / 1000)
                Path(paths.keypoint_errors(str(folder))).write_text(json.dumps(data))
                pr_csv(Path(paths.keypoint_pr(str(folder))), 0.9 - prune / 1000)
            (runs.append(Run(80.0, seed, folder)) if prune else dense.append((seed, folder)))
    return dense, runs


def test_tide_table_is_mean_and_std_over_seeds_per_error_type(tmp_path):
    dense, runs = write_runs(tmp_path, "tide")
    frame = error_comparison.load("tide", dense, runs, "bbox")
    summary = error_comparison.table(frame)
    assert list(summary.measure.unique()) == ["AP50", "Cls", "Loc", "Both", "Dupe", "Bkg", "Miss", "FalsePos",
                                              "FalseNeg"]
    loc = summary[summary.measure == "Loc"].set_index("prune_percent")
    assert loc.value_mean.to_dict() == {0.0: 4.5, 80.0: 6.5}  # seeds 0 and 1: 4 + s, 6 + s
    assert loc.value_std[80.0] == pytest.approx(2 ** -0.5)
    assert loc.seeds.tolist() == [2, 2]
    assert loc.network_sparsity_mean.tolist() == pytest.approx([0.0, 75.5])
    text = error_comparison.markdown(summary, "demo", "tide")
    assert "| Group " in text and "| Dense " in text and "80% ticket (75.5% sparse)" in text
    assert re.search(r"\| main error dAP +\| Loc +\| 4\.50 ± 0\.71 +\| 6\.50 ± 0\.71 +\|", text), text


def test_tide_error_types_are_those_tide_errors_writes():
    from lthsteps import tide_errors

    assert error_comparison.TIDE_MAIN == tuple(tide_errors.MAIN_ERRORS)
    assert error_comparison.TIDE_SPECIAL == tuple(tide_errors.SPECIAL_ERRORS)


def test_keypoint_table_has_error_percents_ap_per_fix_and_counts(tmp_path):
    dense, runs = write_runs(tmp_path, "keypoint_errors", seeds=(0,))
    summary = error_comparison.table(error_comparison.load("keypoint_errors", dense, runs))
    cells = summary.set_index(["measure", "prune_percent"]).value_mean
    assert cells[("Good", 0.0)] == 60.0 and cells[("Good", 80.0)] == 52.0 and cells[("Miss", 80.0)] == 28.0
    assert cells[("original", 0.0)] == pytest.approx(50.0) and cells[("original", 80.0)] == pytest.approx(42.0)
    assert cells[("Swap fixed", 0.0)] == pytest.approx(52.0)  # individual fix, not the cumulative 99
    assert cells[("background FPs", 80.0)] == 7 and cells[("false negatives", 0.0)] == 3
    assert summary.value_std.isna().all()  # one seed: no std
    assert list(summary.group.unique()) == ["keypoints (%)", "AP with the error fixed (%)", "count"]
    # COCOeval's -1 (nothing left to evaluate) is no AP, not -100%
    errors = keypoint_json(60.0, 0.5)
    errors["ap"][-7]["AP"] = -1.0  # individual false_negatives
    values = {m: v for _, m, v in error_comparison.keypoint_values(errors, Path("x.json"))}
    assert values["false negatives ignored"] != values["false negatives ignored"] and values["original"] == 50.0
    pr = error_comparison.read_pr(dense, runs)
    assert set(pr.fix) == {"none", *FIXES} and set(pr.oks) == {"0.5"} and pr.precision.isna().sum() > 0


@pytest.mark.parametrize("analysis, rows", [("tide", 18), ("keypoint_errors", 28)])
def test_cli_writes_csv_markdown_and_figure(tmp_path, analysis, rows, capsys):
    dense, runs = write_runs(tmp_path / "runs", analysis)
    out = tmp_path / "out"
    args = [analysis, "--name", "demo", "--paper", "Fig 7", *[a for s, d in dense for a in ("--dense", f"{s}:{d}")],
            *[a for r in runs for a in ("--run", f"80:{r.seed}:{r.dir}")],
            "--csv", str(out / "t.csv"), "--markdown", str(out / "t.md"), "--figure", str(out / "f.png")]
    assert main(args) == 0
    assert (out / "t.md").read_text().startswith("### demo (analog of the paper's Fig 7)\n\n|")
    csv = pd.read_csv(out / "t.csv")
    assert len(csv) == rows and list(csv.columns[:4]) == ["group", "measure", "prune_percent", "seeds"]
    assert (out / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert "### demo" in capsys.readouterr().out


def _drop(args, option, prefix):
    """``args`` without ``option VALUE`` where VALUE starts with ``prefix``."""
    out = []
    for x in args:
        if out and out[-1] == option and x.startswith(prefix):
            out.pop()
        else:
            out.append(x)
    return out


@pytest.mark.parametrize("change, message", [
    (lambda a: _drop(a, "--dense", "1:"), r"runs of seed 1 have no dense run to compare with: add --dense 1:DIR"),
    (lambda a: _drop(a, "--run", "80:"), r"no --run given"),
    (lambda a: [*a, "--run", a[a.index("--run") + 1]], r"two runs for value ticket, prune 80%, seed 0"),
    (lambda a: ["--task", "segm", *a], r"tide_segm\.json does not exist"),
    (lambda a: [x.replace("80:", "8o:") for x in a], r"PRUNE '8o' is not a number"),
    (lambda a: ["BREAK", *a], r"is not a lthsteps\.tide_errors output"),
])
def test_cli_bad_input_is_one_error_line_and_writes_nothing(tmp_path, change, message, capsys):
    dense, runs = write_runs(tmp_path / "runs", "tide")
    out = tmp_path / "out"
    args = ["tide", "--name", "demo", *[a for s, d in dense for a in ("--dense", f"{s}:{d}")],
            *[a for r in runs for a in ("--run", f"80:{r.seed}:{r.dir}")]]
    args = change(args)
    if args[0] == "BREAK":
        args = args[1:]
        Path(paths.tide_errors(str(dense[0][1]), "bbox")).write_text(json.dumps({"AP50": 1.0}))
    assert main([*args, "--csv", str(out / "t.csv"), "--markdown", str(out / "t.md"),
                 "--figure", str(out / "f.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert re.search(message, err), err
    assert not out.exists()
