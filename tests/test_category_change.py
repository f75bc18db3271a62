"""Fig 5 (AP change per category: rare vs frequent, easy vs hard) from constructed runs with known answers."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from lthsteps import category_change
from lthsteps.category_change import main
from lthsteps.object_size import Run, load

# Dense bbox AP per category; "zero" has AP 0 and "none" no ground truth (NaN): no % change defined.
DENSE = {"a": 0.5, "b": 0.5, "c": 0.4, "d": 0.1, "e": 0.1, "f": 0.2, "zero": 0.0, "none": float("nan")}
TRAIN = {"a": 5, "b": 1, "c": 3, "d": 3, "e": 9, "f": 2, "zero": 4, "none": 0}


def section(aps):
    return {"mAP": 0.3, "AP_small": 0.1, "AP_medium": 0.2, "AP_large": 0.3,
            "per_category": {n: {"AP": ap, "AP50": ap, "instances": 7} for n, ap in aps.items()}}


def run(path, aps, sparsity=0.0, segm=False):
    path.mkdir(parents=True)
    metrics = {"bbox": section(aps), "segm": section(aps) if segm else None, "keypoints": None, "voc": None}
    (path / "metrics.json").write_text(json.dumps(metrics))  # NaN written as NaN, as evaluate does
    (path / "train.json").write_text(json.dumps({"network": {"sparsity": sparsity}}))
    return path


def annotations(path):
    """A COCO file with TRAIN[name] instances per category, plus a crowd one for "b" that is not counted."""
    cats = [{"id": i + 1, "name": n} for i, n in enumerate(TRAIN)]
    anns = [{"id": 0, "category_id": c["id"], "iscrowd": 0} for c in cats for _ in range(TRAIN[c["name"]])]
    anns.append({"id": 0, "category_id": 2, "iscrowd": 1})
    path.write_text(json.dumps({"images": [], "annotations": anns, "categories": cats}))
    return path


def tickets(tmp_path):
    """Seed 0 and 1 dense alike; tickets at 80% (every AP x0.9 / x0.7) and 90% (x0.5 / x0.5)."""
    dense = [(s, run(tmp_path / f"dense{s}", DENSE)) for s in (0, 1)]
    runs = [Run(p, s, run(tmp_path / f"p{p}s{s}", {n: ap * f for n, ap in DENSE.items()}, p / 100 - 0.01))
            for p, fs in ((80, (0.9, 0.7)), (90, (0.5, 0.5))) for s, f in zip((0, 1), fs)]
    return dense, runs


def _frame(tmp_path, prunes=None, task="bbox"):
    dense, runs = tickets(tmp_path)
    return category_change.records(*load(dense, runs), task, prunes)


def _cells(text):
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row] for i, row in enumerate(rows) if i != 1]


def test_train_instances_count_non_crowd_annotations(tmp_path):
    assert category_change.train_instances(annotations(tmp_path / "ann.json")) == TRAIN


def test_frequency_sorted_by_training_instances_rarest_first(tmp_path):
    frame, left = _frame(tmp_path, [80])
    assert left == ["none", "zero"]
    summary = category_change.frequency_table(frame, TRAIN)
    assert summary.category.tolist() == ["b", "f", "c", "d", "a", "e"]  # 1, 2, 3 (c before d), 3, 5, 9
    assert summary.train_instances.tolist() == [1, 2, 3, 3, 5, 9]
    assert summary.change_mean.round(10).tolist() == [-20.0] * 6  # -10% and -30% over the seeds
    text = category_change.markdown(summary, "t", left)
    rows = _cells(text)
    assert rows[0] == ["Category", "Train instances", "Prune %", "Network sparsity", "Dense AP", "Ticket AP",
                       "% change", "Seeds"]
    assert rows[1] == ["b", "1", "80%", "79.00%", "50.00 ± 0.00", "40.00 ± 7.07", "-20.00 ± 14.14", "2"]
    assert text.endswith("left out: none, zero.\n")


def test_difficulty_top_and_bottom_k_by_dense_ap_ties_by_name(tmp_path):
    frame, _ = _frame(tmp_path)
    assert category_change.rank(frame, 2) == (["a", "b"], ["d", "e"])
    assert category_change.rank(frame, 3) == (["a", "b", "c"], ["d", "e", "f"])
    summary = category_change.difficulty_table(frame, 2)
    assert list(zip(summary.group, summary.category, summary.prune_percent)) == [
        ("easy", "a", 80), ("easy", "a", 90), ("easy", "b", 80), ("easy", "b", 90),
        ("hard", "d", 80), ("hard", "d", 90), ("hard", "e", 80), ("hard", "e", 90)]
    assert summary.change_mean.round(10).tolist() == [-20.0, -50.0] * 4
    with pytest.raises(ValueError, match=r"--top 4 needs 8 categories, the runs have 6 .* give --top from 1 to 3"):
        category_change.rank(frame, 4)


def _cli(tmp_path, by, *extra):
    dense, runs = tickets(tmp_path / "runs")
    out = tmp_path / "out"
    args = ["--by", by, "--name", "demo", *extra, *[a for s, d in dense for a in ("--dense", f"{s}:{d}")]]
    args += [a for r in runs for a in ("--run", f"{r.prune:g}:{r.seed}:{r.dir}")]
    return out, args + ["--csv", str(out / "t.csv"), "--markdown", str(out / "t.md"), "--figure", str(out / "f.png")]


@pytest.mark.parametrize("by, extra, rows", [
    ("frequency", ("--paper", "Fig 5a", "--train-ann", "ANN"), 12),
    ("difficulty", ("--paper", "Fig 5a", "--top", "1"), 4)])
def test_cli_writes_csv_markdown_and_figure(tmp_path, by, extra, rows, capsys):
    ann = str(annotations(tmp_path / "ann.json"))
    out, args = _cli(tmp_path, by, *[ann if e == "ANN" else e for e in extra])
    assert main(args) == 0
    assert (out / "t.md").read_text().startswith("### demo (analog of the paper's Fig 5a)\n\n|")
    assert len(pd.read_csv(out / "t.csv")) == rows
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


@pytest.mark.parametrize("by, change, message", [
    ("difficulty", lambda a: _drop(a, "--dense", "0:"),
     r"runs of seed 0 have no dense run to compare with: add --dense 0:DIR"),
    ("difficulty", lambda a: ["--task", "segm", *a], r"has no segm results \(segm is null\): choose a task the "
                                                     r"runs have \(bbox\)"),
    ("frequency", lambda a: ["--prunes", "70", *a], r"no run has prune 70%: give --prunes from 80, 90"),
    ("frequency", lambda a: _drop(a, "--train-ann", ""), "needs --train-ann"),
    ("frequency", lambda a: [x.replace("ann.json", "small.json") for x in a], r"category 'a' is not in --train-ann"),
    ("difficulty", lambda a: ["--top", "4", *a], r"give --top from 1 to 3"),
    ("difficulty", lambda a: ["--prunes", "8o", *a], r"--prunes '8o' is not a comma list"),
])
def test_cli_bad_input_is_one_error_line_and_writes_nothing(tmp_path, by, change, message, capsys):
    annotations(tmp_path / "ann.json")
    (tmp_path / "small.json").write_text(json.dumps({"annotations": [], "categories": [{"id": 1, "name": "b"}]}))
    out, args = _cli(tmp_path, by, "--train-ann", str(tmp_path / "ann.json"))
    assert main(change(args)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert re.search(message, err), err
    assert not out.exists()
