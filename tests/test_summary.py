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


def _legend(fig):
    (legend,) = fig.legends  # one legend per figure
    return [t.get_text() for t in legend.get_texts()]


def _line(ax, label):
    return next(line for line in ax.get_lines() if line.get_label() == label)


def test_figure_starts_at_the_dense_model_with_legends_in_words(tmp_path):
    from lthsteps.labels import paper_points
    from lthsteps.summary import draw, figure_title

    runs = [(0, 0, _task_run(tmp_path, "d0", 0.30, 0.0)), (0, 1, _task_run(tmp_path, "d1", 0.32, 0.0)),
            (80, 0, _task_run(tmp_path, "t0", 0.28, 0.78)), (80, 1, _task_run(tmp_path, "t1", 0.29, 0.78)),
            (90, 0, _task_run(tmp_path, "u0", 0.20, 0.88)), (90, 1, _task_run(tmp_path, "u1", 0.22, 0.88))]
    records = pd.DataFrame([run_record(*r) for r in runs])
    title = figure_title("Mask R-CNN R18", "Direct pruning", "COCO", "Fig 1")
    assert title == "Mask R-CNN R18 on COCO: direct pruning (analog of the paper's Fig 1)"
    fig = draw(records, title, label="Direct pruning", paper=paper_points("Mask R-CNN R18", "direct_pruning"),
               paper_label="Paper (COCO, other data)")
    assert _legend(fig) == ["Direct pruning", "Dense", "Paper (COCO, other data)"]
    assert fig._suptitle.get_text().replace("\n", " ") == title
    assert [ax.get_title() for ax in fig.axes] == ["Detection", "Segmentation"] * 2  # mAP over AP50
    bbox = next(ax for ax in fig.axes if ax.get_title() == "Detection" and ax.get_ylabel() == "mAP")
    assert bbox.get_xlabel() == "Network sparsity (%)"
    curve = _line(bbox, "Direct pruning")
    assert list(curve.get_xdata()) == pytest.approx([0.0, 78.0, 88.0])  # the dense model first, at 0%
    assert list(curve.get_ydata()) == pytest.approx([31.0, 28.5, 21.0])
    assert _line(bbox, "Dense").get_ydata()[0] == pytest.approx(31.0) and _line(bbox, "Dense").get_linestyle() == "--"
    paper = _line(bbox, "Paper (COCO, other data)")
    assert list(paper.get_xdata()) == [0.0, 78.4] and list(paper.get_ydata()) == [29.91, 30.04]
    assert paper.get_marker() == "D"
    ap50 = next(ax for ax in fig.axes if ax.get_title() == "Segmentation" and ax.get_ylabel() == "AP50")
    assert list(_line(ap50, "Paper (COCO, other data)").get_ydata()) == [46.0, 46.68]
    import matplotlib.pyplot as plt

    plt.close(fig)
    # no paper points: no paper entry in the legend
    fig = draw(records, "t", label="ImageNet ticket")
    assert _legend(fig) == ["ImageNet ticket", "Dense"]
    plt.close(fig)


def test_cli_labels_and_paper_points_switch(tmp_path):
    runs = [(0, 0, _run(tmp_path, "d", 0.3, 0.6, 0.0)), (80, 0, _run(tmp_path, "t", 0.28, 0.58, 0.7))]
    args = [a for p, s, d in runs for a in ("--run", f"{p}:{s}:{d}")]
    out = [str(tmp_path / n) for n in ("v.csv", "v.md", "v.png")]
    common = ["--experiment", "direct_pruning", "--paper", "Fig 2a", *args, "--csv", out[0], "--markdown", out[1],
              "--figure", out[2]]
    assert main([*common, "--method", "direct_pruning", "--model-label", "Faster R-CNN R18", "--dataset", "VOC",
                 "--paper-points", "--no-paper-points"]) == 0
    assert (tmp_path / "v.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SystemExit):  # which points fit needs the method
        main([*common, "--paper-points"])


def test_titles_break_after_the_subject_and_before_the_paper_item():
    from lthsteps.summary import wrap_title

    title = "Faster R-CNN R18 on generated VOC-format data: ImageNet ticket (analog of the paper's Table 1)"
    assert wrap_title(title, 61) == ("Faster R-CNN R18 on generated VOC-format data:\n"
                                     "ImageNet ticket (analog of the paper's Table 1)")
    assert wrap_title(title, 200) == title
    assert wrap_title("direct_pruning: tickets", 10) == "direct_pruning:\ntickets"
