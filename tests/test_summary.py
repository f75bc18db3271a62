"""Tables: mean ± std over seeds per prune percent, from run folders."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from lthsteps.summary import main, markdown, run_record, summarize


def _run(tmp_path, name, mAP, voc, sparsity):
    d = tmp_path / name
    d.mkdir()
    (d / "metrics.json").write_text(json.dumps({"bbox": {"mAP": mAP, "AP50": mAP + 0.2, "AP75": mAP - 0.1},
                                                "voc": {"mAP": voc}}))
    (d / "train.json").write_text(json.dumps({"network": {"sparsity": sparsity}}))
    return d


def test_records_and_summary(tmp_path):
    runs = [(0, 0, _run(tmp_path, "d0", 0.30, 0.60, 0.0)), (0, 1, _run(tmp_path, "d1", 0.32, 0.62, 0.0)),
            (80, 0, _run(tmp_path, "t0", 0.28, 0.58, 0.70)), (80, 1, _run(tmp_path, "t1", 0.30, 0.60, 0.70))]
    records = pd.DataFrame([run_record(*r) for r in runs])
    assert records.loc[2, "network_sparsity"] == pytest.approx(70.0)
    summary = summarize(records)
    assert list(summary.prune_percent) == [0, 80]
    assert summary.loc[summary.prune_percent == 80, "bbox mAP_mean"].item() == pytest.approx(29.0)
    assert summary.loc[summary.prune_percent == 80, "bbox mAP_std"].item() == pytest.approx(1.4142, abs=1e-3)
    table = markdown(summary, "demo")
    assert "| 80%" in table and "70.00%" in table and "29.00 ± 1.41" in table and "VOC mAP" in table


def test_cli_writes_csv_markdown_and_figure(tmp_path):
    args = []
    for p, s, m in ((0, 0, 0.3), (0, 1, 0.31), (50, 0, 0.3), (50, 1, 0.29), (90, 0, 0.2), (90, 1, 0.21)):
        args += ["--run", f"{p}:{s}:{_run(tmp_path, f'r{p}_{s}', m, m + 0.3, p / 150)}"]
    out = tmp_path / "out"
    assert main(["--experiment", "x", "--paper", "Fig 2a", *args, "--csv", str(out / "x.csv"),
                 "--markdown", str(out / "x.md"), "--figure", str(out / "x.png")]) == 0
    assert pd.read_csv(out / "x.csv").shape[0] == 3
    assert (out / "x.png").read_bytes()[:4] == b"\x89PNG"


def _task_run(tmp_path, name, value, sparsity):
    d = tmp_path / name
    d.mkdir()
    task = {"mAP": value, "AP50": value + 0.2, "AP75": value - 0.1}
    (d / "metrics.json").write_text(json.dumps({"bbox": task, "segm": task, "keypoints": None, "voc": None}))
    (d / "train.json").write_text(json.dumps({"network": {"sparsity": sparsity}}))
    return d


def test_mask_rcnn_runs_give_bbox_and_segm_columns_and_a_task_grid(tmp_path):
    from lthsteps.summary import figure_metrics

    runs = [(0, 0, _task_run(tmp_path, "d", 0.3, 0.0)), (80, 0, _task_run(tmp_path, "t", 0.28, 0.7))]
    records = pd.DataFrame([run_record(*r) for r in runs])
    assert {"bbox mAP", "segm mAP", "segm AP50"} <= set(records) and "keypoints mAP" not in records
    assert "VOC mAP" not in records
    assert figure_metrics(records) == [["bbox mAP", "segm mAP"], ["bbox AP50", "segm AP50"]]
    table = markdown(summarize(records), "tasks")
    assert "segm AP50" in table and "VOC mAP" not in table
    args = [a for p, s, d in runs for a in ("--run", f"{p}:{s}:{d}")]
    assert main(["--experiment", "tasks", *args, "--csv", str(tmp_path / "t.csv"), "--markdown",
                 str(tmp_path / "t.md"), "--figure", str(tmp_path / "t.png")]) == 0
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
