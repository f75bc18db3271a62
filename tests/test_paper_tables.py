"""The paper's Tables 1-5 in its layout from constructed result tables: every cell beside its published
number, the difference exact, sources placed by the tasks their tables hold, bad sources refused."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from lthsteps import plan
from lthsteps.paper_tables import PaperTableError, assemble, main, markdown
from lthsteps.published import published


def _imagenet(task_columns: dict[str, list[float]], sparsity: list[float], prunes=(0, 50, 80, 90), seeds=1):
    """An ImageNet transfer's per-prune table (lthsteps.summary format) with the given mAP columns."""
    frame = pd.DataFrame({"prune_percent": list(prunes), "seeds": seeds, "network_sparsity_mean": sparsity,
                          "network_sparsity_std": math.nan})
    for column, values in task_columns.items():
        frame[f"{column}_mean"] = values
        frame[f"{column}_std"] = [0.5] * len(values) if seeds > 1 else math.nan
    return frame


VOC = _imagenet({"bbox mAP": [30, 31, 32, 33], "bbox AP50": [60, 61, 62, 63], "VOC mAP": [68.53, 68.0, 66.0, 64.0]},
                [0, 44.0, 70.0, 79.0], seeds=2)
MASK = _imagenet({"bbox mAP": [29.91, 28, 27, 25], "bbox AP50": [49, 47, 46, 43], "segm mAP": [27, 26, 25, 24],
                  "segm AP50": [46, 44, 43, 40]}, [0, 17.57, 28.1, 31.61])


def cell(frame: pd.DataFrame, row: str, column: str) -> pd.Series:
    match = frame[(frame.row == row) & (frame.column == column)]
    assert len(match) == 1, (row, column, len(match))
    return match.iloc[0]


def test_table1_places_each_source_in_its_column_group():
    frame = assemble("table1", {"voc": VOC, "mask": MASK})
    assert len(frame) == 44  # the paper's 4 x 11 cells: the Mask R-CNN's sparsity printed twice
    voc = cell(frame, "80%", "VOC Detection: mAP")
    assert (voc.ours, voc.paper, voc.entry, voc.seeds) == (66.0, 65.82, "voc", 2)
    assert voc.difference == pytest.approx(66.0 - 65.82) and voc.ours_std == 0.5 and voc.paper_std == 0.23
    for column in ("COCO Detection: Network sparsity", "COCO Segmentation: Network sparsity"):
        assert cell(frame, "90%", column).ours == 31.61 and cell(frame, "90%", column).difference == 0
    assert cell(frame, "0%", "COCO Detection: mAP").difference == pytest.approx(0)
    keypoint = cell(frame, "80%", "COCO Keypoint: mAP")  # no keypoint source: the paper's cell, no result
    assert math.isnan(keypoint.ours) and keypoint.entry == "" and keypoint.paper == 56.7


def test_markdown_is_the_papers_layout():
    text = markdown(assemble("table1", {"voc": VOC}), "table1", note="generated data")
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| Prune %"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert columns[:4] == ["Prune %", "COCO Detection: Network sparsity", "COCO Detection: mAP", "COCO Detection: AP50"]
    assert columns[-2:] == ["VOC Detection: Network sparsity", "VOC Detection: mAP"]
    rows = [line.split("|")[1].strip() for line in lines if line.startswith("| ") and "%" in line.split("|")[1]]
    assert rows[1:] == ["90%", "80%", "50%", "0%"]  # the paper's order (after the header)
    assert "66.00 (65.82, +0.18)" in text and "— (56.7)" in text and text.rstrip().endswith("generated data")


def test_table3_rows_by_the_ticked_modules():
    rows = [(False, False, False, False, 0, 0.0, 0.0, 69.0), (True, False, True, False, 80, 31.0, 25.0, 68.0),
            (True, True, True, True, 80, 98.68, 78.94, 67.0)]
    frame = pd.DataFrame(rows, columns=["backbone_base", "backbone_top", "rpn", "box_head", "prune_percent",
                                        "param_percent", "network_sparsity_mean", "VOC mAP_mean"])
    frame["seeds"], frame["network_sparsity_std"], frame["VOC mAP_std"] = 1, math.nan, math.nan
    table = assemble("table3", {"t3": frame})
    assert len(table) == 48
    assert cell(table, "Base + RPN", "Param %").difference == pytest.approx(31.0 - 31.64)
    assert cell(table, "Base + Top + RPN + Box, Cls Head", "Network sparsity").difference == pytest.approx(0)
    assert cell(table, "none", "mAP").ours == 69.0 and cell(table, "none", "mAP").paper == 69.74
    assert math.isnan(cell(table, "Top", "mAP").ours)


def test_table5_own_and_transferred_tickets():
    frame = pd.DataFrame({"target_task": ["Det", "Det", "Seg", "Seg", "Keypoint", "Keypoint"],
                          "source_task": ["Det/Seg", "Keypoint"] * 3, "seeds": 1,
                          "network_sparsity_mean": [78.4, 50.0, 78.4, 50.0, 77.0, 79.4],
                          "mAP_mean": [30.0, 24.0, 28.0, 23.0, 58.0, 59.0], "AP50_mean": [49, 41, 46, 39, 81, 82]})
    table = assemble("table5", {"tt": frame})
    assert len(table) == 18  # 6 rows x 3 columns: the Mask R-CNN's sparsity under Det and under Seg
    assert cell(table, "Det ← Keypoint", "Network sparsity").paper == 50.11
    assert cell(table, "Keypoint ← Det/Seg", "mAP").difference == pytest.approx(58.0 - 58.31)
    assert cell(table, "Seg ← Det/Seg", "AP50").ours == 46
    lines = [line.split("|")[1].strip() for line in markdown(table, "table5").splitlines() if "←" in line][1:]  # after the header
    assert lines == ["Det ← Det/Seg", "Det ← Keypoint", "Seg ← Det/Seg", "Seg ← Keypoint", "Keypoint ← Det/Seg",
                     "Keypoint ← Keypoint"]


def test_every_published_cell_of_each_table_has_a_place():
    counts = {"table1": 44, "table2": 33, "table3": 48, "table4": 44, "table5": 18}
    for table, count in counts.items():
        assert len(assemble(table, {})) == count
        assert len(published(item=table)) <= count


@pytest.mark.parametrize("table, sources, message", [
    ("table1", {"a": MASK, "b": MASK}, "a and b both fill the detseg columns"),
    ("table3", {"x": VOC}, "x: its table lacks backbone_base"),
    ("table1", {"x": pd.DataFrame({"prune_percent": [0], "network_sparsity_mean": [0], "bbox mAP_mean": [1]})},
     "x: its table has no keypoints, VOC or segm mAP column"),
    ("table9", {}, "unknown table 'table9'"),
])
def test_a_source_that_does_not_fit_is_refused(table, sources, message):
    with pytest.raises(PaperTableError, match=message):
        assemble(table, sources)


def test_cli_writes_nothing_on_bad_input(tmp_path, capsys):
    code = main(["table1", "--source", f"a={tmp_path / 'absent.csv'}", "--csv", str(tmp_path / "o.csv"),
                 "--markdown", str(tmp_path / "o.md")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "does not exist" in err[0]
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.md").exists()


def test_cli_writes_csv_and_markdown(tmp_path):
    VOC.to_csv(tmp_path / "voc.csv", index=False)
    assert main(["table1", "--source", f"voc={tmp_path / 'voc.csv'}", "--csv", str(tmp_path / "o.csv"),
                 "--markdown", str(tmp_path / "o.md")]) == 0
    out = pd.read_csv(tmp_path / "o.csv")
    assert len(out) == 44 and out.loc[out.entry == "voc", "ours"].notna().all()
    assert (tmp_path / "o.md").read_text().startswith("### Table 1")


def test_the_plan_finds_the_entries_that_name_a_table():
    config = {"imagenet_transfers": {"t": {"paper": "Table 1, Fig 1", "mode": "ticket"},
                                     "m": {"paper": "Table 4 (VOC)", "mode": "mask"},
                                     "wrong_mode": {"paper": "Table 1", "mode": "mask"},
                                     "t11": {"paper": "Table 11", "mode": "ticket"}},
              "ablations": {"modules": {"paper": "Table 3", "setting": "modules"},
                            "rounds": {"paper": "Table 3", "setting": "rounds"}},
              "task_transfers": {"tt": {"paper": "Table 5"}}}
    assert {t: plan.paper_table_entries(config, t) for t in plan.PAPER_TABLES} == {
        "table1": ["t"], "table2": [], "table3": ["modules"], "table4": ["m"], "table5": ["tt"]}
    assert plan.paper_tables(config) == ["table1", "table3", "table4", "table5"]


def test_two_transfers_filling_one_column_group_are_refused_at_start():
    import copy

    import yaml
    from snakemake.utils import validate

    from lthsteps.config_check import ConfigError, check
    from conftest import REPO

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))
    check(config, REPO)
    bad = copy.deepcopy(config)
    bad["imagenet_transfers"]["mask_rcnn_r50_ticket_transfer"]["paper"] = "Table 1, Fig 1"
    with pytest.raises(ConfigError) as err:
        check(bad, REPO)
    assert ("imagenet_transfers.mask_rcnn_r50_ticket_transfer.paper: imagenet_transfers.mask_rcnn_r18_ticket_transfer "
            "already fills the detection/segmentation columns of Table 1") in str(err.value)
