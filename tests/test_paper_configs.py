"""The embedded models keep the paper-scale models' proportions (the paper's own numbers are checked in
test_paper_fidelity). No training, models built on CPU."""
from __future__ import annotations

import pytest

from conftest import REPO
from lthsteps.masks import network_params
from lthsteps.mm import build_model, load_config


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


@pytest.mark.parametrize("config", sorted(p.name for p in (REPO / "config/models").glob("*_tiny.py")))
def test_embedded_configs_keep_their_schedule_from_the_paper_bases(config):
    # They inherit the paper-scale configs; their LR is for their own small batch and must not be
    # scaled to the paper's total batch, nor their RPN take the VOC model's softmax objectness.
    cfg = load_config(REPO / "config/models" / config)
    assert not cfg.get("auto_scale_lr", {}).get("enable", False)
    assert cfg.model.rpn_head.loss_cls.use_sigmoid
