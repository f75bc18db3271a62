"""What a job of the embedded default costs on this machine, and where the time goes.

    .venv/bin/python benchmarks/job_cost.py [--baseline DIR] [--models NAME ...] [--iters 20]

For every model and classifier of ``config/config.yaml`` (one torch thread, as the default's jobs
run), in child processes whose working directory and ``PYTHONPATH`` are the checkout under test:

* **iteration split**: one training iteration taken apart — data loading and transforms, the data
  preprocessor, forward and backward of each module group (backbone, neck, RPN, RoI heads), the
  optimizer step, and the mask hook, the checkout's own ``MaskHook`` under an 80% mask as in a round
  (re-zeroing the weights after the step; its gradient masking runs inside backward). Backward per
  group is exact, not sampled: the features are cut (detached) at the group boundaries and each
  group's backward is run and timed on its own, in the order autograd would run them. Classifiers:
  data, forward, backward, step.
* **fixed cost of a job**: process start to the first iteration (interpreter and imports, config,
  model build, dataset and dataloader build), from a real ``Runner`` training run, whose steady
  iterations also give the time per iteration;
* **jobs as the default runs them**: the training CLI (``lthsteps.train``) on a short run, extrapolated
  to the default's iterations with the measured time per iteration — a job of the whole schedule
  (``max_iters``: a dense run, an ImageNet transfer) and a round (``max_iters - rewind_iter``, at the time
  per iteration of a second Runner run under the checkout's ``MaskHook`` with an 80% mask) — and the
  evaluation on the 150 val images: a job of its own (``lthsteps.evaluate``, start-up included) in a
  checkout whose training CLI has no ``--metrics``, otherwise the work the training job adds to itself
  (timed in-process). ``--weights`` times evaluations on trained weights: detections per image, and
  so the mask pasting and COCOeval work, depend on them.

``--baseline DIR`` (e.g. ``git worktree add /tmp/base <commit>``) measures that checkout's configs
and code in the same run and prints both side by side with their ratio — the way to compare
machines that differ in speed. Not a test: it prints its figures (and ``--json FILE`` keeps them).
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
GROUPS = ("data", "preprocess", "backbone_fwd", "neck_fwd", "rpn_fwd", "roi_fwd",
          "roi_bwd", "rpn_bwd", "neck_bwd", "backbone_bwd", "optimizer", "mask_hook")
CLASSIFIER_GROUPS = ("data", "forward", "backward", "optimizer", "mask_hook")


# ----------------------------------------------------------------------------------------------
# Children: run inside the checkout under test (cwd and PYTHONPATH), print one JSON line.

def _default_config(repo: Path) -> dict:
    import yaml

    return yaml.safe_load((repo / "config/config.yaml").read_text())


def _model_cfg(repo: Path, model: str, descriptor: dict):
    from lthsteps.mm import bind_dataset, load_config

    entry = _default_config(repo)["models"][model]
    cfg = load_config(repo / entry["config"], entry.get("cfg_options") or None)
    return bind_dataset(cfg, descriptor)


def _model_hooks_as_configured(model, cfg) -> None:
    """The config's hooks that change the model (``AutocastHook``, ``ChannelsLastPoolHook``: those with an
    ``apply(model)``) applied as the Runner applies them in before_run: the split builds the model without one."""
    from mmengine.registry import HOOKS

    for hook in cfg.get("custom_hooks", []):
        built = HOOKS.build(hook)
        if hasattr(built, "apply"):
            built.apply(model)


def _eighty_percent_masks(model):
    """{name: pruned entries} of an 80% layer-wise magnitude mask over every trainable conv and linear
    weight (``lthsteps.masks.magnitude_masks``): the mask hook's work per iteration."""
    from lthsteps.masks import magnitude_masks

    weights = {name: param.detach() for name, param in model.named_parameters()
               if name.endswith("weight") and param.ndim in (2, 4) and param.requires_grad}
    return {name: ~keep for name, keep in magnitude_masks(weights, 0.8, scope="layerwise").items()}


def _eighty_percent_mask_file(model, folder: str) -> Path:
    """``_eighty_percent_masks`` written as a mask file (lthsteps.masks), as a round reads it."""
    from lthsteps.masks import save_masks

    mask_file = Path(folder) / "mask.pth"
    save_masks(mask_file, {name: ~off for name, off in _eighty_percent_masks(model).items()}, {})
    return mask_file


def _install_mask_hook(model, folder: str):
    """The checkout's own ``MaskHook`` on ``model`` with an 80% mask, as a round installs it: gradient
    masking then runs inside backward; returns the per-iteration re-zeroing as a callable."""
    import logging
    import types

    from lthsteps.hooks import MaskHook

    hook = MaskHook(str(_eighty_percent_mask_file(model, folder)))
    runner = types.SimpleNamespace(model=model, logger=logging.getLogger("job_cost"))
    hook.before_train(runner)
    return lambda: hook.after_train_iter(runner, 0)


def _masked_fill_pruned(pairs) -> None:
    import torch

    with torch.no_grad():
        for param, off in pairs:
            param.masked_fill_(off, 0)


def child_detector_split(repo: Path, model_name: str, descriptor_file: str, warmup: int, iters: int) -> dict:
    """Mean seconds per part of a training iteration of a detector (see the module docstring)."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from lthsteps.mm import build_model

    torch.set_num_threads(1)
    cfg = _model_cfg(repo, model_name, json.loads(Path(descriptor_file).read_text()))
    DefaultScope.get_instance(f"job_cost-{time.time_ns()}", scope_name="mmdet")
    torch.manual_seed(0)  # the same initial weights, so the same RoIs, in every checkout and run
    model = build_model(cfg, init_weights=True)
    _model_hooks_as_configured(model, cfg)
    model.train()
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    rezero = _install_mask_hook(model, tempfile.mkdtemp(prefix="job_cost-"))
    stamps: dict[str, float] = {}

    def mark(key, value):
        stamps[key] = time.perf_counter()
        return value

    def cut(tensors):  # a new leaf per feature map: the group below gets its gradient only when asked
        return tuple(t.detach().requires_grad_() for t in tensors)

    boundary: dict[str, tuple] = {}
    backbone, neck = model.backbone, getattr(model, "neck", None)

    def extract_feat(inputs):
        stamps["backbone_start"] = time.perf_counter()
        feats = backbone(inputs)
        stamps["backbone_end"] = time.perf_counter()
        boundary["backbone"] = (feats, cut(feats))
        feats = boundary["backbone"][1]
        if neck is not None:
            feats = neck(feats)
            boundary["neck"] = (feats, cut(feats))
            feats = boundary["neck"][1]
        stamps["neck_end"] = time.perf_counter()
        return feats

    rpn_call, roi_call = model.rpn_head.loss_and_predict, model.roi_head.loss
    model.extract_feat = extract_feat
    model.rpn_head.loss_and_predict = lambda *a, **k: mark("rpn_end", rpn_call(*a, **k))
    model.roi_head.loss = lambda *a, **k: mark("roi_end", roi_call(*a, **k))

    def backward_of(pair):
        outputs, leaves = pair
        used = [(o, leaf.grad) for o, leaf in zip(outputs, leaves) if leaf.grad is not None and o.requires_grad]
        if used:
            torch.autograd.backward([o for o, _ in used], [g for _, g in used])

    totals = {g: [] for g in GROUPS}
    data_iter = iter(loader)
    for step in range(warmup + iters):
        t0 = time.perf_counter()
        batch = next(data_iter)
        t1 = time.perf_counter()
        data = model.data_preprocessor(batch, True)
        t2 = time.perf_counter()
        losses = model.loss(data["inputs"], data["data_samples"])
        rpn_loss, _ = model.parse_losses({k: v for k, v in losses.items() if "rpn" in k})
        roi_loss, _ = model.parse_losses({k: v for k, v in losses.items() if "rpn" not in k})
        t3 = time.perf_counter()
        roi_loss.backward()
        t4 = time.perf_counter()
        rpn_loss.backward()
        t5 = time.perf_counter()
        if "neck" in boundary:
            backward_of(boundary["neck"])
        t6 = time.perf_counter()
        backward_of(boundary["backbone"])
        t7 = time.perf_counter()
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        t8 = time.perf_counter()
        rezero()
        t9 = time.perf_counter()
        boundary.clear()
        if step < warmup:
            continue
        parts = {
            "data": t1 - t0, "preprocess": t2 - t1,
            "backbone_fwd": stamps["backbone_end"] - stamps["backbone_start"],
            "neck_fwd": stamps["neck_end"] - stamps["backbone_end"],
            "rpn_fwd": stamps["rpn_end"] - stamps["neck_end"],
            "roi_fwd": t3 - stamps["rpn_end"],  # RoI heads' loss: sampling, RoIAlign, heads, targets
            "roi_bwd": t4 - t3, "rpn_bwd": t5 - t4, "neck_bwd": t6 - t5, "backbone_bwd": t7 - t6,
            "optimizer": t8 - t7, "mask_hook": t9 - t8,
        }
        for key, value in parts.items():
            totals[key].append(value)
    return {key: statistics.mean(values) for key, values in totals.items()}


def child_classifier_split(repo: Path, name: str, data_dir: str, warmup: int, iters: int) -> dict:
    import torch
    from torch import nn

    from lthsteps import classifier as clf

    torch.set_num_threads(1)
    entry = _default_config(repo)["classifiers"][name]
    try:  # a checkout before the classifiers' autocast has none
        from lthsteps.autocast import autocast_pays, forward_autocast
        dtype = entry.get("autocast") if autocast_pays("cpu") else None
        autocast = functools.partial(forward_autocast, "cpu", dtype)
    except ImportError:
        autocast = contextlib.nullcontext
    start = time.perf_counter()
    cache = {"cache_images": True} if entry.get("cache_images") else {}  # a checkout before it has no such key
    train_set, _ = clf.image_folders(Path(data_dir), entry["image_size"], **cache)
    load_seconds = time.perf_counter() - start
    model = clf.build_classifier(entry["arch"], entry["width"], len(train_set.classes))
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=entry["lr"], momentum=0.9)
    pruned, params = _eighty_percent_masks(model), dict(model.named_parameters())
    if hasattr(clf, "zero_pruned"):  # the checkout's own re-zeroing
        zero_pruned, kept = clf.zero_pruned, [(params[n], (~off).to(params[n].dtype)) for n, off in pruned.items()]
    else:  # a checkout before it re-zeroed with masked_fill_
        zero_pruned, kept = _masked_fill_pruned, [(params[n], off) for n, off in pruned.items()]
    loader = clf.batches(train_set, entry["batch_size"], 0, 0)
    totals = {g: [] for g in CLASSIFIER_GROUPS}
    for step in range(warmup + iters):
        t0 = time.perf_counter()
        images, labels = next(loader)
        t1 = time.perf_counter()
        with autocast():
            logits = model(images)
        loss = nn.functional.cross_entropy(logits.float(), labels)
        t2 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t3 = time.perf_counter()
        optimizer.step()
        t4 = time.perf_counter()
        zero_pruned(kept)
        t5 = time.perf_counter()
        if step >= warmup:
            for key, value in zip(CLASSIFIER_GROUPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                totals[key].append(value)
    return {key: statistics.mean(values) for key, values in totals.items()} | {"dataset_load": load_seconds}


def child_startup(repo: Path, model_name: str, descriptor_file: str, warmup: int, iters: int, t_launch: float,
                  masked: bool = False) -> dict:
    """Process start to first iteration of a real Runner training run, then its steady time per iteration;
    ``masked``: the run trains under the checkout's own ``MaskHook`` with an 80% mask, as a round does."""
    stages = {"interpreter": time.time() - t_launch}
    mark = time.perf_counter()

    def stage(name):
        nonlocal mark
        now = time.perf_counter()
        stages[name] = now - mark
        mark = now

    import torch  # noqa: F401
    import mmdet.models  # noqa: F401
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    import lthsteps.modules  # noqa: F401 - the configs' custom modules, as lthsteps.train imports them
    import lthsteps.train  # noqa: F401
    stage("imports")
    torch.set_num_threads(1)
    cfg = _model_cfg(repo, model_name, json.loads(Path(descriptor_file).read_text()))
    cfg.work_dir = tempfile.mkdtemp(prefix="job_cost-")
    cfg.experiment_name = f"job_cost-{time.time_ns()}"
    cfg.train_cfg.max_iters = warmup + iters
    cfg.default_hooks.checkpoint.interval = 10 ** 9
    cfg.default_hooks.logger.interval = 10 ** 9
    stage("config")
    runner = Runner.from_cfg(cfg)
    stage("runner_and_model")
    times: list[float] = []

    class Stamps(Hook):
        priority = "HIGHEST"

        def before_train(self, runner):
            stage("init_weights_and_hooks")

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if not times:
                stage("dataset_and_first_batch")
            times.append(time.perf_counter())

    runner.register_hook(Stamps())
    if masked:  # every trainable conv and linear weight at 80%: at least the work of a default round's mask
        from lthsteps.hooks import MaskHook

        runner.register_hook(MaskHook(str(_eighty_percent_mask_file(runner.model, cfg.work_dir))))
    # The dataloader (dataset: annotation parsing, filtering) is built lazily inside train().
    runner.train()
    steady = [b - a for a, b in zip(times[warmup:], times[warmup + 1:])]
    return {"stages": stages, "to_first_iteration": sum(stages.values()),
            "seconds_per_iteration": statistics.median(steady)}


# ----------------------------------------------------------------------------------------------
# Parent: data, child processes, CLI jobs, the table.

def _process_setup_as_jobs_do() -> None:
    """The checkout's own process set-up, which its jobs' mains do first (absent before it existed)."""
    try:
        from lthsteps.allocator import keep_freed_memory
    except ImportError:
        return
    keep_freed_memory()


def run_child(repo: Path, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(repo), OMP_NUM_THREADS="1")
    cmd = [sys.executable, str(HERE), "--child", *args, "--repo", str(repo), "--launched", repr(time.time())]
    out = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(cmd: list[str], repo: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(repo), OMP_NUM_THREADS="1")
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return time.perf_counter() - start


def make_data(repo: Path, folder: Path) -> dict[str, Path]:
    """The default's generated data set and its prepared descriptors, made once with ``repo``'s CLIs."""
    synthetic = _default_config(repo)["synthetic"]
    if not (folder / "synthetic").is_dir():
        timed([sys.executable, "-m", "lthsteps.synthdata", "--out", str(folder / "synthetic"),
               *[a for k, v in synthetic.items() for a in (f"--{k.replace('_', '-')}", str(v))]], repo)
    descriptors = {}
    for name, fmt, root, splits, extra in (
            ("synthetic_coco", "coco", "coco", {"train": {"ann_file": "annotations/instances_train.json",
                                                          "img_dir": "train"},
                                                "val": {"ann_file": "annotations/instances_val.json",
                                                        "img_dir": "val"}}, []),
            ("synthetic_voc", "voc", "VOCdevkit/VOC2007", {"train": {"split": "train"}, "val": {"split": "val"}},
             ["--classes-from", str(folder / "synthetic/coco/annotations/instances_train.json"),
              "--voc-ap-mode", "11points"])):
        out = folder / f"{name}.json"
        if not out.is_file():
            timed([sys.executable, "-m", "lthsteps.datasets", "prepare", "--name", name, "--format", fmt,
                   "--root", str(folder / "synthetic" / root), "--splits", json.dumps(splits), *extra,
                   "--out", str(out)], repo)
        descriptors[name] = out
    return descriptors


def child_evaluation(repo: Path, model_name: str, descriptor_file: str, weights_file: str) -> dict:
    """Seconds of the evaluation a training job runs in its own process (``lthsteps.train --metrics``)."""
    import torch

    from lthsteps.checkpoints import load_state_dict
    from lthsteps.evaluate import evaluate
    from lthsteps.mm import build_model

    torch.set_num_threads(1)
    weights = load_state_dict(weights_file)
    build_model(_model_cfg(repo, model_name, json.loads(Path(descriptor_file).read_text())))  # imports, registries
    with tempfile.TemporaryDirectory(prefix="job_cost-") as tmp:
        start = time.perf_counter()
        descriptor = json.loads(Path(descriptor_file).read_text())
        cfg = _model_cfg(repo, model_name, descriptor)
        evaluate(cfg, descriptor, weights, weights_file, Path(tmp) / "metrics.json", Path(tmp) / "detections")
        return {"seconds": time.perf_counter() - start}


def cli_jobs(repo: Path, model: str, descriptor: Path, short_iters: int, per_iteration: float,
             per_masked_iteration: float, trained: Path | None) -> dict:
    """Seconds of the default's training and evaluation jobs of ``model``: the training CLI on a short
    run, extrapolated; the evaluation as a job of its own (the evaluate CLI) or inside the training job."""
    from mmengine.config import Config

    entry = _default_config(repo)["models"][model]
    max_iters = Config.fromfile(str(repo / entry["config"])).train_cfg.max_iters
    max_iters = (entry.get("cfg_options") or {}).get("train_cfg.max_iters", max_iters)
    help_text = subprocess.run([sys.executable, "-m", "lthsteps.train", "--help"], cwd=repo, capture_output=True,
                               text=True, env=dict(os.environ, PYTHONPATH=str(repo))).stdout
    evaluates_in_training = "--metrics" in help_text
    options = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in (entry.get("cfg_options") or {}).items()]
    with tempfile.TemporaryDirectory(prefix="job_cost-") as tmp:
        tmp = Path(tmp)
        short = timed([sys.executable, "-m", "lthsteps.train", "--config", str(repo / entry["config"]),
                       "--dataset", str(descriptor), "--seed", "0", "--work-dir", str(tmp / "work"),
                       "--out", str(tmp / "weights.pth"), "--report", str(tmp / "train.json"), "--threads", "1",
                       "--cfg-options", *options, f"train_cfg.max_iters={short_iters}"], repo)
        weights = trained if trained and trained.is_file() else tmp / "weights.pth"
        if evaluates_in_training:
            evaluation = run_child(repo, "evaluation", model, str(descriptor), str(weights))["seconds"]
        else:
            evaluation = timed([sys.executable, "-m", "lthsteps.evaluate", "--config", str(repo / entry["config"]),
                                "--dataset", str(descriptor), "--weights", str(weights),
                                "--metrics", str(tmp / "metrics.json"), "--detections", str(tmp / "detections"),
                                "--threads", "1", *(["--cfg-options", *options] if options else [])], repo)
    rewind = entry["rewind_iter"]
    inside = evaluation if evaluates_in_training else 0.0
    jobs = {"training_job": short + (max_iters - short_iters) * per_iteration + inside,
            "round_job": short + (max_iters - rewind - short_iters) * per_masked_iteration + inside,
            "evaluation_job": 0.0 if evaluates_in_training else evaluation}
    return {"max_iters": max_iters, "round_iters": max_iters - rewind, "evaluates_in_training": evaluates_in_training,
            "evaluated_weights": str(weights) if weights != tmp / "weights.pth" else "the short run's",
            "short_job": short, "evaluation": evaluation, **jobs,
            # one trained-and-evaluated round, however the jobs are cut
            "round_and_evaluation": jobs["round_job"] + jobs["evaluation_job"]}


def measure(repo: Path, data: Path, models: list[str] | None, warmup: int, iters: int, short_iters: int,
            trained: Path | None) -> dict:
    descriptors = make_data(repo, data)
    config = _default_config(repo)
    results = {}
    for name, entry in config["models"].items():
        if models and name not in models:
            continue
        descriptor = descriptors[entry["dataset"]]
        print(f"[{repo.name}] {name}: iteration split", file=sys.stderr, flush=True)
        split = run_child(repo, "split", name, str(descriptor), str(warmup), str(iters))
        print(f"[{repo.name}] {name}: start-up and time per iteration", file=sys.stderr, flush=True)
        startup = run_child(repo, "startup", name, str(descriptor), str(warmup), str(iters))
        print(f"[{repo.name}] {name}: time per iteration under a mask", file=sys.stderr, flush=True)
        startup["seconds_per_masked_iteration"] = run_child(
            repo, "masked", name, str(descriptor), str(warmup), str(iters))["seconds_per_iteration"]
        print(f"[{repo.name}] {name}: jobs", file=sys.stderr, flush=True)
        weights = trained / f"runs/{name}/seed0/dense/weights.pth" if trained else None
        jobs = cli_jobs(repo, name, descriptor, short_iters, startup["seconds_per_iteration"],
                        startup["seconds_per_masked_iteration"], weights)
        results[name] = {"split": split, "startup": startup, "jobs": jobs}
    for name, entry in config.get("classifiers", {}).items():
        if models and name not in models:
            continue
        print(f"[{repo.name}] {name}: iteration split", file=sys.stderr, flush=True)
        split = run_child(repo, "classifier", name, str(data / "synthetic/classification"), str(warmup), str(iters))
        load = split.pop("dataset_load")
        per_iteration = sum(split.values())
        results[name] = {"split": split, "dataset_load": load,
                         "jobs": {"training_job": load + entry["iters"] * per_iteration,
                                  "round_job": load + (entry["iters"] - entry["rewind_iter"]) * per_iteration}}
        results[name]["jobs"]["round_and_evaluation"] = results[name]["jobs"]["round_job"]
    return results


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.0f}"


def print_report(label: str, results: dict) -> None:
    print(f"\n## {label}\n")
    print("Split of one training iteration, ms (one thread):\n")
    print("| model | " + " | ".join(GROUPS) + " | sum |")
    print("|---|" + "---:|" * (len(GROUPS) + 1))
    for name, r in results.items():
        if "startup" not in r:
            continue
        s = r["split"]
        print(f"| {name} | " + " | ".join(ms(s[g]) for g in GROUPS) + f" | {ms(sum(s.values()))} |")
    print("\n| classifier | " + " | ".join(CLASSIFIER_GROUPS) + " | sum |")
    print("|---|" + "---:|" * (len(CLASSIFIER_GROUPS) + 1))
    for name, r in results.items():
        if "startup" in r:
            continue
        s = r["split"]
        print(f"| {name} | " + " | ".join(ms(s[g]) for g in CLASSIFIER_GROUPS) + f" | {ms(sum(s.values()))} |")
    print("\nFixed cost of a training job, s (process start to first iteration), and time per iteration:\n")
    stage_names = list(next((r["startup"]["stages"] for r in results.values() if "startup" in r), {}))
    print("| model | " + " | ".join(stage_names) + " | to first iteration | s/iteration | s/iteration, masked |")
    print("|---|" + "---:|" * (len(stage_names) + 3))
    for name, r in results.items():
        if "startup" in r:
            st = r["startup"]
            print(f"| {name} | " + " | ".join(f"{st['stages'][k]:.2f}" for k in stage_names)
                  + f" | {st['to_first_iteration']:.2f} | {st['seconds_per_iteration']:.3f}"
                  + f" | {st['seconds_per_masked_iteration']:.3f} |")


def print_jobs(columns: dict[str, dict]) -> None:
    labels = list(columns)
    print("\nJobs as the default runs them, s: a training job of the whole schedule (a dense run, an ImageNet "
          "transfer) and a round (from the rewind point), each with its evaluation where the training job "
          "evaluates; the evaluation job (0 where it is part of the training job); a round and its evaluation:\n")
    keys = ("training_job", "round_job", "evaluation_job", "round_and_evaluation")
    header = [f"{k} ({label})" for k in keys for label in labels]
    if len(labels) == 2:
        header += [f"{k} ratio" for k in keys]
    print("| model | " + " | ".join(header) + " |")
    print("|---|" + "---:|" * len(header))
    names = [n for n in columns[labels[-1]] if all(n in columns[lab] for lab in labels)]
    for name in names:
        cells = [f"{columns[lab][name]['jobs'].get(k, 0):.1f}" for k in keys for lab in labels]
        if len(labels) == 2:
            for k in keys:
                old, new = (columns[lab][name]["jobs"].get(k, 0) for lab in labels)
                cells.append(f"{new / old:.2f}" if old else "–")
        print(f"| {name} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit to measure side by side")
    parser.add_argument("--models", nargs="+", help="only these models/classifiers (default: all of config.yaml)")
    parser.add_argument("--warmup", type=int, default=3, help="iterations not timed (default 3)")
    parser.add_argument("--iters", type=int, default=20, help="timed iterations per measurement (default 20)")
    parser.add_argument("--short-iters", type=int, default=10,
                        help="iterations of the short CLI run a job's cost is extrapolated from (default 10)")
    parser.add_argument("--data", type=Path, help="folder for the generated data (default: a temporary one)")
    parser.add_argument("--weights", type=Path,
                        help="results folder of a default run: evaluations are timed on its trained dense weights "
                             "(runs/<model>/seed0/dense/weights.pth); default: the short run's weights")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--repo", type=Path, default=REPO, help=argparse.SUPPRESS)
    parser.add_argument("--launched", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _process_setup_as_jobs_do()
        kind, *rest = args.child
        if kind == "split":
            out = child_detector_split(args.repo, rest[0], rest[1], int(rest[2]), int(rest[3]))
        elif kind == "evaluation":
            out = child_evaluation(args.repo, rest[0], rest[1], rest[2])
        elif kind == "classifier":
            out = child_classifier_split(args.repo, rest[0], rest[1], int(rest[2]), int(rest[3]))
        else:
            out = child_startup(args.repo, rest[0], rest[1], int(rest[2]), int(rest[3]), args.launched,
                                masked=kind == "masked")
        print(json.dumps(out))
        return 0
    trained = args.weights.resolve() if args.weights else None  # children run in the checkout under test
    with tempfile.TemporaryDirectory(prefix="job_cost-data-") as tmp:
        data = args.data or Path(tmp)
        columns = {}
        if args.baseline:
            columns["baseline"] = measure(args.baseline.resolve(), data, args.models, args.warmup, args.iters,
                                          args.short_iters, trained)
        columns["this checkout"] = measure(REPO, data, args.models, args.warmup, args.iters, args.short_iters,
                                           trained)
    for label, results in columns.items():
        print_report(f"{label}", results)
    print_jobs(columns)
    if args.json:
        args.json.write_text(json.dumps(columns, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
