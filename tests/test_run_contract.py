"""The run contract shared by lthsteps.train and lthsteps.classifier, on constructed state dicts."""
from __future__ import annotations

import re

import pytest
import torch

from lthsteps.checkpoints import load_state_dict, save_state_dict
from lthsteps.masks import MaskViolation, save_masks
from lthsteps.run_contract import (check_init_fits, check_rewind_pair, check_schedule, check_weights_file,
                                   check_zero_off_mask, init_mismatch, load_fitting_init, load_fitting_masks,
                                   save_weights_verified)


def state() -> dict[str, torch.Tensor]:
    return {"conv.weight": torch.ones(4, 2, 3, 3), "conv.bias": torch.ones(4), "fc.weight": torch.ones(3, 4)}


def mask() -> dict[str, torch.Tensor]:
    keep = torch.ones(4, 2, 3, 3, dtype=torch.bool)
    keep[0] = False  # the first output channel is pruned: 18 weights
    return {"conv.weight": keep}


def pruned(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    weights["conv.weight"][0] = 0
    return weights


def test_fitting_init_passes_and_is_returned(tmp_path):
    save_state_dict(tmp_path / "init.pth", state())
    init = load_fitting_init(tmp_path / "init.pth", state(), "the model", "hint")
    assert init.keys() == state().keys()
    assert load_fitting_init(None, state(), "the model", "hint") == {}


def test_init_mismatch_names_every_kind_sorted():
    init = state()
    del init["fc.weight"]
    init["extra.b"] = init["extra.a"] = torch.zeros(1)
    init["conv.bias"] = torch.ones(5)
    assert init_mismatch(state(), init) == {"missing": ["fc.weight"], "unexpected": ["extra.a", "extra.b"],
                                            "shape mismatch": ["conv.bias"]}
    assert init_mismatch(state(), state()) == {"missing": [], "unexpected": [], "shape mismatch": []}


def test_init_that_does_not_fit_has_the_exact_message():
    init = {f"other{i}.weight": torch.zeros(1) for i in range(5)} | {"conv.bias": torch.ones(5)}
    message = ("init weights w.pth do not fit resnet18 at width 8 with 10 classes: missing ['conv.weight', "
               "'fc.weight'], unexpected ['other0.weight', 'other1.weight', 'other2.weight'], shape mismatch "
               "['conv.bias'] — give weights of the same architecture")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_init_fits(state(), init, "w.pth", "resnet18 at width 8 with 10 classes",
                        "give weights of the same architecture")


def test_masks_are_loaded_and_checked_against_the_model(tmp_path):
    save_masks(tmp_path / "mask.npz", mask(), {})
    assert torch.equal(load_fitting_masks(tmp_path / "mask.npz", state())["conv.weight"], mask()["conv.weight"])
    assert load_fitting_masks(None, state()) == {}
    save_masks(tmp_path / "other.npz", {"head.weight": torch.ones(2, dtype=torch.bool)}, {})
    with pytest.raises(ValueError, match=r"^mask does not fit the weights \(not in the weights: head\.weight\)"):
        load_fitting_masks(tmp_path / "other.npz", state())


@pytest.mark.parametrize("rewind, start", [(0, 0), (10, 0), (None, 10), (5, 5)])
def test_iterations_inside_training_pass(rewind, start):
    check_schedule(10, rewind, start, has_init=True)


@pytest.mark.parametrize("rewind, start, message", [
    (11, 0, "rewind iteration 11 is outside training (0..10)"),
    (-1, 0, "rewind iteration -1 is outside training (0..10)"),
    (None, 12, "start iteration 12 is outside training (0..10)"),
])
def test_iterations_outside_training_are_rejected(rewind, start, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_schedule(10, rewind, start, has_init=True)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}: set it in the config$"):
        check_schedule(10, rewind, start, has_init=True, hint="set it in the config")


def test_unknown_length_leaves_iterations_unchecked_but_start_needs_init():
    check_schedule(None, 10**9, 10**9, has_init=True)
    with pytest.raises(ValueError, match=r"^--start-iter resumes from rewind weights: give them with --init$"):
        check_schedule(None, None, 3, has_init=False)
    check_schedule(10, 3, 0, has_init=False)  # a dense run from scratch


def test_rewind_iter_and_out_go_together():
    check_rewind_pair(None, None)
    check_rewind_pair(3, "rewind.pth")
    for given in ((3, None), (None, "rewind.pth")):
        with pytest.raises(ValueError, match=r"^--rewind-iter and --rewind-out go together$"):
            check_rewind_pair(*given)


def test_trained_weights_off_the_mask_are_rejected():
    assert check_zero_off_mask(pruned(state()), mask(), "m.npz") == {}
    assert check_zero_off_mask(state(), {}, None) == {}  # a dense run: nothing to check
    with pytest.raises(MaskViolation, match=re.escape(
            "the trained weights: not zero where m.npz prunes: 18 non-zero weights in conv.weight (18): ")):
        check_zero_off_mask(state(), mask(), "m.npz")


def test_saved_weights_are_verified_as_written(tmp_path):
    save_weights_verified(tmp_path / "ok.pth", pruned(state()), mask())
    assert torch.equal(load_state_dict(tmp_path / "ok.pth")["conv.weight"], pruned(state())["conv.weight"])


def test_a_weights_file_nonzero_off_the_mask_is_rejected_and_removed(tmp_path):
    bad = pruned(state())
    bad["conv.weight"][0, 1, 2, 2] = 1e-30  # one tiny non-zero is enough
    save_state_dict(tmp_path / "w.pth", bad)
    with pytest.raises(RuntimeError, match=f"^{re.escape(str(tmp_path / 'w.pth'))} is not zero off-mask after "
                                           "saving; removed it$"):
        check_weights_file(tmp_path / "w.pth", mask())
    assert not (tmp_path / "w.pth").exists()
    with pytest.raises(RuntimeError, match="is not zero off-mask after saving; removed it"):
        save_weights_verified(tmp_path / "w.pth", bad, mask())
    assert list(tmp_path.iterdir()) == []
    save_weights_verified(tmp_path / "dense.pth", bad, {})  # no mask: nothing to verify
    assert (tmp_path / "dense.pth").is_file()
