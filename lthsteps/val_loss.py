"""Validation loss during training, for the convergence curves of the paper's Fig 10 (Appendix D).

``ValLossHook`` measures the detector's training losses (RPN, box, mask, keypoint terms and their
total, as ``model.parse_losses`` sums them) on a fixed subset of the validation split: before the
first step, every ``interval`` iterations and at the end. Each measurement is appended to a JSON
list written atomically to ``out_file``::

    [{"iter": 0, "max_iters": 1200, "images": 6, "seconds": 1.9,
      "loss": 2.31, "losses": {"loss_rpn_cls": 0.69, "loss_rpn_bbox": 0.1, "loss_cls": 1.4, "loss_bbox": 0.12},
      "other": {"acc": 12.5}},
     {"iter": 100, ...}, ...]

``iter`` counts optimizer steps done (after ``after_train_iter`` of step index ``i``: ``i + 1``);
``lthsteps.convergence`` turns the files of dense runs and tickets into the figure and table.

How a measurement is taken, and why it cannot change training:

* the model is put in train mode (the losses exist only there) with every ``_BatchNorm`` in eval
  mode, so BN normalises with its running statistics and does not update them, under
  ``torch.no_grad()``; the modules' previous modes are restored afterwards;
* the data preprocessor runs with ``training=True`` (mask padding as in training) but without its
  batch augmentations, which are random and some of which keep state;
* the RNG states (torch CPU and, if initialised, CUDA; numpy; python ``random``) are saved before
  and restored after, as ``lthsteps.rng_state`` does for resumes; in between they are seeded with
  ``seed``, so the RPN/RoI samplers draw the same numbers at every measurement and the curve
  changes only because the weights do. A run with the hook therefore trains bit-identically to
  one without it (on CPU with ``num_workers=0``; tests/test_val_loss.py).

The data: the MMDetection test pipelines of this repo's configs (``test_pipeline``) load no
annotations, and the paper-scale configs have ``val_dataloader = None``. Unless ``dataloader`` is
given, the hook therefore takes the validation split's dataset from ``val_dataloader`` or, when that
is ``None`` as here, from ``test_dataloader`` (``lthsteps.mm.bind_dataset`` points it at the val
split), and gives it the TRAIN pipeline made deterministic (``loss_pipeline``): ``RandomFlip`` with
probability 0, multi-scale ``RandomChoiceResize``/``RandomResize`` replaced by the test pipeline's
``Resize``; any other random augmentation is refused. It also gets the train dataset's
``filter_cfg`` and ``test_mode=False``, so it holds the val images training would have used (with
gt boxes; for keypoint models with a labelled keypoint). The images are the first ``num_images``
of those in file order (default: all), in batches of the test dataloader's ``batch_size``; each
batch's losses are weighted by its number of images. A given ``dataloader`` config is used as it
is (its dataset, pipeline and ``batch_size``); its pipeline must load annotations.

Cost: one measurement is a loss forward (no backward) over the subset plus loading its images,
about a third of a training iteration's work per image. Measured on the tiny Faster R-CNN
(tests/test_val_loss.py, 224 px, 1 thread, 2 busy CPU cores): 0.15 s for 6 val images, i.e.
~25 ms per image, against ~0.15 s for one training iteration at batch 2; the tiny Mask / Keypoint
R-CNN: ~30 ms per image. So a measurement on N images costs about N/6 training iterations at
batch 2 (N/12 at the tiny configs' batch 4): with 20 measurements per run (``interval`` =
max_iters / 20) on 60 images the tiny 1200-iteration run grows by about 8 %, on all images
proportionally more; choose ``num_images`` accordingly. Only the main process measures (with the
unwrapped model, over the whole subset); under DDP the other ranks wait for it at the next
gradient all-reduce, so keep a measurement well below the process group's timeout.

A resumed run (``cfg.resume``) keeps the measurements of ``out_file`` made before the iteration it
resumes from; a fresh run (including a ticket that starts at its rewind iteration) starts a new list.
"""
from __future__ import annotations

import copy
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from torch.nn.modules.batchnorm import _BatchNorm

from lthsteps import rng_state
from lthsteps.files import atomic_write
from lthsteps.mm import _innermost_dataset

# Random augmentations that loss_pipeline knows how to make deterministic, and others it refuses.
_RESIZES = ("RandomChoiceResize", "RandomResize")
_OTHER_RANDOM = ("PhotoMetricDistortion", "Expand", "MinIoURandomCrop", "RandomCrop", "RandomAffine", "Mosaic",
                 "MixUp", "CachedMosaic", "CachedMixUp", "YOLOXHSVRandomAug", "Albu", "CutOut", "AutoAugment",
                 "RandAugment", "RandomErasing", "RandomShift", "RandomCenterCropPad")
_ANNOTATIONS = ("LoadAnnotations", "LoadPanopticAnnotations", "LoadKeypointAnnotations")


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return getattr(model, "module", model)


def _type(transform: dict) -> str:
    kind = transform.get("type", "")
    return kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))


def loss_pipeline(train_pipeline: list[dict], test_pipeline: list[dict]) -> list[dict]:
    """The train pipeline without its randomness: the annotations are loaded and packed as in
    training, flips never happen, multi-scale resizing becomes the test pipeline's ``Resize``."""
    test_resizes = [t for t in test_pipeline if _type(t) == "Resize"]
    out = []
    for transform in copy.deepcopy(list(train_pipeline)):
        kind = _type(transform)
        if kind == "RandomFlip":
            prob = transform.get("prob")
            transform["prob"] = [0.0] * len(prob) if isinstance(prob, (list, tuple)) else 0.0
        elif kind in _RESIZES:
            if len(test_resizes) != 1:
                raise ValueError(f"the train pipeline resizes at random ({kind}) and the test pipeline has "
                                 f"{len(test_resizes)} Resize transforms, not one to use instead: give ValLossHook "
                                 "a dataloader config with a deterministic pipeline")
            transform = copy.deepcopy(test_resizes[0])
        elif kind.startswith("Random") or kind in _OTHER_RANDOM:
            raise ValueError(f"the train pipeline has the random augmentation {kind}, which ValLossHook cannot make "
                             "deterministic: give it a dataloader config with a deterministic pipeline")
        out.append(transform)
    if not any(_type(t) in _ANNOTATIONS for t in out):
        raise ValueError("the train pipeline loads no annotations (LoadAnnotations): the losses need them")
    return out


def loss_dataloader_config(cfg) -> dict:
    """The dataloader config ValLossHook measures with when it is given none (see the module doc)."""
    source = cfg.get("val_dataloader") or cfg.get("test_dataloader")
    if not source:
        raise ValueError("the config has neither val_dataloader nor test_dataloader: give ValLossHook a dataloader")
    dataset = copy.deepcopy(_innermost_dataset(dict(source["dataset"])))
    train_dataset = _innermost_dataset(dict(cfg.train_dataloader["dataset"]))
    dataset["pipeline"] = loss_pipeline(train_dataset["pipeline"], dataset.get("pipeline") or [])
    # The images training would use: its filter (e.g. no image without a labelled keypoint for a
    # keypoint head), which MMDetection applies only outside test mode.
    dataset["test_mode"] = False
    if train_dataset.get("filter_cfg") is not None:
        dataset["filter_cfg"] = copy.deepcopy(train_dataset["filter_cfg"])
    return dict(batch_size=source.get("batch_size", 1), dataset=dataset)


class _Modes:
    """Train mode with every BatchNorm in eval mode; the previous modes restored on exit."""

    def __init__(self, model: torch.nn.Module) -> None:
        self._model = model

    def __enter__(self):
        self._saved = [(m, m.training) for m in self._model.modules()]
        self._model.train()
        for module in self._model.modules():
            if isinstance(module, _BatchNorm):
                module.eval()

    def __exit__(self, *exc):
        for module, training in self._saved:
            module.training = training


class _FixedRng:
    """Save every RNG state, seed them with ``seed``, restore the saved states on exit."""

    def __init__(self, seed: int) -> None:
        self._seed = seed

    def __enter__(self):
        self._saved = rng_state.capture()
        self._cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
        torch.set_rng_state(torch.Generator().manual_seed(self._seed).get_state())  # CPU only: no lazy CUDA seeding
        if self._cuda is not None:
            torch.cuda.manual_seed_all(self._seed)
        np.random.seed(self._seed)
        random.seed(self._seed)

    def __exit__(self, *exc):
        rng_state.restore(self._saved)
        if self._cuda is not None:
            torch.cuda.set_rng_state_all(self._cuda)


@HOOKS.register_module()
class ValLossHook(Hook):
    """Training losses on the first ``num_images`` validation images every ``interval`` iterations
    (and before the first and after the last), appended to the JSON list ``out_file``."""

    priority = "LOW"  # after LateResetHook (sets the start iteration) and MaskHook (zeroes pruned weights)

    def __init__(self, interval: int, out_file: str, num_images: int | None = None, dataloader: dict | None = None,
                 seed: int = 0) -> None:
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f"ValLossHook interval must be a positive number of iterations, got {interval!r}")
        if num_images is not None and (not isinstance(num_images, int) or num_images < 1):
            raise ValueError(f"ValLossHook num_images must be a positive number or None (all), got {num_images!r}")
        self.interval, self.out_file, self.num_images = interval, str(out_file), num_images
        self.dataloader_cfg, self.seed = dataloader, seed
        self.entries: list[dict] = []
        self._loader = None

    # -- hook points ---------------------------------------------------------------------------
    def before_train(self, runner) -> None:
        if not is_main_process():
            return
        self.entries = self._earlier_entries(runner) if runner.cfg.get("resume") else []
        with _FixedRng(self.seed):  # building the dataset must not draw from training's generators either
            self._loader = self._build_loader(runner)
        self._measure(runner, runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if (runner.iter + 1) % self.interval == 0:
            self._measure(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        self._measure(runner, runner.iter)

    # -- the measurement -----------------------------------------------------------------------
    def _earlier_entries(self, runner) -> list[dict]:
        path = Path(self.out_file)
        if not path.is_file():
            return []
        return [e for e in json.loads(path.read_text()) if e["iter"] < runner.iter]

    def _build_loader(self, runner):
        from mmengine.dataset import pseudo_collate
        from mmengine.registry import DATASETS

        cfg = copy.deepcopy(self.dataloader_cfg) if self.dataloader_cfg else loss_dataloader_config(runner.cfg)
        if not any(_type(t) in _ANNOTATIONS for t in cfg["dataset"].get("pipeline", [])):
            raise ValueError("ValLossHook's dataloader pipeline loads no annotations (LoadAnnotations): "
                             "the losses need them")
        dataset = DATASETS.build(cfg["dataset"])  # in the runner's default scope, as Runner.build_dataloader does
        count = len(dataset) if self.num_images is None else min(self.num_images, len(dataset))
        if count == 0:
            raise ValueError("ValLossHook: the validation dataset is empty")
        # Sequential and unsharded: the first `count` images, all measured by the main process.
        return torch.utils.data.DataLoader(torch.utils.data.Subset(dataset, range(count)),
                                           batch_size=cfg.get("batch_size", 1), shuffle=False, num_workers=0,
                                           collate_fn=pseudo_collate)

    def _measure(self, runner, iteration: int) -> None:
        if not is_main_process() or (self.entries and self.entries[-1]["iter"] == iteration):
            return  # e.g. after_train when the last iteration was a multiple of the interval
        start = time.perf_counter()
        model = _unwrap(runner.model)
        preprocessor = model.data_preprocessor
        augments = getattr(preprocessor, "batch_augments", None)
        sums: dict[str, float] = {}
        images = 0
        try:
            if augments is not None:
                preprocessor.batch_augments = None
            with _FixedRng(self.seed), _Modes(model), torch.no_grad():
                for batch in self._loader:
                    n = len(batch["inputs"])
                    data = preprocessor(batch, True)
                    _, log_vars = model.parse_losses(model(**data, mode="loss"))
                    for name, value in log_vars.items():
                        sums[name] = sums.get(name, 0.0) + n * float(value)
                    images += n
        finally:
            if augments is not None:
                preprocessor.batch_augments = augments
        means = {name: total / images for name, total in sums.items()}
        entry = {"iter": int(iteration), "max_iters": int(runner.max_iters), "images": images,
                 "seconds": round(time.perf_counter() - start, 3), "loss": means.pop("loss"),
                 "losses": {k: v for k, v in means.items() if "loss" in k},
                 "other": {k: v for k, v in means.items() if "loss" not in k}}
        bad = [k for k, v in [("loss", entry["loss"]), *entry["losses"].items()] if not math.isfinite(v)]
        if bad:
            runner.logger.warning(f"ValLossHook: non-finite validation loss {bad} at iteration {iteration}")
        self.entries.append(entry)
        text = json.dumps(self.entries, indent=1)
        atomic_write(self.out_file, lambda tmp: Path(tmp).write_text(text))
        runner.logger.info(f"ValLossHook: iteration {iteration}: validation loss {entry['loss']:.4f} on {images} "
                           f"images ({entry['seconds']:.2f} s)")
