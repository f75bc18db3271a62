"""Weight files: written with ordinary permissions, plain and MMEngine checkpoints load alike."""
from __future__ import annotations

import os
import stat

import pytest
import torch

from lthsteps.checkpoints import load_state_dict, save_state_dict


def test_saved_weights_follow_the_umask_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        save_state_dict(tmp_path / "w.pth", {"a": torch.zeros(2)})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "w.pth").stat().st_mode) == 0o644


def _message_hub_state() -> dict:
    """What an MMEngine checkpoint's message hub holds: HistoryBuffers of numpy values."""
    import numpy as np
    from mmengine.logging import HistoryBuffer

    loss = HistoryBuffer()
    loss.update(np.float64(0.5))
    return {"log_scalars": {"train/loss": loss}, "runtime_info": {"iter": np.int64(3), "lr": np.array([0.02])}}


def test_mmengine_checkpoint_and_plain_file_give_the_same_tensors(tmp_path):
    state = {"backbone.conv1.weight": torch.randn(4, 3, 3, 3)}
    save_state_dict(tmp_path / "plain.pth", state)
    torch.save({"state_dict": state, "meta": {"iter": 3}, "message_hub": _message_hub_state()}, tmp_path / "ckpt.pth")
    for path in ("plain.pth", "ckpt.pth"):
        loaded = load_state_dict(tmp_path / path)
        assert torch.equal(loaded["backbone.conv1.weight"], state["backbone.conv1.weight"])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_state_dict(tmp_path / "missing.pth")
