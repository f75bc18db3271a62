"""The mask file format (the project's interface; readable with numpy alone) and its reader/writer.

A mask file is a ``.npz`` written by ``np.savez_compressed`` that loads with
``np.load(path, allow_pickle=False)`` and holds

* ``mask/<param name>``: uint8 array, ``np.packbits(mask.flatten(), bitorder="little")``
  (one bit per weight, row-major order; unpack with ``np.unpackbits(a, count=numel,
  bitorder="little")``);
* ``__meta__``: 0-d unicode array holding a JSON object ``{"format": "lthsteps.masks",
  "version": 1, "names": [...], "shapes": {name: [...]}, **meta}`` where ``meta`` is what the
  writer passed (typically sparsity, scope, groups, kinds, round, rounds, source_checkpoint).
"""
from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from lthsteps.files import atomic_write
from lthsteps.masks.measure import _not_bool, sparsity_report

FORMAT = "lthsteps.masks"
VERSION = 1
_RESERVED_META = ("format", "version", "names", "shapes")
_MASK_PREFIX = "mask/"
_META_KEY = "__meta__"


def save_masks(path: str | os.PathLike, masks: Mapping[str, Tensor], meta: Mapping) -> None:
    """Write ``masks`` and JSON-serialisable ``meta`` atomically in the format of the module doc."""
    reserved = [key for key in meta if key in _RESERVED_META]
    if reserved:
        raise ValueError(f"meta keys {reserved} are reserved by the mask file format: rename them")
    not_bool = _not_bool(masks)
    if not_bool:
        raise ValueError(f"{not_bool[0]}: masks are bool tensors, True = kept; convert them with .bool()")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "names": list(masks),
        "shapes": {name: list(m.shape) for name, m in masks.items()},
        **meta,
    }
    arrays = {
        _MASK_PREFIX + name: np.packbits(m.detach().cpu().numpy().reshape(-1), bitorder="little")
        for name, m in masks.items()
    }
    arrays[_META_KEY] = np.array(json.dumps(header))

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to a bare name
            np.savez_compressed(f, **arrays)

    atomic_write(path, write)


def save_masks_and_report(path: str | os.PathLike, report_path: str | os.PathLike, masks: Mapping[str, Tensor],
                          meta: Mapping, state_dict: Mapping[str, Tensor]) -> dict:
    """Write a mask file and its ``mask.json`` (meta + sparsity report of ``state_dict`` under it)."""
    report = {"meta": dict(meta), **sparsity_report(state_dict, masks)}
    text = json.dumps(report, indent=2)
    save_masks(path, masks, meta)
    atomic_write(report_path, lambda tmp: Path(tmp).write_text(text))
    return report


def load_masks(path: str | os.PathLike) -> tuple[dict[str, Tensor], dict]:
    """Masks and the writer's meta (without the format's own keys) of a mask file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mask file {path} does not exist: check the path, or run the rule that makes it")
    not_a_mask = f"{path} is not a mask file of this workflow: make one with `python -m lthsteps.masks prune`"
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{not_a_mask} ({err})") from err
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"{not_a_mask} (a single .npy array)")
    with npz:
        header = _header(npz, not_a_mask)
        masks = {}
        for name in header["names"]:
            key = _MASK_PREFIX + name
            if key not in npz.files:
                raise ValueError(f"{path} is corrupt: it lists {name} but holds no {key}; regenerate the mask")
            masks[name] = _unpack(npz[key], header["shapes"][name], f"{path} is corrupt: {key}")
    meta = {key: value for key, value in header.items() if key not in _RESERVED_META}
    return masks, meta


def _header(npz: np.lib.npyio.NpzFile, not_a_mask: str) -> dict:
    """The JSON header of an opened mask file, checked for format and version."""
    if _META_KEY not in npz.files:
        raise ValueError(f"{not_a_mask} (no {_META_KEY} entry)")
    try:
        header = json.loads(str(npz[_META_KEY]))
    except ValueError as err:
        raise ValueError(f"{not_a_mask} ({_META_KEY} is not JSON: {err})") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{not_a_mask} (format is not {FORMAT!r})")
    if header.get("version") != VERSION:
        raise ValueError(
            f"{not_a_mask} of version {header.get('version')!r}; this code reads version {VERSION}: "
            "regenerate the mask with this version of the workflow"
        )
    return header


def _unpack(packed: np.ndarray, shape: Sequence[int], where: str) -> Tensor:
    numel = math.prod(shape)
    if packed.dtype != np.uint8 or packed.shape != ((numel + 7) // 8,):
        raise ValueError(f"{where} holds {packed.size} {packed.dtype} values, not the bits of shape {list(shape)}")
    bits = np.unpackbits(packed, count=numel, bitorder="little").astype(bool)
    return torch.from_numpy(bits).reshape(tuple(shape))
