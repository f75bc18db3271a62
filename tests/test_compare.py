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
    with pytest.raises(ValueError, match="share no mAP/AP50"):
        absolute({"a": direct[["prune_percent", "network_sparsity_mean"]]})
