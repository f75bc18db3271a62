"""Reading and writing weight files: plain tensor dicts and MMEngine checkpoints."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

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


def umask() -> int:
    """The process's umask (read without changing it for longer than a call)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call ``write(tmp_path)`` and move the result to ``path`` only if it succeeded."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    # mkstemp makes the file private (0600); results are shared, so give it the usual umask mode.
    os.chmod(tmp, 0o666 & ~umask())
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
