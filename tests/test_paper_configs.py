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
