"""Reading and writing weight files: plain tensor dicts and MMEngine checkpoints."""
from __future__ import annotations

import os
from pathlib import Path

import torch

# atomic_write lives in lthsteps.files; imported by name here because save_state_dict uses it and
# lthsteps.tickets / transfer / transfer_table (renamed on another branch) still import it from here.
from lthsteps.files import atomic_write

# MMEngine checkpoints hold non-tensor objects (message hub, meta); torch >= 2.6 refuses them with
# weights_only=True. Only files this workflow wrote itself are loaded with weights_only=False.
_MMENGINE_KEYS = ("state_dict", "meta", "message_hub")


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensor dict of a weights file: a plain ``{name: tensor}`` file or an MMEngine checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist: check the path, or run the rule that makes it")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - retried below with the trusted loader
        obj = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(obj, dict) and "state_dict" in obj and any(k in obj for k in _MMENGINE_KEYS):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{path} is not a weights file: expected a dict of tensors or an MMEngine checkpoint")
    return dict(obj)


def save_state_dict(path: str | os.PathLike, state_dict: dict[str, torch.Tensor]) -> None:
    """Write a plain ``{name: tensor}`` file atomically (no partial file on failure)."""
    atomic_write(path, lambda tmp: torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, tmp))
