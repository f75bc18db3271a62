"""Table 5: direct and transferred tickets per target task, averaged over seeds."""
from __future__ import annotations

import json

import pytest

from lthsteps.task_transfer_table import main, model_task, run_rows, transfer_table


def _run(tmp_path, name, sparsity, bbox, segm=None, keypoints=None):
    d = tmp_path / name
    d.mkdir()
    task = lambda v: None if v is None else {"mAP": v, "AP50": v + 0.2}  # noqa: E731
    (d / "metrics.json").write_text(json.dumps({"bbox": task(bbox), "segm": task(segm), "keypoints": task(keypoints),
                                                "voc": None}))
    (d / "train.json").write_text(json.dumps({"network": {"sparsity": sparsity}}))
    return d


def test_model_task_names():
    task = {"mAP": 0.3}
    assert model_task({"bbox": task, "segm": task, "keypoints": None}) == "Det/Seg"
    assert model_task({"bbox": task, "segm": None, "keypoints": task}) == "Keypoint"
    assert model_task({"bbox": task, "segm": None, "keypoints": None, "voc": task}) == "Det"


def test_rows_and_table_follow_table_5(tmp_path):
    mask = [_run(tmp_path, f"mask{s}", 0.78, 0.30 + s / 100, 0.28) for s in (0, 1)]
    kp = [_run(tmp_path, f"kp{s}", 0.79, 0.50, keypoints=0.59) for s in (0, 1)]
    kp_from_mask = [_run(tmp_path, f"kpt{s}", 0.77, 0.49, keypoints=0.58) for s in (0, 1)]
    mask_from_kp = [_run(tmp_path, f"maskt{s}", 0.50, 0.24, 0.23) for s in (0, 1)]
    rows = run_rows(mask[0], kp_from_mask[0])
    # The keypoint model's person boxes are not the Det task: one Keypoint row.
    assert [(r["target_task"], r["source_task"]) for r in rows] == [("Keypoint", "Det/Seg")]
    assert rows[0]["mAP"] == pytest.approx(58.0) and rows[0]["network_sparsity"] == pytest.approx(77.0)
    assert [r["target_task"] for r in run_rows(kp[0], mask_from_kp[0])] == ["Det", "Seg"]
    pairs = [(m, m) for m in mask] + [(k, k) for k in kp] + list(zip(mask, kp_from_mask)) + list(zip(kp, mask_from_kp))
    table = transfer_table([row for source, run in pairs for row in run_rows(source, run)])
    assert list(zip(table.target_task, table.source_task)) == [
        ("Det", "Det/Seg"), ("Det", "Keypoint"), ("Seg", "Det/Seg"), ("Seg", "Keypoint"),
        ("Keypoint", "Det/Seg"), ("Keypoint", "Keypoint")]
    direct_det = table[(table.target_task == "Det") & (table.source_task == "Det/Seg")]
    assert direct_det["mAP_mean"].item() == pytest.approx(30.5) and direct_det["seeds"].item() == 2
    args = [a for source, run in pairs for a in ("--run", f"{source}:{run}")]
    assert main(["--name", "t", "--paper", "Table 5", *args, "--csv", str(tmp_path / "t.csv"),
                 "--markdown", str(tmp_path / "t.md")]) == 0
    assert "| Keypoint      | Det/Seg       | 77.00%" in (tmp_path / "t.md").read_text()
