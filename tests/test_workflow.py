"""The Snakemake workflow: every shipped config dry-runs, lint is clean, the tiny config runs end to end."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from snakemake.utils import validate

from lthsteps import plan
from lthsteps.claims import CLAIMS
from lthsteps.checkpoints import load_state_dict
from lthsteps.analysis_plan import analysis_run_files
from lthsteps.plan import training_runs
from lthsteps.masks import load_masks, zeros_violations

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
CONFIGS = sorted(REPO.glob("config/*.yaml")) + sorted(REPO.glob("config/paper/*.yaml"))
DETECTOR_TRAINING = ("train_dense", "train_round", "train_task_transfer", "train_imagenet_transfer", "train_branch")


def snakemake(*args, check=True):
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([*SNAKEMAKE, *args], cwd=REPO, capture_output=True, text=True, env=env)
    if check and proc.returncode:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def _with_existing_data(config_file: Path, tmp_path: Path) -> Path:
    """The config with every non-generated dataset root pointed at an (empty) existing folder."""
    config = yaml.safe_load(config_file.read_text())
    for name, ds in config["datasets"].items():
        if not ds.get("synthetic"):
            ds["root"] = str(tmp_path / name)
            (tmp_path / name).mkdir()
    for name, clf in config.get("classifiers", {}).items():
        for key in ("data", "weights"):
            if key in clf:  # an (empty) stand-in: existence is checked at start, contents by the jobs
                clf[key] = str(tmp_path / f"{name}_{key}")
                (tmp_path / f"{name}_{key}").touch() if key == "weights" else (tmp_path / f"{name}_{key}").mkdir()
        for i, ticket in enumerate(clf.get("imported_tickets", [])):
            ticket["weights"] = str(tmp_path / f"{name}_ticket{i}.pth")
            (tmp_path / f"{name}_ticket{i}.pth").touch()
    config["results_dir"] = str(tmp_path / "results")
    out = tmp_path / config_file.name
    out.write_text(yaml.safe_dump(config))
    return out


@pytest.mark.parametrize("config_file", CONFIGS, ids=[c.name for c in CONFIGS])
def test_dry_run_of_every_shipped_config(config_file, tmp_path):
    run_config = _with_existing_data(config_file, tmp_path)
    proc = snakemake("-n", "--printshellcmds", "--configfile", str(run_config))
    config = yaml.safe_load(run_config.read_text())
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))  # the schema's defaults, as the Snakefile
    table = {line.split()[0]: int(line.split()[1]) for line in proc.stdout.splitlines()
             if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert table["train_dense"] and table["train_round"]
    # The DAG trains exactly the job plan's runs (lthsteps.plan), each once: nothing is trained twice.
    trained = re.findall(r"-m lthsteps\.train .*?--out (\S+)/weights\.pth", proc.stdout)
    runs = training_runs(config)
    assert sorted(trained) == sorted(run.folder for run in runs) and len(set(trained)) == len(trained)
    assert Counter(run.rule for run in runs) == {rule: table[rule] for rule in DETECTOR_TRAINING if rule in table}
    assert table.get("task_transfer", 0) == table.get("train_task_transfer", 0)
    # A task transfer's target weights: the rewind point, or with `start: init` the dense run at iteration 0.
    for name, t in config.get("task_transfers", {}).items():
        targets = re.findall(rf"-m lthsteps\.task_transfer .*?--target-weights (\S+) .*?/task_transfers/{name}/", proc.stdout)
        start = "snapshots/iter0.pth" if t["start"] == "init" else "rewind.pth"
        assert len(targets) == 2 * len(config["experiments"][t["experiments"][0]]["seeds"]), (name, targets)
        assert all(w.endswith(f"/dense/{start}") for w in targets), (name, targets)
    assert table.get("map_imagenet_mask", 0) == table.get("train_imagenet_transfer", 0)
    # Every detector training job evaluates what it trained: there is no evaluation job of its own.
    assert "evaluate" not in table
    # `all` asks for every table and figure: one summary per experiment and ImageNet transfer, one per
    # comparison and task transfer.
    assert table["summarize_experiment"] == len(config["experiments"]) + len(config.get("imagenet_transfers", {}))
    assert table.get("compare_experiments", 0) == len(config.get("comparisons", {}))
    assert table.get("summarize_task_transfer", 0) == len(config.get("task_transfers", {}))
    assert table.get("summarize_ablation", 0) == len(config.get("ablations", {}))
    # One summary per §4.4 analysis; one error job per run a TIDE / keypoint analysis reads (each file once).
    analyses = config.get("analyses", {})
    assert table.get("summarize_analysis", 0) == len(analyses)
    tide = {f for name, a in analyses.items() if a["analysis"] == "tide" for f in analysis_run_files(config, name)}
    keypoints = {f for name, a in analyses.items() if a["analysis"] == "keypoint_errors"
                 for f in analysis_run_files(config, name) if f.endswith(".json")}
    assert table.get("tide_errors", 0) == len(tide) and table.get("keypoint_errors", 0) == len(keypoints)
    # The paper side by side: each of its tables the config fills, the config it ran with, the claims.
    assert table.get("paper_table", 0) == len(plan.paper_tables(config))
    assert table["run_config"] == 1 and table["claims"] == 1
    # The classifier is trained once, each ImageNet ticket round once.
    classifiers = config.get("classifiers", {})
    assert table.get("train_classifier", 0) == sum("weights" not in c for c in classifiers.values())
    assert table.get("train_classifier_round", 0) == sum(
        len(c["tickets"]["prune_percents"]) * config["strategies"][c["tickets"]["strategy"]]["rounds"]
        for c in classifiers.values() if "tickets" in c)


def test_missing_dataset_folder_is_a_clear_error_before_any_job():
    proc = snakemake("-n", "--configfile", str(REPO / "config/paper/voc_faster_rcnn_r18.yaml"), check=False)
    assert proc.returncode != 0
    assert "does not exist: point it at the dataset folder" in proc.stdout + proc.stderr


def test_an_old_config_key_names_the_new_one_before_any_job(tmp_path):
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    config["ticket_transfers"] = config.pop("imagenet_transfers")
    (tmp_path / "old.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake("-n", "--configfile", str(tmp_path / "old.yaml"), check=False)
    assert proc.returncode != 0
    assert "rename `ticket_transfers` to `imagenet_transfers`" in proc.stdout + proc.stderr


def test_unknown_group_is_rejected_by_the_schema(tmp_path):
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    config["strategies"]["global_oneshot"]["groups"] = ["backbone_bsae"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    proc = snakemake("-n", "--configfile", str(bad), check=False)
    assert proc.returncode != 0 and "backbone_bsae" in proc.stdout + proc.stderr


def test_transfer_of_a_ticket_that_is_not_made_is_rejected_at_start(tmp_path):
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    config["task_transfers"]["task_transfer"]["prune_percent"] = 50
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    proc = snakemake("-n", "--configfile", str(bad), check=False)
    assert proc.returncode != 0
    assert "prune_percent 50 is not in experiments.mask_rcnn.prune_percents" in proc.stdout + proc.stderr


@pytest.mark.parametrize(("change", "message"), [
    (lambda c: c["models"]["faster_rcnn_r18_c4"].update(pretrained="resnet99"),
     "models.faster_rcnn_r18_c4.pretrained 'resnet99' is not a key of `classifiers`"),
    (lambda c: c["classifiers"]["resnet18_w16"].update(weights="/nonexistent/resnet18.pth"),
     "classifiers.resnet18_w16.weights /nonexistent/resnet18.pth does not exist"),
])
def test_bad_classifier_config_is_rejected_at_start(change, message, tmp_path):
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    change(config)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    proc = snakemake("-n", "--configfile", str(bad), check=False)
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr


def test_imported_classifier_replaces_its_training_job(tmp_path):
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    (tmp_path / "resnet18.pth").write_bytes(b"")  # existence is checked at start; the fit by the job
    config["classifiers"]["resnet18_w16"]["weights"] = str(tmp_path / "resnet18.pth")
    del config["classifiers"]["resnet18_w16"]["tickets"]  # tickets need the workflow's own dense run
    del config["imagenet_transfers"]["imagenet_ticket_faster"]
    config["comparisons"]["direct_vs_imagenet"]["experiments"].remove("imagenet_ticket_faster")
    config["results_dir"] = str(tmp_path / "results")
    imported = tmp_path / "imported.yaml"
    imported.write_text(yaml.safe_dump(config))
    proc = snakemake("-n", "--configfile", str(imported), "--printshellcmds")
    assert "train_classifier" not in proc.stdout
    assert f"--pretrained {tmp_path / 'resnet18.pth'}" in proc.stdout


def test_imported_ticket_replaces_the_imp_rounds(tmp_path):
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    (tmp_path / "ticket.pth").write_bytes(b"")
    config["classifiers"]["resnet18_w16"]["imported_tickets"] = [{"prune_percent": 80, "weights": str(tmp_path / "ticket.pth")}]
    del config["classifiers"]["resnet18_w16"]["tickets"]
    config["results_dir"] = str(tmp_path / "results")
    (tmp_path / "imported.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake("-n", "--quiet", "rules", "--configfile", str(tmp_path / "imported.yaml"))
    assert "import_ticket" in proc.stdout and "train_classifier_round" not in proc.stdout
    config["imagenet_transfers"]["imagenet_ticket_faster"]["prune_percents"] = [80, 90]
    (tmp_path / "missing.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake("-n", "--configfile", str(tmp_path / "missing.yaml"), check=False)
    assert proc.returncode != 0 and "no ticket of classifiers.resnet18_w16 at [90]%" in proc.stdout + proc.stderr


def test_lint_is_clean():
    proc = snakemake("--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


TINY_RUN = ("--configfile", "config/tiny.yaml")


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory) -> Path:
    """The tiny config run end to end once for the tests that read its outputs."""
    results = tmp_path_factory.mktemp("tiny") / "results"
    snakemake("--cores", "2", *TINY_RUN, "--config", f"results_dir={results}")
    return results


@pytest.mark.slow
def test_tiny_config_end_to_end(tiny_results):
    results = tiny_results
    for exp in ("oneshot", "iterative", "mask_rcnn", "keypoint_rcnn"):
        assert (results / f"tables/{exp}.csv").is_file() and (results / f"figures/{exp}.png").is_file()
        assert "Network sparsity" in (results / f"tables/{exp}.md").read_text()
    run = results / "runs/faster_rcnn_r18_c4/seed0"
    # The classifier stage ran and its weights started the Faster R-CNN's backbone.
    classifier = json.loads((results / "classifiers/resnet18_w16/dense/train.json").read_text())
    assert classifier["iterations"] == 4 and len(classifier["classes"]) == 10
    dense_report = json.loads((run / "dense/train.json").read_text())
    assert dense_report["pretrained"] == str(results / "classifiers/resnet18_w16/dense/weights.pth")
    # Its 80% ImageNet ticket: 2 IMP rounds from the rewind point, shortcuts dense, zeros verified.
    ticket = results / "classifiers/resnet18_w16/imagenet_ticket/p80"
    first, _ = load_masks(ticket / "round1/mask.npz")
    final, meta = load_masks(ticket / "round2/mask.npz")
    assert all(bool((final[n] <= first[n]).all()) for n in first) and meta["round"] == 2
    assert not any(".downsample." in n for n in final) and "conv1.weight" in final and "fc.weight" not in final
    assert sum(int((~m).sum()) for m in final.values()) == round(0.8 * sum(m.numel() for m in final.values()))
    assert zeros_violations(load_state_dict(ticket / "round2/weights.pth"), final) == {}
    assert json.loads((ticket / "round2/train.json").read_text())["start_iter"] == 1
    # Ticket transfer: the ticket's mask under detector names, its weights as the backbone, zeros kept.
    for name, source_weights in (("imagenet_ticket_faster", ticket / "round2/weights.pth"),
                                 ("imagenet_mask_faster", results / "classifiers/resnet18_w16/dense/weights.pth")):
        assert "Network sparsity" in (results / f"tables/{name}.md").read_text()
        detector_run = run / f"imagenet_transfers/{name}/p80"
        detector_masks, _ = load_masks(detector_run / "mask.npz")
        assert all(n.startswith(("backbone.", "roi_head.shared_head.layer4.")) for n in detector_masks)
        assert zeros_violations(load_state_dict(detector_run / "weights.pth"), detector_masks) == {}
        report = json.loads((detector_run / "train.json").read_text())
        assert report["pretrained"] == str(source_weights)
        assert report["network"]["pruned"] == sum(int((~m).sum()) for m in detector_masks.values())
    fig6 = (results / "tables/direct_vs_imagenet.md").read_text()
    assert all(label in fig6 for label in ("Direct pruning", "ImageNet ticket", "Mask transfer"))  # in words
    assert (results / "figures/direct_vs_imagenet.png").read_bytes()[:4] == b"\x89PNG"
    # Mask transfer (layer-wise here): 80% of every backbone conv but the shortcuts, no retraining.
    mask_only, _ = load_masks(run / "imagenet_transfers/imagenet_mask_faster/p80/mask.npz")
    assert all(int((~m).sum()) == round(0.8 * m.numel()) for m in mask_only.values())
    for ticket in ("global_oneshot/p90/round1", "all_iterative/p80/round1", "all_iterative/p80/round2"):
        masks, meta = load_masks(run / ticket / "mask.npz")
        assert zeros_violations(load_state_dict(run / ticket / "weights.pth"), masks) == {}
        report = json.loads((run / ticket / "mask.json").read_text())
        assert report["network"]["pruned"] == sum(int((~m).sum()) for m in masks.values())
    oneshot, meta = load_masks(run / "global_oneshot/p90/round1/mask.npz")
    assert meta["exclude"] == [r"\.downsample\."] and not any(".downsample." in n for n in oneshot)
    # Iterative: round 2 prunes a superset of round 1 and reaches the target exactly.
    m1, _ = load_masks(run / "all_iterative/p80/round1/mask.npz")
    m2, meta2 = load_masks(run / "all_iterative/p80/round2/mask.npz")
    assert all(bool((m2[n] <= m1[n]).all()) for n in m1)
    total = sum(m.numel() for m in m2.values())
    assert all(int((~m).sum()) == round(0.8 * m.numel()) for m in m2.values())  # layerwise, exact per tensor
    metrics = json.loads((run / "global_oneshot/p90/round1/metrics.json").read_text())
    assert {"mAP", "AP50", "AP_small", "per_category"} <= set(metrics["bbox"]) and metrics["voc"] is not None
    assert metrics["segm"] is None and metrics["keypoints"] is None  # Faster R-CNN: boxes only
    raw = json.loads((run / "global_oneshot/p90/round1/detections/bbox.json").read_text())
    raw_files = (run / "global_oneshot/p90/round1/detections").iterdir()
    assert [p.name for p in raw_files if not p.name.startswith(".")] == ["bbox.json"]  # hidden: Snakemake stamp
    assert metrics["bbox"]["detections"] == len(raw)
    # Mask R-CNN on COCO-format data: every conv/linear weight ranked, boxes and masks evaluated.
    mask_run = results / "runs/mask_rcnn_r18_fpn/seed0/whole_network_global/p80/round1"
    masks, _ = load_masks(mask_run / "mask.npz")
    assert any(name.startswith("roi_head.mask_head.") for name in masks)
    assert zeros_violations(load_state_dict(mask_run / "weights.pth"), masks) == {}
    metrics = json.loads((mask_run / "metrics.json").read_text())
    assert metrics["segm"] is not None and metrics["voc"] is None and metrics["keypoints"] is None
    segm = json.loads((mask_run / "detections/segm.json").read_text())
    assert metrics["segm"]["detections"] == len(segm) and all("counts" in r["segmentation"] for r in segm)
    assert "segm mAP" in (results / "tables/mask_rcnn.md").read_text()
    # Keypoint R-CNN: its keypoint head is pruned too, keypoints evaluated with COCO's sigmas.
    kp_run = results / "runs/keypoint_rcnn_r18_fpn/seed0/whole_network_global/p80/round1"
    masks, _ = load_masks(kp_run / "mask.npz")
    assert any(name.startswith("roi_head.keypoint_head.") for name in masks)
    assert zeros_violations(load_state_dict(kp_run / "weights.pth"), masks) == {}
    metrics = json.loads((kp_run / "metrics.json").read_text())
    assert metrics["keypoints"] is not None and metrics["segm"] is None
    assert set(metrics["keypoints"]["per_category"]) == {"person"}
    keypoints = json.loads((kp_run / "detections/keypoints.json").read_text())
    assert metrics["keypoints"]["detections"] == len(keypoints) and all(len(r["keypoints"]) == 51 for r in keypoints)
    assert "keypoints mAP" in (results / "tables/keypoint_rcnn.md").read_text()
    # Table 5: each ticket moved into the other model up to the box head, trained, next to the direct ones.
    moved = results / "runs/keypoint_rcnn_r18_fpn/seed0/task_transfers/task_transfer/from_mask_rcnn"
    masks, _ = load_masks(moved / "mask.npz")
    assert masks and not any(n.startswith(("roi_head.mask_head.", "roi_head.keypoint_head.")) for n in masks)
    assert zeros_violations(load_state_dict(moved / "weights.pth"), masks) == {}
    assert any(".fc_cls." in n for n in json.loads((moved / "transfer.json").read_text())["kept_target"])
    table = (results / "tables/task_transfer.md").read_text()
    for target, source in (("Det", "Det/Seg"), ("Det", "Keypoint"), ("Seg", "Keypoint"), ("Keypoint", "Det/Seg")):
        assert re.search(rf"\| {target} +\| {re.escape(source)} +\|", table), (target, source)
    # `start: init` (as the paper config): the mask on the target's initial weights (its dense run's
    # iteration-0 snapshot), trained for the whole schedule with the transfer's own warm-up.
    init = load_state_dict(moved / "init.pth")
    snapshot = load_state_dict(results / "runs/keypoint_rcnn_r18_fpn/seed0/dense/snapshots/iter0.pth")
    assert all(torch.equal(init[n], snapshot[n] * masks[n]) if n in masks else torch.equal(init[n], snapshot[n])
               for n in snapshot)
    report = json.loads((moved / "train.json").read_text())
    assert report["start_iter"] == 0 and report["iterations"] == 6 and report["zeros_violations"] == {}
    dumped = [f.read_text() for f in (moved / "work").rglob("*.py")]  # the config MMEngine trained with
    assert dumped and all(re.search(r"\bend=2\b", text) for text in dumped)  # the transfer's warm-up
    # Fig 3 rule: changes against each experiment's own dense model, on the metric both share.
    comparison = (results / "tables/faster_vs_mask.md").read_text()
    assert "bbox mAP change" in comparison and "segm mAP change" not in comparison
    assert (results / "figures/faster_vs_mask.png").is_file()
    assert total > 0


@pytest.mark.slow
def test_tiny_config_ablations_end_to_end(tiny_results):
    """Every §4.3 ablation of config/tiny.yaml ran: its table and figure, its branches' files."""
    results, run = tiny_results, tiny_results / "runs/faster_rcnn_r18_c4/seed0"
    for name in yaml.safe_load((REPO / "config/tiny.yaml").read_text())["ablations"]:
        assert (results / f"tables/{name}.csv").is_file() and (results / f"figures/{name}.png").is_file(), name
    # Table 3: every combination of rpn and box_head, in the paper's order after the dense row.
    table3 = (results / "tables/table3_modules.md").read_text().splitlines()
    rows = [[cell.strip() for cell in line.split("|")[1:5]] for line in table3 if line.startswith(("| -", "| ✓"))]
    assert rows == [["-", "-", "-", "-"], ["-", "-", "-", "✓"], ["-", "-", "✓", "-"], ["-", "-", "✓", "✓"]]
    # Fig 2b / 2f: the dense run saved the snapshots they start from or rank on (iterations 0 and 3 of 6).
    snapshots = sorted(p.name for p in (run / "dense/snapshots").iterdir() if not p.name.startswith("."))
    assert snapshots == ["iter0.pth", "iter3.pth"]  # (.snakemake_timestamp: Snakemake's mark of a folder output)
    ticket = run / "global_oneshot/p90/round1"
    masks, _ = load_masks(ticket / "mask.npz")
    for branch in ("rewind0", "early_bird50", "random_mask", "reinit"):
        branch_masks, _ = load_masks(ticket / f"branches/{branch}/mask.npz") if branch in (
            "early_bird50", "random_mask") else (masks, None)
        assert zeros_violations(load_state_dict(ticket / f"branches/{branch}/weights.pth"), branch_masks) == {}, branch
    report = json.loads((ticket / "branches/rewind0/train.json").read_text())
    assert report["start_iter"] == 0 and report["init"].endswith("dense/snapshots/iter0.pth")
    random_masks, _ = load_masks(ticket / "branches/random_mask/mask.npz")
    assert {n: int((~m).sum()) for n, m in random_masks.items()} == {n: int((~m).sum()) for n, m in masks.items()}
    assert "Mask IoU" in (results / "tables/fig2f_early_bird.md").read_text()
    assert "Winning ticket" in (results / "tables/ticket_controls.md").read_text()


@pytest.mark.slow
def test_tiny_config_analyses_end_to_end(tiny_results):
    """Every §4.4 analysis of config/tiny.yaml ran: its table and figure, the per-run error files; the
    object-size table holds the dense run's own COCO numbers."""
    results = tiny_results
    analyses = yaml.safe_load((REPO / "config/tiny.yaml").read_text())["analyses"]
    for name in analyses:
        assert (results / f"tables/{name}.csv").is_file() and (results / f"tables/{name}.md").is_file(), name
        assert (results / f"figures/{name}.png").read_bytes()[:4] == b"\x89PNG", name
    mask = results / "runs/mask_rcnn_r18_fpn/seed0"
    # Fig 4: the dense AP of each size is 100 x the dense run's metrics.json (bbox AP_small exactly).
    sizes = pd.read_csv(results / "tables/fig4_object_size.csv")
    dense = json.loads((mask / "dense/metrics.json").read_text())
    small = sizes[(sizes.task == "bbox") & (sizes.bucket == "small")]
    assert small.dense_ap_mean.tolist() == pytest.approx([100 * dense["bbox"]["AP_small"]], abs=1e-4)
    for row in sizes.itertuples():
        assert row.dense_ap_mean == pytest.approx(100 * dense[row.task][f"AP_{row.bucket}"], abs=1e-4)
    assert set(sizes.task) == {"bbox", "segm"}  # every task the Mask R-CNN has
    # Fig 5: categories with their training instances; the easy and the hard one.
    frequency = pd.read_csv(results / "tables/fig5a_category_frequency.csv")
    assert frequency.train_instances.is_monotonic_increasing and set(frequency.prune_percent) == {80}
    assert list(pd.read_csv(results / "tables/fig5b_category_difficulty.csv").group) == ["easy", "hard"]
    # Figs 7-8: TIDE of the dense run and the ticket, one file per run beside its metrics.
    for name, run, task in (("fig7_tide_bbox", results / "runs/faster_rcnn_r18_c4/seed0", "bbox"),
                            ("fig8_tide_segm", mask, "segm")):
        ticket = "global_oneshot/p90/round1" if task == "bbox" else "whole_network_global/p80/round1"
        tide = pd.read_csv(results / f"tables/{name}.csv")
        for folder, prune in (("dense", 0), (ticket, 90 if task == "bbox" else 80)):
            errors = json.loads((run / folder / f"errors/tide_{task}.json").read_text())
            cells = tide[tide.prune_percent == prune].set_index("measure").value_mean
            assert cells["AP50"] == pytest.approx(errors["AP50"], abs=1e-4)
            assert cells["Loc"] == pytest.approx(errors["main_errors"]["Loc"], abs=1e-4)
    # Fig 9: keypoint error types, AP per fix and the PR curves of both runs.
    keypoints = pd.read_csv(results / "tables/fig9_keypoint_errors.csv")
    assert {"Good", "Jitter", "Inversion", "Swap", "Miss", "original", "background FPs"} <= set(keypoints.measure)
    kp_run = results / "runs/keypoint_rcnn_r18_fpn/seed0"
    for folder in ("dense", "whole_network_global/p80/round1"):
        assert (kp_run / folder / "errors/keypoints.json").is_file() and (kp_run / folder / "errors/keypoints_pr.csv").is_file()
    table = (results / "tables/fig9_keypoint_errors.md").read_text()
    assert "| Dense " in table and "| 80% ticket (" in table
    # Fig 10: every training job measured its validation loss; a ticket's curve starts at its rewind
    # iteration, at the dense run's iterations (one interval for both).
    faster = results / "runs/faster_rcnn_r18_c4/seed0"
    dense_curve = json.loads((faster / "dense/val_loss.json").read_text())
    ticket_curve = json.loads((faster / "global_oneshot/p90/round1/val_loss.json").read_text())
    assert dense_curve[0]["iter"] == 0 and dense_curve[-1]["iter"] == dense_curve[-1]["max_iters"]
    assert ticket_curve[0]["iter"] == json.loads((faster / "global_oneshot/p90/round1/train.json").read_text())["start_iter"]
    assert {e["iter"] for e in ticket_curve} <= {e["iter"] for e in dense_curve}
    convergence = pd.read_csv(results / "tables/fig10_convergence.csv")
    assert set(convergence.run) == {"dense", "ticket 90%"}
    assert convergence[convergence.run == "dense"].loss_mean.tolist() == pytest.approx([e["loss"] for e in dense_curve])


@pytest.mark.slow
def test_tiny_config_paper_tables_and_claims(tiny_results):
    """Each paper-layout table the tiny config fills: every cell it has a result for is the number of the
    entry's own table, beside the published value; every claim of the paper gets a verdict."""
    results = tiny_results
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    for table in plan.paper_tables(config):
        frame = pd.read_csv(results / f"paper/{table}.csv")
        assert (results / f"paper/{table}.md").read_text().startswith("### Table"), table
        filled = frame[frame.entry.notna()]
        assert not filled.empty and set(filled.entry) <= set(plan.paper_table_entries(config, table)), table
        assert (filled.difference - (filled.ours - filled.paper)).abs().max() < 1e-3, table
    voc = pd.read_csv(results / "tables/imagenet_ticket_faster.csv").set_index("prune_percent")
    table1 = pd.read_csv(results / "paper/table1.csv")
    cell = table1[(table1.row == "80%") & (table1.column == "VOC Detection: mAP")].iloc[0]
    assert cell.ours == pytest.approx(voc.loc[80, "VOC mAP_mean"], abs=1e-3) and cell.paper == 65.82
    sparsity = table1[(table1.row == "80%") & (table1.column == "VOC Detection: Network sparsity")].iloc[0]
    assert sparsity.ours == pytest.approx(voc.loc[80, "network_sparsity_mean"], abs=1e-3)
    claims = pd.read_csv(results / "paper/claims.csv")
    assert len(claims) == len(CLAIMS) and set(claims.verdict) <= {"holds", "does not hold", "within noise",
                                                                  "not produced"}
    assert (results / "paper/claims.md").read_text().startswith("### Claims of the paper")
    assert json.loads((results / "paper/config.json").read_text())["results_dir"] == str(results)
    transfer = pd.read_csv(results / "tables/task_transfer.csv")
    table5 = pd.read_csv(results / "paper/table5.csv")
    own = transfer[(transfer.target_task == "Keypoint") & (transfer.source_task == "Keypoint")].iloc[0]
    cell = table5[(table5.row == "Keypoint ← Keypoint") & (table5.column == "mAP")].iloc[0]
    assert cell.ours == pytest.approx(own.mAP_mean, abs=1e-3) and cell.paper == 59.34


def _report_results(html: str, variable: str) -> dict:
    """A JSON object the Snakemake report embeds in its page (`var results = {...};`)."""
    return json.loads(re.search(rf"var {variable} = (\{{.*?\}});\n", html, re.S).group(1))


@pytest.mark.slow
def test_report_holds_every_table_and_figure_with_its_caption(tiny_results, tmp_path):
    config = yaml.safe_load((REPO / "config/tiny.yaml").read_text())
    snakemake("--report", str(tmp_path / "report.zip"), *TINY_RUN, "--config", f"results_dir={tiny_results}")
    with zipfile.ZipFile(tmp_path / "report.zip") as archive:
        html = archive.read("report/report.html").decode()
        stored = {Path(name).name for name in archive.namelist()}
    entries = _report_results(html, "results")
    paper = {Path(path).name: entry for path, entry in entries.items() if Path(path).parent.name == "paper"}
    results = {Path(path).name: entry for path, entry in entries.items() if Path(path).parent.name != "paper"}
    # The paper side by side: its tables this config fills and the claims, first in the report.
    assert set(paper) == {f"{name}.{ext}" for name in [*plan.paper_tables(config), "claims"] for ext in ("csv", "md")}
    for file, entry in paper.items():
        assert entry["labels"]["result"] == file.rsplit(".", 1)[0] and "How to read it" in entry["caption"], file
    # Every table and figure the workflow makes (all its summaries are targets of `all`), and only those.
    expected = {f"{name}.{ext}" for section in ("experiments", "imagenet_transfers", "comparisons")
                for name in config[section] for ext in ("csv", "md", "png")}
    expected |= {f"{name}.{ext}" for name in config["task_transfers"] for ext in ("csv", "md")}
    expected |= {f"{name}.{ext}" for name in config["ablations"] for ext in ("csv", "md", "png")}
    expected |= {f"{name}.{ext}" for name in config["analyses"] for ext in ("csv", "md", "png")}
    assert set(results) == expected and expected <= stored
    papers = {name: entry.get("paper", "no paper item (none named in the config)")
              for section in ("experiments", "imagenet_transfers", "comparisons", "task_transfers", "ablations",
                              "analyses")
              for name, entry in config[section].items()}
    kinds = {"csv": "table (CSV)", "md": "table (Markdown)", "png": "figure"}
    source = f"config/tiny.yaml, --config results_dir={tiny_results}"
    for file, entry in results.items():
        name, ext = file.rsplit(".", 1)
        assert entry["labels"] == {"result": name, "file": kinds[ext], "config": source}
        caption = entry["caption"]
        assert f"reproduces <strong>{papers[name]}</strong>" in caption, (file, caption)
        assert "How to read it" in caption and "What the paper found" in caption and str(tiny_results) in caption
    categories = _report_results(html, "categories")
    assert set(categories) == {"Claims and the paper's tables", "Direct pruning", "ImageNet ticket transfer",
                               "ImageNet mask transfer", "Comparisons", "Task transfer",
                               "Direct pruning ablations (§4.3)", "§4.4 analyses"}
    assert set(categories["Claims and the paper's tables"]) == {"Claims", *(f"Table {t[-1]}" for t in
                                                                           plan.paper_tables(config))}
    assert set(categories["Direct pruning"]) == {"Fig 2a", "Fig 2d", "Fig 1"}
    assert set(categories["Direct pruning ablations (§4.3)"]) == {
        "Table 3", "Fig 2b", "Fig 2c", "Fig 2d", "Fig 2e", "Fig 2f", "no paper item named"}
    assert set(categories["§4.4 analyses"]) == {"Fig 4", "Fig 5a", "Fig 5b", "Fig 7", "Fig 8", "Fig 9", "Fig 10"}
    assert "System Message" not in html  # every caption is valid reStructuredText


@pytest.mark.slow
def test_inspect_checks_every_weights_file_of_the_tiny_results(tiny_results):
    """`python -m lthsteps.inspect` over the tiny run's results tree: every run recognised, every weights
    file with a mask exactly zero off it (docs/inspect.md)."""
    proc = subprocess.run([sys.executable, "-m", "lthsteps.inspect", str(tiny_results), "--json"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    tree = json.loads(proc.stdout)
    assert tree["type"] == "TreeSummary" and tree["ok"] and tree["offending"] == []
    runs = {Path(run["path"]).relative_to(tiny_results).as_posix(): run for run in tree["runs"]}
    assert {"dense", "round", "branch", "imagenet_transfer", "task_transfer"} <= {r["kind"] for r in runs.values()}
    ticket = runs["runs/faster_rcnn_r18_c4/seed0/global_oneshot/p90/round1"]
    assert ticket["mask"]["pruned"] == json.loads((tiny_results / "runs/faster_rcnn_r18_c4/seed0/global_oneshot/p90/"
                                                                    "round1/mask.json").read_text())["network"]["pruned"]
    assert ticket["weights"][0]["violations"] == {} and "bbox mAP" in ticket["metrics"]
    for path, run in runs.items():  # every weights file but a dense run's is under a mask, found and checked
        assert all(w["mask"] is not None for w in run["weights"]) == (run["kind"] != "dense"), path
    assert tree["weights_checked"] == sum(len(r["weights"]) for r in runs.values() if r["kind"] != "dense") > 0
