"""Reading and writing weight files: plain tensor dicts and MMEngine checkpoints."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch

from lthsteps.files import atomic_write

# Weights files are never unpickled with weights_only=False: a pickle can run any code. Plain tensor
# dicts load with torch's weights-only unpickler; MMEngine checkpoints (meta, message hub, optimizer
# state) with it plus an allow-list of the types they hold.
_MMENGINE_KEYS = ("state_dict", "meta", "message_hub")
ACCEPTED = ("a dict of tensors (torch.save(model.state_dict(), path)) or an MMEngine/MMDetection checkpoint "
            "(with `state_dict`)")


class WeightsFileError(ValueError):
    """A file that is not a weights file this workflow loads, with what it holds and what is accepted."""


def mmengine_safe_globals() -> list:
    """What an MMEngine checkpoint holds besides tensors: numpy arrays and scalars (log statistics),
    MMEngine's HistoryBuffer, whose statistic methods it pickles as ``getattr(HistoryBuffer, name)``
    (allowed for that class only, under the name ``builtins.getattr``)."""
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    def history_buffer_method(owner, name: str):
        if owner is HistoryBuffer and not name.startswith("_"):
            return getattr(owner, name)
        raise pickle.UnpicklingError(f"getattr({owner!r}, {name!r}) is not allowed in a weights file")

    dtypes = [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith("DType")]
    return [np._core.multiarray._reconstruct, np._core.multiarray.scalar, np.ndarray, np.dtype, *dtypes,
            HistoryBuffer, (history_buffer_method, "builtins.getattr")]


def load_checkpoint(path: str | os.PathLike, map_location="cpu"):
    """The object in a weights file, by torch's weights-only unpickler: a tensor dict as it is, an
    MMEngine checkpoint through the allow-list of ``mmengine_safe_globals``. Anything else raises
    WeightsFileError naming the file, what it holds and what is accepted; no code in it runs."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist: check the path, or run the rule that makes it")
    try:
        try:
            return torch.load(path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError:
            with torch.serialization.safe_globals(mmengine_safe_globals()):
                return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch's errors, turned into one that names the file and the fix
        reason = _reason(err)
        if isinstance(err, pickle.UnpicklingError) and reason.startswith(_REFUSED_OBJECT):
            raise WeightsFileError(f"{path} holds objects a weights file has no need of ({reason}); it was not "
                                   f"loaded, nothing in it ran. The workflow accepts {ACCEPTED}: save the model's "
                                   "state_dict alone") from None
        raise WeightsFileError(f"{path} is not a readable PyTorch weights file ({reason}): it may be truncated or "
                               f"another kind of file; copy or make it again. The workflow accepts {ACCEPTED}") from None


# How torch's weights-only unpickler words a refused object (other errors mean a damaged file).
_REFUSED_OBJECT = ("Unsupported global", "Can only build", "Can only create new object", "Trying to call reduce",
                   "Trying to load unsupported GLOBAL")


def _reason(err: Exception) -> str:
    """torch's reason (the line after "WeightsUnpickler error:"), without its advice to retry with
    weights_only=False."""
    text = str(err)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensor dict of a weights file: a plain ``{name: tensor}`` file or an MMEngine checkpoint."""
    obj = load_checkpoint(path)
    if isinstance(obj, dict) and "state_dict" in obj and any(k in obj for k in _MMENGINE_KEYS):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsFileError(f"{path} is not a weights file: it holds a {type(obj).__name__}, not {ACCEPTED}")
    return dict(obj)


def save_state_dict(path: str | os.PathLike, state_dict: dict[str, torch.Tensor]) -> None:
    """Write a plain ``{name: tensor}`` file atomically (no partial file on failure)."""
    atomic_write(path, lambda tmp: torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, tmp))
