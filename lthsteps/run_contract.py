"""The contract of one training run, the same for detectors (``lthsteps.train``) and the classifier
(``lthsteps.classifier``): a dense run, optionally saving the rewind point, or one round of a
lottery ticket (``--init`` the rewind weights, ``--start-iter`` their iteration, ``--mask``).

Before training every input is checked against the model (:func:`load_fitting_init`,
:func:`load_fitting_masks`, :func:`check_schedule`, :func:`check_rewind_pair`); after training the
weights must be exactly zero off the mask, in memory (:func:`check_zero_off_mask`) and as written
(:func:`save_weights_verified`). One implementation, so both steps fail alike with the same words.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from torch import Tensor

from lthsteps.checkpoints import load_state_dict, save_state_dict
from lthsteps.masks import check_masks_fit, check_zeros, load_masks, zeros_violations

_SHOWN = 3  # names of each kind of mismatch listed in an error message


def init_mismatch(state: Mapping[str, Tensor], init: Mapping[str, Tensor]) -> dict[str, list[str]]:
    """Names the model has and ``init`` lacks, names ``init`` has and the model lacks, and names
    whose shapes differ; each sorted, all empty when ``init`` fits."""
    return {
        "missing": sorted(set(state) - set(init)),
        "unexpected": sorted(set(init) - set(state)),
        "shape mismatch": sorted(k for k in set(state) & set(init) if state[k].shape != init[k].shape),
    }


def check_init_fits(state: Mapping[str, Tensor], init: Mapping[str, Tensor], path: str | os.PathLike, model: str,
                    hint: str) -> None:
    """ValueError unless the weights ``init`` (read from ``path``) fit the model's ``state``.

    ``model`` says what the model is ("resnet18 at width 8 ..."), ``hint`` which weights to give instead.
    """
    mismatch = init_mismatch(state, init)
    if any(mismatch.values()):
        details = ", ".join(f"{kind} {names[:_SHOWN]}" for kind, names in mismatch.items())
        raise ValueError(f"init weights {path} do not fit {model}: {details} — {hint}")


def load_fitting_init(path: str | os.PathLike | None, state: Mapping[str, Tensor], model: str,
                      hint: str) -> dict[str, Tensor]:
    """The ``--init`` weights, checked against the model's ``state`` (empty without ``--init``)."""
    if not path:
        return {}
    init = load_state_dict(path)
    check_init_fits(state, init, path, model, hint)
    return init


def load_fitting_masks(path: str | os.PathLike | None, state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The ``--mask`` masks, checked against the model's ``state`` (empty without ``--mask``)."""
    masks = load_masks(path)[0] if path else {}
    check_masks_fit(masks, state)
    return masks


def check_schedule(max_iters: int | None, rewind_iter: int | None, start_iter: int, has_init: bool,
                   hint: str | None = None) -> None:
    """ValueError unless the rewind and start iterations lie in ``0..max_iters`` (unchecked when
    ``max_iters`` is None) and a round that starts late has its rewind weights (``--init``).

    ``hint`` (where the iterations come from) ends the out-of-range message.
    """
    for what, iteration in (("rewind", rewind_iter), ("start", start_iter)):
        if iteration is not None and max_iters is not None and not 0 <= iteration <= max_iters:
            raise ValueError(f"{what} iteration {iteration} is outside training (0..{max_iters})"
                             + (f": {hint}" if hint else ""))
    if start_iter and not has_init:
        raise ValueError("--start-iter resumes from rewind weights: give them with --init")


def check_rewind_pair(rewind_iter: int | None, rewind_out: str | os.PathLike | None) -> None:
    """ValueError unless ``--rewind-iter`` and ``--rewind-out`` are given together or not at all."""
    if (rewind_iter is None) != (rewind_out is None):
        raise ValueError("--rewind-iter and --rewind-out go together")


def check_zero_off_mask(state: Mapping[str, Tensor], masks: Mapping[str, Tensor],
                        mask: str | os.PathLike | None) -> dict[str, int]:
    """RuntimeError if trained weights are non-zero where the mask (file ``mask``) prunes; else the
    (empty) violations, for the run's report."""
    check_zeros(state, masks, "the trained weights", str(mask))
    return {}


def check_weights_file(path: str | os.PathLike, masks: Mapping[str, Tensor]) -> None:
    """Verify a written weights file, not just the weights in memory: one non-zero off the mask and
    the file is removed (so no later step can use it) and RuntimeError raised."""
    if masks and zeros_violations(load_state_dict(path), masks):
        Path(path).unlink()
        raise RuntimeError(f"{path} is not zero off-mask after saving; removed it")  # a bug, not bad input


def save_weights_verified(path: str | os.PathLike, state: Mapping[str, Tensor], masks: Mapping[str, Tensor]) -> None:
    """Write the final weights (a plain tensor dict) and verify the file under ``masks``."""
    save_state_dict(path, state)
    check_weights_file(path, masks)
