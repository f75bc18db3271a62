"""Paper-scale model configs match the paper's structure: network sparsity of a 90% backbone ticket
(Tables 1-2) and the module shares of the VOC Faster R-CNN (Table 3). No training, models built on CPU."""
from __future__ import annotations

import pytest

from conftest import REPO
from lthsteps.masks import network_params, prunable_weights
from lthsteps.mm import build_model, load_config


def _ticket_sparsity(config: str, skip_shortcuts: bool) -> float:
    """Network sparsity (%) when 90% of the backbone's conv weights are pruned."""
    state = build_model(load_config(REPO / "config/models" / config)).state_dict()
    exclude = [r"\.downsample\."] if skip_shortcuts else []
    convs = prunable_weights(state, ["backbone_base", "backbone_top"], ["conv"], exclude)
    pruned = 0.9 * sum(t.numel() for t in convs.values())
    return 100 * pruned / sum(t.numel() for t in network_params(state).values())


@pytest.mark.parametrize("config, paper", [
    ("mask-rcnn_r18-fpn_coco.py", 31.61), ("mask-rcnn_r50-fpn_coco.py", 41.99),
    ("keypoint-rcnn_r18-fpn_coco.py", 21.47), ("keypoint-rcnn_r50-fpn_coco.py", 31.49),
])
def test_backbone_ticket_sparsity_matches_tables_1_and_2(config, paper):
    # The paper's tickets leave the 1x1 projection shortcuts dense (docs/studies/model-configs.md).
    assert _ticket_sparsity(config, skip_shortcuts=True) == pytest.approx(paper, abs=0.1)
    assert _ticket_sparsity(config, skip_shortcuts=False) > paper + 0.3


def test_voc_faster_rcnn_ticket_sparsity_matches_table_1():
    # VOC column of Table 1 (79.49%); in the C4 model layer4 (with its shortcut) is the RoI head.
    assert _ticket_sparsity("faster-rcnn_r18-c4_voc.py", skip_shortcuts=True) == pytest.approx(79.49, abs=0.1)


def _shares(config: str) -> dict[str, float]:
    from lthsteps.masks import group_params

    params = network_params(build_model(load_config(REPO / "config/models" / config)).state_dict())
    total = sum(t.numel() for t in params.values())
    return {group: 100 * sum(params[n].numel() for n in names) / total
            for group, names in group_params(params).items() if names}


@pytest.mark.parametrize("depth", [18, 50])
def test_embedded_mask_rcnn_keeps_the_paper_models_proportions(depth):
    # Pruning results depend on where the weights are: the embedded model is a scaled copy.
    tiny, paper = _shares(f"mask-rcnn_r{depth}-fpn_tiny.py"), _shares(f"mask-rcnn_r{depth}-fpn_coco.py")
    assert tiny.keys() == paper.keys()
    for group in paper:
        assert tiny[group] == pytest.approx(paper[group], abs=2.0), group
