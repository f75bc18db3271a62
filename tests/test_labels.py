"""Figure words (lthsteps.labels) and the rules' figure arguments (lthsteps.figure_args)."""
from __future__ import annotations

import shlex

import pytest
import yaml

from lthsteps import labels
from lthsteps.figure_args import comparison_args, summary_args
from lthsteps.labels import (in_sentence, join_models, method_label, model_label, paper_legend, paper_points,
                             paper_selection, series_labels, task_label)

from conftest import REPO


@pytest.mark.parametrize("name, label", [
    ("mask_rcnn_r18_fpn", "Mask R-CNN R18"), ("mask_rcnn_r50_fpn", "Mask R-CNN R50"),
    ("faster_rcnn_r18_c4", "Faster R-CNN R18"), ("keypoint_rcnn_r50_fpn_coco", "Keypoint R-CNN R50"),
    ("faster_rcnn_r18_c4_voc", "Faster R-CNN R18"), ("mask_rcnn_r18_direct_pruning", "Mask R-CNN R18"),
    ("Keypoint R-CNN R18", "Keypoint R-CNN R18"),
    # names it cannot read: the key itself
    ("direct_pruning", "direct_pruning"), ("retinanet_r18", "retinanet_r18"), ("mask_rcnn_x101", "mask_rcnn_x101"),
])
def test_model_label(name, label):
    assert model_label(name) == label


def test_method_and_task_labels():
    assert method_label("experiments") == "Direct pruning"
    assert method_label("imagenet_transfers", "ticket") == "ImageNet ticket"
    assert method_label("imagenet_transfers", "mask") == "Mask transfer"
    assert method_label("dense") == "Dense"
    assert method_label("direct_pruning") == "Direct pruning"  # a method key as is
    with pytest.raises(ValueError, match="no method"):
        method_label("imagenet_transfers", "weights")
    assert [task_label(t) for t in ("bbox", "segm", "keypoints", "VOC", "voc", "other")] == [
        "Detection", "Segmentation", "Keypoints", "VOC detection", "VOC detection", "other"]
    assert labels.axis_label("mAP") == "mAP" and labels.axis_label("AP50") == "AP50"
    assert labels.axis_label("mAP change") == "Change in mAP (points)"
    assert labels.metric_parts("VOC mAP change") == ("VOC", "mAP change")
    assert labels.dataset_label("coco") == "COCO" and labels.dataset_label("voc", True) == "generated VOC-format data"
    assert in_sentence("Direct pruning") == "direct pruning" and in_sentence("ImageNet ticket") == "ImageNet ticket"


def test_series_labels_and_joined_models():
    assert series_labels([("Mask R-CNN R18", "Direct pruning"), ("Mask R-CNN R18", "ImageNet ticket")]) == [
        "Direct pruning", "ImageNet ticket"]
    assert series_labels([("Mask R-CNN R18", "Direct pruning"), ("Mask R-CNN R50", "Direct pruning")]) == [
        "Mask R-CNN R18", "Mask R-CNN R50"]
    assert series_labels([("Faster R-CNN R18", "Direct pruning"), ("Mask R-CNN R18", "Mask transfer")]) == [
        "Faster R-CNN R18, direct pruning", "Mask R-CNN R18, mask transfer"]
    assert series_labels([("M", "Direct pruning"), ("M", "Direct pruning")]) == [
        "Direct pruning (1)", "Direct pruning (2)"]
    assert join_models(["Mask R-CNN R18", "Mask R-CNN R50"]) == "Mask R-CNN R18 vs R50"
    assert join_models(["Faster R-CNN R18", "Mask R-CNN R18"]) == "Faster R-CNN R18 vs Mask R-CNN R18"
    assert join_models(["Mask R-CNN R18", "Mask R-CNN R18"]) == "Mask R-CNN R18"


def _items(selection):
    return [(s["item"], s["method"], s.get("row")) for s in selection]


def test_paper_selection_maps_model_and_method_to_the_papers_tables():
    assert _items(paper_selection("Mask R-CNN R18", "imagenet_ticket")) == [
        ("table1", "dense", None), ("table1", "imagenet_ticket", None)]
    assert _items(paper_selection("Keypoint R-CNN R50", "imagenet_ticket")) == [
        ("table2", "dense", None), ("table2", "imagenet_ticket", None)]
    assert _items(paper_selection("Mask R-CNN R50", "mask_transfer")) == [
        ("table4", "dense", None), ("table4", "mask_transfer", None)]
    assert _items(paper_selection("Faster R-CNN R18", "imagenet_ticket")) == [
        ("table1", "dense", None), ("table1", "imagenet_ticket", None)]
    assert _items(paper_selection("Mask R-CNN R18", "direct_pruning")) == [
        ("table1", "dense", None), ("table5", "direct_pruning", "own")]
    assert _items(paper_selection("Faster R-CNN R18", "direct_pruning")) == [
        ("table3", "dense", "none"), ("table3", "module_pruning", "Base + Top")]
    # no published numbers of the method: the paper's dense model alone; none for what it never trained
    assert _items(paper_selection("Mask R-CNN R18", "mask_transfer")) == [("table1", "dense", None)]
    assert _items(paper_selection("Mask R-CNN R50", "direct_pruning")) == [("table2", "dense", None)]
    assert paper_selection("Mask R-CNN R101", "imagenet_ticket") == []
    assert paper_selection("direct_pruning", "direct_pruning") == []
    assert paper_selection("mask_rcnn_r18_fpn", "imagenet_ticket") == paper_selection("Mask R-CNN R18",
                                                                                      "imagenet_ticket")


def test_paper_points_pair_each_metric_with_its_network_sparsity():
    points = paper_points("Mask R-CNN R18", "direct_pruning")
    segm = [(p.network_sparsity, p.value) for p in points if p.metric == "segm AP50"]
    assert segm == [(0.0, 46.0), (78.4, 46.68)]  # Table 1 dense, Table 5 own 80%
    assert {p.metric for p in points} == {"bbox mAP", "bbox AP50", "segm mAP", "segm AP50"}
    keypoints = {(p.metric, p.network_sparsity): p.value for p in paper_points("Keypoint R-CNN R18", "direct_pruning")}
    assert keypoints[("keypoints mAP", 79.4)] == 59.34 and keypoints[("keypoints AP50", 79.4)] == 82.36
    voc = [(p.metric, p.network_sparsity, p.value) for p in paper_points("Faster R-CNN R18", "direct_pruning")]
    assert voc == [("VOC mAP", 0.0, 69.74), ("VOC mAP", 70.66, 68.45)]
    ticket = [(p.network_sparsity, p.value) for p in paper_points("Mask R-CNN R18", "imagenet_ticket")
              if p.metric == "bbox mAP"]
    assert ticket == [(0.0, 29.91), (17.57, 28.52), (28.10, 27.70), (31.61, 25.59)]
    assert {p.dataset for p in paper_points("Faster R-CNN R50", "mask_transfer")} == {"voc"}
    assert paper_legend({"coco"}) == "Paper (COCO)" and paper_legend({"voc"}) == "Paper (VOC)"
    assert paper_legend({"coco"}, other_data=True) == "Paper (COCO, other data)"


def _default_config():
    return yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_rule_arguments_of_the_embedded_default():
    config = _default_config()
    args = shlex.split(summary_args(config, "mask_rcnn_r18_direct_pruning"))
    assert args == ["--label", "Direct pruning", "--method", "direct_pruning", "--model-label", "Mask R-CNN R18",
                    "--dataset", "generated COCO-format data", "--paper-points", "--other-data"]
    args = shlex.split(summary_args(config, "faster_rcnn_r18_ticket_transfer"))
    assert args[:6] == ["--label", "ImageNet ticket", "--method", "imagenet_ticket", "--model-label",
                        "Faster R-CNN R18"]
    args = shlex.split(comparison_args(config, "mask_rcnn_r18_ticket_vs_mask_transfer", ["a.csv", "b.csv", "c.csv"]))
    assert args[:6] == ["--table", "Direct pruning=a.csv", "--table", "ImageNet ticket=b.csv", "--table",
                        "Mask transfer=c.csv"]
    assert args[args.index("--title") + 1] == ("Mask R-CNN R18 on generated COCO-format data: "
                                               "direct pruning vs ImageNet ticket vs mask transfer")
    assert "Direct pruning=direct_pruning:Mask R-CNN R18" in args and args[-1] == "--other-data"
    args = shlex.split(comparison_args(config, "mask_rcnn_r18_vs_r50", ["a.csv", "b.csv"]))
    assert args[:4] == ["--table", "Mask R-CNN R18=a.csv", "--table", "Mask R-CNN R50=b.csv"]
    assert args[args.index("--title") + 1].startswith("Mask R-CNN R18 vs R50 on generated COCO-format data: "
                                                      "direct pruning, change in mAP")
    assert "--paper-points" not in args  # the paper publishes no changes


def test_rule_arguments_on_the_papers_data():
    config = yaml.safe_load((REPO / "config/paper/voc_faster_rcnn_r18.yaml").read_text())
    args = shlex.split(summary_args(config, "direct_pruning"))
    assert args == ["--label", "Direct pruning", "--method", "direct_pruning", "--model-label", "Faster R-CNN R18",
                    "--dataset", "VOC", "--paper-points"]


def test_ablation_and_analysis_titles_are_words():
    from lthsteps.figure_args import study_title

    config = {"experiments": {"e": {"model": "faster_rcnn_r18_c4"}, "k": {"model": "keypoint_rcnn_r50_fpn"}},
              "ablations": {"fig2e": {"experiment": "e", "setting": "scope"}},
              "analyses": {"fig9": {"experiment": "k", "analysis": "keypoint_errors"},
                           "fig10": {"experiment": "k", "analysis": "convergence"}}}
    assert study_title(config, "fig2e") == "'Faster R-CNN R18, direct pruning: global vs layer-wise'"
    assert study_title(config, "fig9") == "'Keypoint R-CNN R50, direct pruning: keypoint error types'"
    assert study_title(config, "fig10") == "'Keypoint R-CNN R50, direct pruning'"
