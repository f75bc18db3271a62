"""Recognising the folders of a results tree: which run a folder is, which mask its weights are under.

The run folders are those of :mod:`lthsteps.paths`: each pattern below is made by calling its
function with wildcard placeholders (as the rules do), so a change of layout there reaches here.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from lthsteps import paths

MASK = "mask.npz"
MASK_REPORT = "mask.json"
TRAIN_REPORT = "train.json"
METRICS = "metrics.json"
# The weights files of a run folder (docs/results.md), in the order they are shown.
WEIGHTS = ("weights.pth", "rewind.pth", "init.pth")
# Folders of a run that hold no weights file of its own (or only in-round checkpoints): not walked.
NOT_WALKED = ("work", "detections", "errors")

_R = "{results}"
_DETECTOR = paths.detector(_R, "{model}", "{seed}")
_CLASSIFIER = paths.classifier(_R, "{classifier}")
_ROUND = paths.round_dir(_DETECTOR, "{strategy}", "{prune}", "{round}")
# (kind, pattern) in the order they are tried; each names its parts as the paths module does.
_TEMPLATES = (
    ("dense", paths.dense_dir(_DETECTOR)),
    ("dense", paths.dense_dir(_CLASSIFIER)),
    ("snapshots", paths.snapshots_dir(_DETECTOR)),
    ("snapshots", paths.snapshots_dir(_CLASSIFIER)),
    ("round", _ROUND),
    ("round", paths.round_dir(_CLASSIFIER, "{strategy}", "{prune}", "{round}")),
    ("branch", paths.branch_dir(_ROUND, "{branch}")),
    ("imagenet_transfer", paths.imagenet_transfer_dir(_R, "{model}", "{seed}", "{name}", "{prune}")),
    ("task_transfer", paths.task_transfer_dir(_R, "{model}", "{seed}", "{name}", "{source}")),
    ("imported", paths.imported_ticket_dir(_R, "{classifier}", "{prune}")),
)
_WILDCARDS = {"results": ".*", "seed": r"\d+", "round": r"\d+", "prune": r"\d+(?:\.\d+)?"}


def _regex(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    out = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>{_WILDCARDS.get(part, '[^/]+')})"
                  for i, part in enumerate(parts))
    return re.compile(out)


_PATTERNS = tuple((kind, _regex(template)) for kind, template in _TEMPLATES)


@dataclass(frozen=True)
class Folder:
    """A run folder of a results tree: its kind and the wildcards of its path."""
    path: Path
    kind: str  # dense, snapshots, round, branch, imagenet_transfer, task_transfer, imported
    where: dict

    @property
    def is_run(self) -> bool:
        return self.kind != "snapshots"


def classify(folder: str | os.PathLike) -> Folder | None:
    """The run folder ``folder`` is (by its absolute path), or None."""
    folder = Path(folder)
    text = folder.resolve().as_posix()
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            where = {key: value for key, value in match.groupdict().items() if key != "results"}
            return Folder(folder, kind, where)
    return None


def round_of_branch(branch: Folder) -> Path:
    """The round folder a branch belongs to (``paths.branch_dir`` inverted), spelled as the branch is."""
    suffix = paths.branch_dir("", branch.where["branch"])
    given = Path(os.path.normpath(branch.path)).as_posix()
    return Path(given.removesuffix(suffix) if given.endswith(suffix) else
                branch.path.resolve().as_posix().removesuffix(suffix))


def mask_of(folder: str | os.PathLike) -> Path | None:
    """The mask the weights files of ``folder`` are under, or None (a dense run, its snapshots).

    A round, an ImageNet or task transfer, an imported ticket: its own ``mask.npz``; a branch: its
    own (early-bird and random masks) or else its round's (rewind points, re-initialisation); any
    other folder: a ``mask.npz`` beside the weights, if there is one.
    """
    folder = Path(folder)
    run = classify(folder)
    if run is not None and run.kind in ("dense", "snapshots"):
        return None
    if (folder / MASK).is_file():
        return folder / MASK
    if run is not None and run.kind == "branch":
        mask = round_of_branch(run) / MASK
        return mask if mask.is_file() else None
    return None


def weights_files(folder: Path, snapshots: bool = True) -> list[Path]:
    """The weights files of a run folder; with ``snapshots``, a dense run's snapshots too."""
    files = [folder / name for name in WEIGHTS if (folder / name).is_file()]
    snapshot_dir = folder / Path(paths.snapshots_dir("")).name
    if snapshots and snapshot_dir.is_dir():
        files += sorted(snapshot_dir.glob("*.pth"), key=_natural)
    return files


def _natural(path: Path) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


# The folders of a results tree that hold runs: ``runs/`` and ``classifiers/``.
TOPS = (paths.detector("", "m", "0").split("/")[1], paths.classifier("", "c").split("/")[1])


def is_tree(folder: Path) -> bool:
    """A results tree (a folder holding ``runs/`` or ``classifiers/``) or a folder inside one."""
    return any((folder / top).is_dir() for top in TOPS) or any(part in TOPS for part in folder.resolve().parts)


def _roots(folder: Path) -> list[Path]:
    return [folder / top for top in TOPS if (folder / top).is_dir()] or [folder]


def find_runs(folder: Path) -> list[Folder]:
    """Every run folder under ``folder`` (itself included), in path order; in-run folders not walked."""
    runs = []
    for root in _roots(folder):
        for here, dirs, _ in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in NOT_WALKED and not d.startswith("."))
            run = classify(here)
            if run is not None and run.is_run:
                runs.append(run)
            elif run is not None:  # snapshots: files of the dense run
                dirs[:] = []
    return sorted(runs, key=lambda r: _natural_path(r.path))


def _natural_path(path: Path) -> list:
    return [_natural(Path(part)) for part in path.parts]
