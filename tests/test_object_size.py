"""Fig 4 (AP change per object size) from constructed run folders with known answers."""
from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest

from lthsteps import object_size
from lthsteps.object_size import main


def section(small=None, medium=0.5, large=0.2, keypoints=False):
    """A metrics.json section; keypoints have no AP_small (as COCO defines them)."""
    out = {"mAP": 0.3, "AP50": 0.5, "AP_medium": medium, "AP_large": large, "per_category": {}}
    return out if keypoints else out | {"AP_small": small}


def run(path, sparsity=0.0, bbox=None, segm=None, keypoints=None):
    path.mkdir(parents=True)
    (path / "metrics.json").write_text(json.dumps({"bbox": bbox, "segm": segm, "keypoints": keypoints, "voc": None}))
    (path / "train.json").write_text(json.dumps({"network": {"params": 100, "sparsity": sparsity}}))
    return path


def _cells(text):
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row] for i, row in enumerate(rows) if i != 1]


def _two_seeds(tmp_path):
    """Seed 0: small 0.40 -> 0.30 (-25%); seed 1: 0.40 -> 0.34 (-15%); medium +10% and +0%."""
    dense = [(s, run(tmp_path / f"dense{s}", bbox=section(0.40, 0.50), keypoints=section(medium=0.50, keypoints=True)))
             for s in (0, 1)]
    runs = [object_size.Run(80, 0, run(tmp_path / "p80s0", 0.80, bbox=section(0.30, 0.55),
                                       keypoints=section(medium=0.45, keypoints=True))),
            object_size.Run(80, 1, run(tmp_path / "p80s1", 0.78, bbox=section(0.34, 0.50),
                                       keypoints=section(medium=0.40, keypoints=True)))]
    return dense, runs


def test_percentage_change_per_bucket_mean_and_std_over_seeds(tmp_path):
    dense, runs = _two_seeds(tmp_path)
    frame, absent = object_size.records(*object_size.load(dense, runs))
    assert absent == []
    one = frame[(frame.task == "bbox") & (frame.bucket == "small")].set_index("seed")
    assert one.change.round(10).tolist() == [-25.0, -15.0]
    summary = object_size.table(frame)
    # keypoints has no small bucket; tasks and buckets in the paper's order
    assert list(zip(summary.task, summary.bucket)) == [("bbox", "small"), ("bbox", "medium"), ("bbox", "large"),
                                                       ("keypoints", "medium"), ("keypoints", "large")]
    rows = _cells(object_size.markdown(summary, "t"))
    assert rows[0] == ["Task", "Size", "Prune %", "Network sparsity", "Dense AP", "Ticket AP", "% change", "Seeds"]
    assert rows[1] == ["detection", "small", "80%", "79.00%", "40.00 ± 0.00", "32.00 ± 2.83", "-20.00 ± 7.07", "2"]
    assert rows[2][-2] == "5.00 ± 7.07"
    assert rows[3][-2] == "0.00 ± 0.00"
    assert rows[4][:2] == ["keypoints", "medium"] and rows[4][-2] == "-15.00 ± 7.07"


def test_a_bucket_without_ground_truth_is_left_out_and_named(tmp_path):
    dense = [(0, run(tmp_path / "d", bbox=section(0.40, large=-1.0)))]
    runs = [object_size.Run(90, 0, run(tmp_path / "t", 0.9, bbox=section(0.30, large=-1.0)))]
    frame, absent = object_size.records(*object_size.load(dense, runs))
    assert absent == ["bbox large"] and set(frame.bucket) == {"small", "medium"}
    assert "left out: bbox large." in object_size.markdown(object_size.table(frame), "t", absent)


def test_single_seed_change_is_exact(tmp_path):
    dense = [(3, run(tmp_path / "d", bbox=section(0.40)))]
    runs = [object_size.Run(50, 3, run(tmp_path / "t", 0.5, bbox=section(0.30)))]
    frame, _ = object_size.records(*object_size.load(dense, runs))
    assert frame.set_index("bucket").change["small"] == pytest.approx(-25.0, abs=1e-12)
    assert math.isnan(object_size.table(frame).change_std[0])
    assert _cells(object_size.markdown(object_size.table(frame), "t"))[1][-2] == "-25.00"


def _cli(tmp_path):
    dense, runs = _two_seeds(tmp_path / "runs")
    out = tmp_path / "out"
    args = [a for s, d in dense for a in ("--dense", f"{s}:{d}")]
    args += [a for r in runs for a in ("--run", f"{r.prune:g}:{r.seed}:{r.dir}")]
    return out, args + ["--csv", str(out / "t.csv"), "--markdown", str(out / "t.md"), "--figure", str(out / "f.png")]


def test_cli_writes_csv_markdown_and_figure(tmp_path, capsys):
    out, args = _cli(tmp_path)
    assert main(["--name", "demo", "--paper", "Fig 4", *args]) == 0
    assert (out / "t.md").read_text().startswith("### demo (analog of the paper's Fig 4)\n\n|")
    csv = pd.read_csv(out / "t.csv")
    assert len(csv) == 5 and csv.change_mean[0] == pytest.approx(-20.0)
    assert (out / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert "### demo" in capsys.readouterr().out
    assert main(["--name", "demo", "--tasks", "keypoints", *args]) == 0
    assert set(pd.read_csv(out / "t.csv").task) == {"keypoints"}


def _zero_dense(tmp_path, args):
    path = tmp_path / "runs" / "dense0" / "metrics.json"
    metrics = json.loads(path.read_text())
    metrics["bbox"]["AP_small"] = 0.0
    path.write_text(json.dumps(metrics))
    return args


def test_a_dense_ap_of_0_keeps_the_aps_and_leaves_the_change_undefined(tmp_path, capsys):
    out, args = _cli(tmp_path)
    _zero_dense(tmp_path, args)
    assert main(["--name", "zero", *args]) == 0
    csv = pd.read_csv(out / "t.csv")
    small = csv[(csv.task == "bbox") & (csv.bucket == "small")]
    assert small.dense_ap_mean.tolist() == [20.0] and small.change_mean.isna().all()  # not the mean of seed 1 alone
    assert csv[(csv.task == "bbox") & (csv.bucket == "medium")].change_mean.notna().all()
    assert "% change undefined (shown as -): bbox small." in (out / "t.md").read_text()
    assert (out / "f.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("change, message", [
    (lambda t, a: a[2:], r"runs of seed 0 have no dense run to compare with: add --dense 0:DIR"),
    (lambda t, a: ["--tasks", "segm", *a], r"has no segm results \(segm is null\): choose a task the runs have "
                                           r"\(bbox, keypoints\)"),
    (lambda t, a: ["--tasks", "mask", *a], r"unknown task 'mask'"),
    (lambda t, a: [*a, "--run", "80:x:dir"], r"SEED 'x' is not an integer"),
    (lambda t, a: [*a, "--run", "0:0:dir"], r"PRUNE 0 is not a percent in \(0, 100\)"),
    (lambda t, a: [*a, "--run", f"90:0:{t}"], r"prune 90% lacks seed\(s\) \[1\] that other runs have"),
    (lambda t, a: [*a, "--run", f"90:0:{t}", "--run", f"90:1:{t}/missing"], r"train.json does not exist"),
])
def test_cli_bad_input_is_one_error_line_and_writes_nothing(tmp_path, change, message, capsys):
    out, args = _cli(tmp_path)
    other = run(tmp_path / "other", 0.9, bbox=section(0.2), keypoints=section(keypoints=True))
    assert main(["--name", "bad", *change(other, args)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert re.search(message, err), err
    assert not out.exists()
