"""The §4.3 ablations (Table 3, Fig 2b-2f, controls) from constructed run folders with known answers."""
from __future__ import annotations

import itertools
import json
import re

import pandas as pd
import pytest
import torch

from lthsteps.masks.maskfile import save_masks
from lthsteps.ablations import SETTINGS, common, controls, early_bird, layer_sparsity, modules, rewind_iter, rounds, scope
from lthsteps.ablations.cli import main

# Table 3's module sizes (per 10000 parameters of the network; 132 more in other groups).
PARAMS = {"backbone_base": 2193, "backbone_top": 6639, "rpn": 971, "box_head": 65}
NETWORK = 10000


def _run(path, voc, sparsity=0.0, groups=None, layers=None, mask=None):
    """A run folder: metrics.json (VOC + bbox), train.json, and a mask.npz of pruned indices if given."""
    path.mkdir(parents=True)
    (path / "metrics.json").write_text(json.dumps({"bbox": {"mAP": voc / 2, "AP50": voc, "AP75": voc / 3},
                                                   "voc": {"mAP": voc}, "segm": None, "keypoints": None}))
    train = {"network": {"params": NETWORK, "pruned": round(sparsity * NETWORK), "sparsity": sparsity},
             "groups": groups or {}, "layers": layers or {}}
    (path / "train.json").write_text(json.dumps(train))
    if mask is not None:
        kept = torch.ones(10, dtype=torch.bool)
        kept[list(mask)] = False
        save_masks(path / "mask.npz", {"backbone.layer1.0.conv1.weight": kept.reshape(2, 5)}, {})
    return path


def _dense(tmp_path, vocs=(0.70, 0.72)):
    runs = [(seed, _run(tmp_path / f"dense{seed}", v)) for seed, v in enumerate(vocs)]
    return common.dense_records(runs)


def _cells(text):
    """The rows of a Markdown table (header first, no rule line), cells stripped."""
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row] for i, row in enumerate(rows) if i != 1]


def _runs(setting, specs):
    return [common.Run(SETTINGS[setting].parse_value(v, "test"), p, s, d) for v, p, s, d in specs]


def _modules_runs(tmp_path):
    groups = {g: {"params": n, "pruned": 0} for g, n in PARAMS.items()}
    specs = []
    for bits in itertools.product([0, 1], repeat=4):
        ticked = [m for m, b in zip(modules.MODULES, bits) if b]
        if not ticked:
            continue
        share = sum(PARAMS[m] for m in ticked) / NETWORK
        for seed, voc in enumerate((0.68, 0.70)):
            d = _run(tmp_path / "+".join(ticked) / str(seed), voc, 0.2 * share, groups)
            specs.append(("+".join(reversed(ticked)), 20.0, seed, d))  # any order of the modules is one row
    return _runs("modules", specs)


def test_modules_rows_in_the_papers_order_with_exact_param_percent(tmp_path):
    table = modules.table(modules.load(_modules_runs(tmp_path)), _dense(tmp_path))
    # Table 3's rows as (Base, Top, RPN, Box) ticks.
    paper = ["0000", "0001", "0010", "0011", "1000", "1001", "1010", "1011",
             "0100", "0101", "0110", "0111", "1100", "1101", "1110", "1111"]
    assert ["".join(str(int(r[m])) for m in modules.MODULES) for _, r in table.iterrows()] == paper
    by = table.set_index("modules")
    assert by.loc["backbone_base+backbone_top", "param_percent"] == pytest.approx(88.32)
    assert by.loc["backbone_base+backbone_top+rpn+box_head", "param_percent"] == pytest.approx(98.68)
    assert by.loc["rpn+box_head", "param_percent"] == pytest.approx(10.36)
    assert by.loc["dense", "param_percent"] == 0
    assert by.loc["backbone_base+backbone_top", "network_sparsity_mean"] == pytest.approx(17.664)
    assert by.loc["rpn", "VOC mAP_mean"] == pytest.approx(69.0)
    assert by.loc["rpn", "VOC mAP_std"] == pytest.approx(2 ** 0.5)
    assert list(table.seeds) == [2] * 16
    text = modules.markdown(table, "T3")
    assert text.startswith("### T3\n\n")
    cells = _cells(text)
    assert cells[0][:7] == ["Base", "Top", "RPN", "Box, Cls head", "Param %", "Network sparsity", "VOC mAP"]
    assert cells[1][:7] == ["-", "-", "-", "-", "0.00", "0.00%", "71.00 ± 1.41"]  # dense first
    assert cells[13][:7] == ["✓", "✓", "-", "-", "88.32", "17.66%", "69.00 ± 1.41"]
    assert cells[0][-1] == "Seeds" and "Prune %" not in cells[0]


def test_modules_value_errors():
    assert modules.parse_value("rpn+backbone_base", "w") == "backbone_base+rpn"
    with pytest.raises(ValueError, match="unknown module 'neck'"):
        modules.parse_value("backbone_base+neck", "w")
    with pytest.raises(ValueError, match="twice"):
        modules.parse_value("rpn+rpn", "w")


def _mask_report(path, pruned):
    """mask.json with backbone layers in a non-alphabetical order and an RPN layer (not backbone)."""
    names = [("backbone.layer1.0.conv2.weight", "backbone_base", 100), ("backbone.conv1.weight", "backbone_base", 40),
             ("rpn_head.rpn_conv.weight", "rpn", 50), ("roi_head.shared_head.layer4.0.conv1.weight", "backbone_top", 200)]
    layers = {n: {"group": g, "numel": k, "pruned": p, "sparsity": p / k} for (n, g, k), p in zip(names, pruned)}
    path.mkdir(parents=True)
    (path / "mask.json").write_text(json.dumps({"meta": {}, "network": {}, "groups": {}, "layers": layers}))
    return path


def _layer_runs(tmp_path):
    return _runs("layer_sparsity", [
        ("-", 50, 0, _mask_report(tmp_path / "a", [10, 4, 25, 150])), ("-", 50, 1, _mask_report(tmp_path / "b", [20, 8, 25, 150])),
        ("-", 80, 0, _mask_report(tmp_path / "c", [60, 10, 40, 190])), ("-", 80, 1, _mask_report(tmp_path / "d", [70, 10, 40, 190]))])


def test_layer_sparsity_pruned_percent_per_backbone_layer_in_network_order(tmp_path):
    table = layer_sparsity.table(layer_sparsity.load(_layer_runs(tmp_path)))
    assert list(table.layer) == ["backbone.layer1.0.conv2.weight", "backbone.conv1.weight",
                                 "roi_head.shared_head.layer4.0.conv1.weight"]
    assert list(table.group) == ["backbone_base", "backbone_base", "backbone_top"] and list(table.numel) == [100, 40, 200]
    assert table.pruned_percent_at_50.tolist() == pytest.approx([15.0, 15.0, 75.0])
    assert table.pruned_percent_at_80.tolist() == pytest.approx([65.0, 25.0, 95.0])
    cells = _cells(layer_sparsity.markdown(table, "t"))
    assert cells[0] == ["Layer", "Group", "Numel", "pruned % at 50%", "pruned % at 80%"]
    assert cells[2] == ["backbone.conv1.weight", "backbone_base", "40", "15.00", "25.00"]
    assert layer_sparsity.short("roi_head.shared_head.layer4.0.conv1.weight") == "layer4.0.conv1"


def _early_runs(tmp_path, with_default=True):
    # Seed 0 at 0.5 prunes {2,3,4,5} vs the default's {0,1,2,3}: IoU 2/6; seed 1 at 0.5 = its default: IoU 1.
    specs = [("0.5", 80, 0, _run(tmp_path / "h0", 0.66, 0.5, mask={2, 3, 4, 5})),
             ("0.5", 80, 1, _run(tmp_path / "h1", 0.68, 0.5, mask={0, 1, 2, 3}))]
    if with_default:
        specs += [("1.0", 80, 0, _run(tmp_path / "f0", 0.70, 0.5, mask={0, 1, 2, 3})),
                  ("1", 80, 1, _run(tmp_path / "f1", 0.70, 0.5, mask={0, 1, 2, 3}))]
    return _runs("early_bird", specs)


def test_early_bird_iou_with_the_default_ticket(tmp_path):
    recs = early_bird.load(_early_runs(tmp_path))
    assert recs.iou.tolist() == pytest.approx([1 / 3, 1.0, 1.0, 1.0])
    table = early_bird.table(recs, _dense(tmp_path))
    assert table.fraction.isna().tolist() == [True, False, False]  # dense first
    half, full = table.iloc[1], table.iloc[2]
    assert (half.fraction, full.fraction) == (0.5, 1.0)
    assert half.iou_mean == pytest.approx(2 / 3) and half.iou_std == pytest.approx((2 / 9) ** 0.5 * 1)
    assert full.iou_mean == 1.0 and full.iou_std == 0.0
    assert half["VOC mAP_mean"] == pytest.approx(67.0)
    cells = _cells(early_bird.markdown(table, "eb"))
    assert cells[0][:5] == ["Prune %", "Fraction of training", "Mask IoU", "Network sparsity", "VOC mAP"]
    assert cells[1][:5] == ["dense", "-", "-", "0.00%", "71.00 ± 1.41"]
    assert cells[2][:5] == ["80%", "0.5", "0.6667 ± 0.4714", "50.00%", "67.00 ± 1.41"]
    assert cells[3][2] == "1.0000 ± 0.0000"


def test_early_bird_needs_the_default_ticket(tmp_path):
    with pytest.raises(ValueError, match="no default ticket .* prune 80%, seed 0"):
        early_bird.load(_early_runs(tmp_path, with_default=False))
    for bad in ("1.5", "0", "nan", "x"):
        with pytest.raises(ValueError, match=r"in \(0, 1\]"):
            early_bird.parse_value(bad, "w")


def _control_runs(tmp_path, arms=("ticket", "random_mask", "reinit")):
    vocs = {50: {"ticket": 0.70, "random_mask": 0.65, "reinit": 0.68},  # the ticket beats both
            80: {"ticket": 0.60, "random_mask": 0.62, "reinit": 0.55}}  # the random mask beats it
    return _runs("controls", [(arm, p, seed, _run(tmp_path / f"{arm}{p}{seed}", v + seed / 100, p / 100))
                              for p, arm_vocs in vocs.items() for arm, v in arm_vocs.items() if arm in arms
                              for seed in (0, 1)])


def test_controls_winning_ticket_yes_and_no(tmp_path):
    table = controls.table(controls.load(_control_runs(tmp_path)), _dense(tmp_path))
    assert table.prune_percent.tolist() == [50, 80]
    assert table.winning_ticket.tolist() == [True, False]
    assert table.ticket_mean.tolist() == pytest.approx([70.5, 60.5])
    assert table.random_mask_mean.tolist() == pytest.approx([65.5, 62.5])
    assert table.dense_mean.tolist() == pytest.approx([71.0, 71.0])
    cells = _cells(controls.markdown(table, "c"))
    assert cells[0] == ["Prune %", "Network sparsity", "Dense VOC mAP", "Ticket VOC mAP", "Random mask VOC mAP",
                        "Re-init VOC mAP", "Winning ticket", "Seeds"]
    assert cells[1] == ["50%", "50.00%", "71.00 ± 1.41", "70.50 ± 0.71", "65.50 ± 0.71", "68.50 ± 0.71", "yes", "2"]
    assert cells[2][-2] == "no"
    only_reinit = controls.table(controls.load(_control_runs(tmp_path / "r", ("ticket", "reinit"))), _dense(tmp_path / "r"))
    assert only_reinit.winning_ticket.tolist() == [True, True] and "random_mask_mean" not in only_reinit


def test_controls_need_the_ticket_and_the_same_arms(tmp_path):
    runs = _control_runs(tmp_path)
    with pytest.raises(ValueError, match=r"prune 80% lacks arm\(s\) \['reinit'\]"):
        controls.load([r for r in runs if not (r.prune == 80 and r.value == "reinit")])
    with pytest.raises(ValueError, match="need the ticket"):
        controls.load([r for r in runs if r.value != "ticket"])


def test_rewind_rounds_and_scope_tables(tmp_path):
    dense = _dense(tmp_path)
    rewind = rewind_iter.table(rewind_iter.load(_runs("rewind_iter", [
        (str(it), p, s, _run(tmp_path / f"w{it}{p}{s}", v + s / 100, p / 100))
        for it, p, v in ((600, 80, 0.66), (0, 80, 0.68), (0, 50, 0.70)) for s in (0, 1)])), dense)
    assert rewind.prune_percent.tolist() == [0, 50, 80, 80]
    assert rewind.rewind_iter.tolist()[1:] == [0, 0, 600]
    assert rewind["VOC mAP_mean"].tolist() == pytest.approx([71.0, 70.5, 68.5, 66.5])
    assert rewind.seeds.tolist() == [2, 2, 2, 2]
    cells = _cells(rewind_iter.markdown(rewind, "rw"))
    assert [row[:2] for row in cells] == [["Prune %", "Rewind iteration"], ["dense", "-"], ["50%", "0"], ["80%", "0"],
                                          ["80%", "600"]]
    assert cells[4][2:4] == ["80.00%", "66.50 ± 0.71"]

    rnd = rounds.table(rounds.load(_runs("rounds", [
        (str(n), 80, s, _run(tmp_path / f"r{n}{s}", 0.7 - n / 100, 0.70 + s / 100)) for n in (3, 1) for s in (0, 1)])), dense)
    assert rnd.rounds.tolist()[1:] == [1, 3]
    assert rnd.network_sparsity_mean.tolist() == pytest.approx([0.0, 70.5, 70.5])
    assert rnd["VOC mAP_mean"].tolist() == pytest.approx([71.0, 69.0, 67.0])
    assert _cells(rounds.markdown(rnd, "rd"))[2][:3] == ["80%", "1", "70.50%"]
    with pytest.raises(ValueError, match="integer >= 1"):
        rounds.parse_value("0", "w")

    sc = scope.table(scope.load(_runs("scope", [
        (name, p, 0, _run(tmp_path / f"s{name}{p}", v, p / 120))
        for name, p, v in (("layerwise", 80, 0.60), ("global", 80, 0.66), ("global", 50, 0.69), ("groupwise", 50, 0.68))])),
        dense)
    assert sc.scope.fillna("-").tolist() == ["-", "global", "global", "groupwise", "layerwise"]
    assert sc.prune_percent.tolist() == [0, 50, 80, 50, 80]
    assert sc.network_sparsity_mean.tolist() == pytest.approx([0, 50 / 1.2, 80 / 1.2, 50 / 1.2, 80 / 1.2])
    assert sc["VOC mAP_mean"].tolist() == pytest.approx([71.0, 69.0, 66.0, 68.0, 60.0])
    assert _cells(scope.markdown(sc, "sc"))[5][:4] == ["layerwise", "80%", "66.67%", "60.00"]


def test_a_seed_missing_from_one_cell_is_an_error(tmp_path):
    runs = _runs("rounds", [(n, 80, s, _run(tmp_path / f"{n}{s}", 0.7)) for n, s in (("1", 0), ("1", 1), ("2", 0))])
    with pytest.raises(ValueError, match=r"value 2, prune 80% lacks seed\(s\) \[1\]"):
        rounds.load(runs)


def _cli_args(tmp_path, setting):
    """Runs of ``setting`` on disk, as CLI arguments."""
    if setting == "layer_sparsity":
        return [a for r in _layer_runs(tmp_path) for a in ("--run", f"-:{r.prune:g}:{r.seed}:{r.dir}")]
    dense = [a for s in (0, 1) for a in ("--dense", f"{s}:{_run(tmp_path / f'dense{s}', 0.70 + s / 50)}")]
    runs = {"modules": _modules_runs, "early_bird": _early_runs, "controls": _control_runs}.get(setting)
    if runs is None:
        value = {"rewind_iter": ("0", "600"), "rounds": ("1", "2"), "scope": ("global", "layerwise")}[setting]
        runs = lambda path: _runs(setting, [(v, p, s, _run(path / f"{v}{p}{s}", 0.7 - i / 50, p / 120))  # noqa: E731
                                            for i, v in enumerate(value) for p in (50, 80) for s in (0, 1)])
    return dense + [a for r in runs(tmp_path / "runs") for a in ("--run", f"{r.value}:{r.prune:g}:{r.seed}:{r.dir}")]


def _outputs(tmp_path):
    out = tmp_path / "out"
    return out, ["--csv", str(out / "t.csv"), "--markdown", str(out / "t.md"), "--figure", str(out / "f.png")]


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_cli_writes_csv_markdown_and_figure(tmp_path, setting, capsys):
    out, files = _outputs(tmp_path)
    assert main([setting, "--name", "demo", "--paper", "Fig 2x", *_cli_args(tmp_path, setting), *files]) == 0
    assert (out / "t.md").read_text().startswith("### demo (analog of the paper's Fig 2x)\n\n|")
    assert len(pd.read_csv(out / "t.csv")) >= 2
    assert (out / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert "### demo" in capsys.readouterr().out


@pytest.mark.parametrize("setting, change, message", [
    ("modules", lambda a: a + ["--run", "backbone_base+neck:20:0:x"], "unknown module 'neck'"),
    ("modules", lambda a: [x for x in a if not x.startswith(("0:", "1:")) and x != "--dense"], "needs --dense"),
    ("early_bird", lambda a: a + ["--run", "1.5:80:0:x"], r"in \(0, 1\]"),
    ("layer_sparsity", lambda a: a + ["--dense", "0:x"], "takes no --dense"),
    ("rounds", lambda a: [x.replace("1:50:0:", "1:50:0:missing/") for x in a], "metrics.json does not exist"),
    ("rounds", lambda a: a + ["--run", "7:80:0:x"], r"lacks seed\(s\) \[1\]"),
    ("scope", lambda a: a + ["--run", "global:80:x:dir"], "SEED 'x' is not an integer"),
])
def test_cli_bad_input_is_one_error_line_and_writes_nothing(tmp_path, setting, change, message, capsys):
    out, files = _outputs(tmp_path)
    (tmp_path / "x").mkdir()  # an existing folder without run files
    (tmp_path / "x" / "metrics.json").write_text(json.dumps({"voc": {"mAP": 0.5}, "bbox": {"mAP": 0.2}}))
    (tmp_path / "x" / "train.json").write_text(json.dumps({"network": {"sparsity": 0.5}}))
    args = [a.replace(":x", f":{tmp_path / 'x'}") if a.endswith(":x") else a for a in change(_cli_args(tmp_path, setting))]
    assert main([setting, "--name", "bad", *args, *files]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert re.search(message, err), err
    assert not out.exists()


def test_dir_may_hold_colons(tmp_path):
    run = common.parse_run("0.5:80:1:/a:b/c", early_bird.parse_value)
    assert (run.value, run.prune, run.seed, str(run.dir)) == (0.5, 80.0, 1, "/a:b/c")
