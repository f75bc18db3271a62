"""The paper's published numbers (lthsteps/published.csv, lthsteps.published): every cell of Tables 1-5,
spot checks against the paper, the loader's queries and errors, the file's validation. No model build."""
from __future__ import annotations

import csv
import io
from collections import Counter

import pytest

from lthsteps import published as pub
from lthsteps.published import COLUMNS, Published, PublishedError, parse, published, read, rows, value

# Numeric cells each table prints. Tables 1 and 4: 4 rows x 11 (3 COCO tasks x (network sparsity, mAP,
# AP50) + VOC (network sparsity, mAP)); Table 2: 3 rows x 11; Table 3: 16 rows x (Param %, network
# sparsity, mAP); Table 5: 6 rows x (network sparsity, mAP, AP50).
PRINTED = {"table1": 44, "table2": 33, "table3": 48, "table4": 44, "table5": 18}
# CSV rows: a number printed twice for one quantity (the det and seg columns' shared network sparsity
# of Tables 1, 2, 4; Table 5's Det and Seg rows of one Mask R-CNN) is one row naming both places.
ROWS = {"table1": 40, "table2": 30, "table3": 48, "table4": 40, "table5": 16}
TWICE = "(one number printed twice)"


def test_cell_counts_per_table():
    tables = [r for r in rows() if r.item.startswith("table")]
    assert Counter(r.item for r in tables) == ROWS
    printed = Counter()
    for r in tables:
        printed[r.item] += 2 if TWICE in r.source else 1
    assert printed == PRINTED


def test_table_grid_is_complete():
    for item, prunes in (("table1", (90, 80, 50, 0)), ("table2", (90, 80, 0)), ("table4", (90, 80, 50, 0))):
        for prune in prunes:
            assert len(published(item=item, prune_percent=prune)) == 10
            assert len(published(item=item, prune_percent=prune, quantity="network_sparsity")) == 3
            assert {r.task for r in published(item=item, prune_percent=prune, quantity="mAP")} == {
                "bbox", "segm", "keypoints", "voc"}
    assert len({r.row for r in published(item="table3")}) == 16
    assert all(len(published(item="table3", row=r.row)) == 3 for r in published(item="table3", quantity="mAP"))
    # every Table 3 row lists its ticked modules in the paper's column order
    order = ["Base", "Top", "RPN", "Box, Cls Head"]
    for r in published(item="table3", method="module_pruning", quantity="mAP"):
        names = r.row.split(" + ")
        assert names == sorted(names, key=order.index)


@pytest.mark.parametrize("filters, expected, std", [
    (dict(item="table1", model="mask_rcnn_r18_fpn", task="bbox", prune_percent=90, quantity="mAP"), 25.59, None),
    (dict(item="table1", model="keypoint_rcnn_r18_fpn", prune_percent=50, quantity="AP50"), 80.83, None),
    (dict(item="table1", model="faster_rcnn_r18_c4", prune_percent=0, quantity="mAP"), 68.53, 0.29),
    (dict(item="table1", model="faster_rcnn_r18_c4", prune_percent=80, quantity="network_sparsity"), 70.66, None),
    (dict(item="table2", model="mask_rcnn_r50_fpn", task="segm", prune_percent=80, quantity="AP50"), 47.90, None),
    (dict(item="table2", model="keypoint_rcnn_r50_fpn", prune_percent=80, quantity="network_sparsity"), 28, None),
    (dict(item="table2", model="faster_rcnn_r50_c4", prune_percent=90, quantity="mAP"), 71.20, 0.21),
    (dict(item="table2", model="mask_rcnn_r50_fpn", task="bbox", method="dense", quantity="mAP"), 38.5, None),
    (dict(item="table3", row="none", quantity="mAP"), 69.74, 0.16),
    (dict(item="table3", row="Base + RPN", quantity="param_percent"), 31.64, None),
    (dict(item="table3", row="Top + RPN + Box, Cls Head", quantity="network_sparsity"), 61.40, None),
    (dict(item="table3", row="Base + Top + RPN + Box, Cls Head", quantity="mAP"), 68.47, 0.10),
    (dict(item="table3", row="Base", quantity="mAP"), 69.32, 0.07),
    (dict(item="table4", model="faster_rcnn_r50_c4", prune_percent=90, quantity="mAP"), 61.75, 0.22),
    (dict(item="table4", model="mask_rcnn_r50_fpn", prune_percent=50, quantity="network_sparsity"), 24.55, None),
    (dict(item="table4", model="keypoint_rcnn_r50_fpn", prune_percent=90, quantity="mAP"), 62.27, None),
    (dict(item="table5", row="own", task="bbox", quantity="AP50"), 49.40, None),
    (dict(item="table5", row="keypoints -> det/seg", quantity="network_sparsity"), 50.11, None),
    (dict(item="table5", row="det/seg -> keypoints", quantity="network_sparsity"), 76.98, None),
    (dict(item="table5", model="keypoint_rcnn_r18_fpn", row="own", quantity="mAP"), 59.34, None),
    (dict(item="text", model="mask_rcnn_r18_fpn", row="backbone", quantity="param_percent"), 44, None),
    (dict(item="fig1", quantity="remaining_weight_percent"), 20, None),
])
def test_spot_checks(filters, expected, std):
    (row,) = published(**filters)
    assert row.value == expected
    assert row.std == std
    assert value(**filters) == expected


def test_numbers_as_printed_and_sources():
    (row,) = published(item="table5", row="own", task="bbox", quantity="AP50")
    assert row.text[COLUMNS.index("value")] == "49.40"
    assert row.source == 'Table 5, row Target task "Det", Source task "Det/Seg", column "AP50"'
    (row,) = published(item="table1", model="faster_rcnn_r18_c4", prune_percent=80, quantity="mAP")
    assert row.source == 'Table 1, row "80%", column "VOC Detection mAP"'
    for r in rows():
        assert r.source.strip()
        if r.item.startswith("table"):
            assert r.source.startswith(f"Table {r.item[-1]}, row")
        elif r.item.startswith("fig"):
            assert r.source.startswith(f"Fig {r.item[3:]} caption: \"")
        else:
            assert '"' in r.source  # the quote


def test_table3_network_sparsity_is_80_percent_of_param_share():
    for share in published(item="table3", method="module_pruning", quantity="param_percent"):
        sparsity = value(item="table3", row=share.row, quantity="network_sparsity")
        assert sparsity == pytest.approx(0.8 * share.value, abs=0.01)
        assert share.prune_percent == 80


def test_dense_rows_of_tables_2_and_4_are_the_same_numbers():
    def dense(item):
        return {(r.model, r.task, r.quantity): (r.value, r.std) for r in published(item=item, method="dense")}
    assert dense("table2") == dense("table4")


def test_filters():
    assert published(item="table1", quantity="mAP", prune_percent="90") == published(
        item="table1", quantity="mAP", prune_percent=90.0)
    assert {r.item for r in published(prune_percent=None)} >= {"text", "fig1"}  # None matches empty cells
    assert all(r.task == "" for r in published(item="table1", task=""))
    assert published(item="table9") == []
    assert len(published()) == len(rows())


def test_unknown_filter_column():
    with pytest.raises(TypeError, match="unknown filter column.*'?colour'?"):
        published(colour="red")
    with pytest.raises(TypeError, match="columns: item, model"):
        value(item="table1", colour="red")


def test_value_needs_exactly_one_row():
    with pytest.raises(LookupError, match=r"16 published numbers match item='table1', quantity='mAP'"):
        value(item="table1", quantity="mAP")
    with pytest.raises(LookupError, match=r"0 published numbers match item='table3', row='Base \+ Box'"):
        value(item="table3", row="Base + Box", quantity="mAP")


def test_cli(capsys):
    assert pub.main(["--item", "table3", "--quantity", "mAP"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "| " + " | ".join(COLUMNS) + " |"
    assert len(out) == 2 + 16
    assert "| 69.74 | 0.16 |" in out[2]
    assert pub.main(["--item", "table5", "--row", "own", "--format", "csv"]) == 0
    parsed = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert parsed[0] == list(COLUMNS) and len(parsed) == 1 + 8
    assert pub.main(["--item", "table9"]) == 1
    assert "no published number matches item='table9'" in capsys.readouterr().err


# ---- validation: broken copies of the file through the same parser

HEADER = ",".join(COLUMNS)
GOOD = 'table3,faster_rcnn_r18_c4,voc,voc,dense,none,0,mAP,69.74,0.16,"Table 3, row with no module ticked, column ""mAP"""'


def write(tmp_path, *lines):
    path = tmp_path / "published.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_shipped_file_parses_as_a_copy(tmp_path):
    from importlib import resources

    text = resources.files("lthsteps").joinpath("published.csv").read_text(encoding="utf-8")
    assert read(write(tmp_path, text.rstrip("\n"))) == rows()
    assert read(write(tmp_path, HEADER, GOOD)) == (Published(
        "table3", "faster_rcnn_r18_c4", "voc", "voc", "dense", "none", 0.0, "mAP", 69.74, 0.16,
        'Table 3, row with no module ticked, column "mAP"'),)


@pytest.mark.parametrize("line, message", [
    (GOOD.replace("table3,", "table6,", 1), r"line 3: unknown item 'table6'"),
    (GOOD.replace(",mAP,", ",mAP_small,", 1), r"line 3: unknown quantity 'mAP_small'"),
    (GOOD.replace(",dense,", ",pruned,", 1), r"line 3: unknown method 'pruned'"),
    (GOOD.replace("faster_rcnn_r18_c4", "faster_rcnn_r101_c4", 1), r"line 3: unknown model 'faster_rcnn_r101_c4'"),
    (GOOD.replace(",69.74,", ",69.74%,", 1), r"line 3: column 'value' is not a number: '69.74%'"),
    (GOOD.replace(",0.16,", ",±0.16,", 1), r"line 3: column 'std' is not a number"),
    (GOOD.replace(",69.74,", ",,", 1), r"line 3: column 'value' is not a number: ''"),
    (GOOD.replace(",0,mAP,", ",zero,mAP,", 1), r"line 3: column 'prune_percent' is not a number"),
    (GOOD.split(',"Table')[0] + ",", r"line 3: empty source"),
    (GOOD.replace(",0.16,", ",", 1), r"line 3: 10 fields, expected 11"),
    (GOOD.replace("faster_rcnn_r18_c4,voc,", ",,", 1), r"line 3: a table cell needs a model"),
])
def test_validation_names_the_line(tmp_path, line, message):
    other = GOOD.replace(",none,", ",Base,", 1).replace(",dense,", ",module_pruning,", 1)
    path = write(tmp_path, HEADER, other, line)
    with pytest.raises(PublishedError, match=message) as err:
        read(path)
    assert str(path) in str(err.value)


def test_validation_duplicate_key(tmp_path):
    with pytest.raises(PublishedError, match=r"line 3: duplicate of line 2 \(item='table3'"):
        read(write(tmp_path, HEADER, GOOD, GOOD.replace("69.74", "70.00")))


def test_validation_header(tmp_path):
    with pytest.raises(PublishedError, match="line 1: the header must be item,model"):
        read(write(tmp_path, HEADER.replace("std", "sd"), GOOD))
    with pytest.raises(PublishedError, match="line 1"):
        parse("", "empty.csv")
