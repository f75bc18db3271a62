"""Backbone comparison (Fig 3): change of each ticket against its own dense model, per task."""
from __future__ import annotations

import pandas as pd
import pytest

from lthsteps.compare import absolute, changes, compare, main


def _table(dense, tickets, segm_offset=0.0):
    rows = [{"prune_percent": 0, "seeds": 1, "network_sparsity_mean": 0.0, "bbox mAP_mean": dense,
             "segm mAP_mean": dense + segm_offset}]
    rows += [{"prune_percent": p, "seeds": 1, "network_sparsity_mean": 0.9 * p, "bbox mAP_mean": v,
              "segm mAP_mean": v + segm_offset} for p, v in tickets]
    return pd.DataFrame(rows)


def test_changes_are_points_against_the_dense_row():
    out = changes(_table(30.0, [(50, 31.5), (90, 27.0)]))
    assert list(out["bbox mAP change"]) == pytest.approx([0.0, 1.5, -3.0])
    assert list(out["network_sparsity"]) == pytest.approx([0.0, 45.0, 81.0])
    with pytest.raises(ValueError, match="no dense row"):
        changes(_table(30.0, [(50, 31.5)]).iloc[1:])


def test_compare_keeps_shared_task_columns_only(tmp_path):
    r18 = _table(30.0, [(50, 31.0), (90, 26.0)])
    r50 = _table(38.0, [(50, 38.4), (90, 37.0)]).drop(columns="segm mAP_mean")
    result = compare({"r18": r18, "r50": r50})
    assert "segm mAP change" not in result and len(result) == 6
    assert result.loc[(result.experiment == "r50") & (result.prune_percent == 90), "bbox mAP change"].item() == -1.0
    paths = []
    for label, table in (("r18", r18), ("r50", r50)):
        table.to_csv(tmp_path / f"{label}.csv", index=False)
        paths += ["--table", f"{label}={tmp_path / label}.csv"]
    out = [tmp_path / "c.csv", tmp_path / "c.md", tmp_path / "c.png"]
    assert main(["--name", "backbones", "--paper", "Fig 3", *paths, "--csv", str(out[0]), "--markdown", str(out[1]),
                 "--figure", str(out[2])]) == 0
    assert "+1.00" in out[1].read_text() and out[2].read_bytes()[:4] == b"\x89PNG"


def test_absolute_keeps_the_metrics_and_draws_the_first_dense_model(tmp_path):
    direct = _table(30.0, [(50, 31.0), (90, 26.0)]).assign(**{"bbox AP50_mean": 50.0})
    transferred = _table(29.0, [(50, 24.0), (90, 18.0)])
    result = absolute({"direct": direct, "ticket": transferred})
    assert list(result.columns) == ["experiment", "prune_percent", "network_sparsity", "bbox mAP", "segm mAP"]
    assert result.loc[(result.experiment == "ticket") & (result.prune_percent == 90), "bbox mAP"].item() == 18.0
    for label, table in (("direct", direct), ("ticket", transferred)):
        table.to_csv(tmp_path / f"{label}.csv", index=False)
    out = [tmp_path / "f.csv", tmp_path / "f.md", tmp_path / "f.png"]
    assert main(["--name", "fig1", "--measure", "absolute", "--table", f"direct={tmp_path / 'direct.csv'}",
                 "--table", f"ticket={tmp_path / 'ticket.csv'}", "--csv", str(out[0]), "--markdown", str(out[1]),
                 "--figure", str(out[2])]) == 0
    assert "| ticket       | 90%" in out[1].read_text() and out[2].read_bytes()[:4] == b"\x89PNG"
    from lthsteps.compare import draw

    fig = draw(result, "two dense models")  # different dense models: a dashed line each, in the curve's colour
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["direct", "ticket", "Dense (direct)",
                                                                  "Dense (ticket)"]
    with pytest.raises(ValueError, match="share no mAP/AP50"):
        absolute({"a": direct[["prune_percent", "network_sparsity_mean"]]})


def _legend(fig):
    (legend,) = fig.legends  # one legend per figure
    return [t.get_text() for t in legend.get_texts()]


def _line(ax, label):
    return next(line for line in ax.get_lines() if line.get_label() == label)


def test_change_figure_curves_start_at_zero_with_labels_in_words():
    import matplotlib.pyplot as plt

    from lthsteps.compare import draw

    result = compare({"Mask R-CNN R18": _table(30.0, [(50, 31.0), (90, 26.0)]),
                      "Mask R-CNN R50": _table(38.0, [(50, 38.4), (90, 37.0)])})
    fig = draw(result, "Mask R-CNN R18 vs R50: direct pruning, change in mAP")
    assert _legend(fig) == ["Mask R-CNN R18", "Mask R-CNN R50", "Dense"]
    assert [ax.get_title() for ax in fig.axes] == ["Detection", "Segmentation"]
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Change in mAP (points)" and ax.get_xlabel() == "Network sparsity (%)"
    r18 = _line(ax, "Mask R-CNN R18")
    assert list(r18.get_xdata()) == pytest.approx([0.0, 45.0, 81.0]) and list(r18.get_ydata()) == [0.0, 1.0, -4.0]
    plt.close(fig)


def test_absolute_figure_overlays_the_papers_points(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from lthsteps import compare as module
    from lthsteps.labels import paper_points

    direct = _table(30.0, [(80, 29.0), (90, 26.0)]).assign(**{"bbox AP50_mean": 50.0, "segm AP50_mean": 45.0})
    ticket = _table(30.0, [(50, 28.0), (80, 27.0)]).assign(**{"bbox AP50_mean": 50.0, "segm AP50_mean": 45.0})
    for label, table in (("direct", direct), ("ticket", ticket)):
        table.to_csv(tmp_path / f"{label}.csv", index=False)
    tables = ["--table", f"Direct pruning={tmp_path / 'direct.csv'}",
              "--table", f"ImageNet ticket={tmp_path / 'ticket.csv'}"]
    out = ["--csv", str(tmp_path / "f.csv"), "--markdown", str(tmp_path / "f.md"), "--figure", str(tmp_path / "f.png")]
    drawn = {}
    monkeypatch.setattr(module, "figure", lambda result, title, path, **kwargs: drawn.update(
        result=result, title=title, **kwargs))
    assert main(["--name", "fig1", "--paper", "Fig 1", "--measure", "absolute", *tables, "--title",
                 "Mask R-CNN R18 on COCO: direct pruning vs ImageNet ticket", "--paper-points",
                 "ImageNet ticket=imagenet_ticket:Mask R-CNN R18", "--other-data", *out]) == 0
    assert drawn["title"] == "Mask R-CNN R18 on COCO: direct pruning vs ImageNet ticket (analog of the paper's Fig 1)"
    assert drawn["paper_label"] == "Paper (COCO, other data)"
    assert drawn["paper"] == {"ImageNet ticket": paper_points("Mask R-CNN R18", "imagenet_ticket")}
    assert "| Direct pruning  | 0%" in (tmp_path / "f.md").read_text()
    fig = module.draw(drawn["result"], drawn["title"], paper=drawn["paper"], paper_label=drawn["paper_label"])
    assert _legend(fig) == ["Direct pruning", "ImageNet ticket", "Dense", "Paper (COCO, other data)"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["mAP", "mAP", "AP50", "AP50"]
    bbox = fig.axes[0]
    assert list(_line(bbox, "Direct pruning").get_xdata())[0] == 0.0
    assert list(_line(bbox, "ImageNet ticket").get_xdata())[0] == 0.0  # every curve starts at the dense model
    assert list(_line(bbox, "Paper (COCO, other data)").get_ydata()) == [29.91, 28.52, 27.70, 25.59]
    plt.close(fig)
    # switched off
    drawn.clear()
    assert main(["--name", "fig1", "--measure", "absolute", *tables, "--paper-points",
                 "ImageNet ticket=imagenet_ticket:Mask R-CNN R18", "--no-paper-points", *out]) == 0
    assert drawn["paper"] == {} and drawn["paper_label"] == "Paper"
    with pytest.raises(SystemExit):  # a label that is no curve
        main(["--name", "fig1", "--measure", "absolute", *tables, "--paper-points",
              "ticket=imagenet_ticket:Mask R-CNN R18", *out])
