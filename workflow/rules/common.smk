# What the rules need from Python: result path patterns (lthsteps.paths), the job plan
# (lthsteps.plan), resources per kind of job, and input/params functions. Start-up checks live in
# lthsteps.config_check.
import json
import os
import re
import shlex
import sys
from pathlib import Path

from lthsteps import analysis_plan, figure_args, launch, paths, plan
from lthsteps.config_check import check as check_config, max_iters, model_config as config_file

# Jobs run `python -m lthsteps...`: the interpreter running Snakemake (e.g. .venv/bin/snakemake)
# has the package; a job's conda env (--sdm conda), activated inside the job, still comes first.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"

REPO = Path(workflow.basedir).parent
R = config["results_dir"]
STRATEGIES = plan.strategies(config)  # the configured ones and those the ablations derive
ENV = "../../envs/lth.yaml"
NAME = r"[A-Za-z0-9_\-]+"


def one_of(names):
    """Wildcard constraint matching exactly these names (nothing if there are none)."""
    return "|".join(map(re.escape, names)) or "^$"


wildcard_constraints:
    seed=r"\d+",
    round=r"\d+",
    prune=r"[0-9]+(\.[0-9]+)?",
    model=NAME,
    dataset=NAME,
    classifier=NAME,
    strategy=one_of(STRATEGIES),
    # A network folder under results_dir: a detector at one seed, or a classifier (lthsteps.paths).
    network=rf"runs/{NAME}/seed\d+|classifiers/{NAME}",
    experiment=one_of([*config["experiments"], *config["imagenet_transfers"]]),
    comparison=one_of(config["comparisons"]),
    imagenet_transfer=one_of(config["imagenet_transfers"]),
    task_transfer=one_of(config["task_transfers"]),
    source=one_of(config["experiments"]),
    ablation=one_of(config["ablations"]),
    analysis=one_of(config["analyses"]),
    branch=r"rewind\d+|early_bird[0-9.]+|random_mask|reinit",


# Result folders as wildcard patterns (lthsteps.paths defines them once).
DETECTOR = paths.detector(R, "{model}", "{seed}")
DENSE = paths.dense_dir(DETECTOR)
ROUND = paths.round_dir(DETECTOR, "{strategy}", "{prune}", "{round}")
CLASSIFIER = paths.classifier(R, "{classifier}")
CLASSIFIER_ROUND = paths.round_dir(CLASSIFIER, "{strategy}", "{prune}", "{round}")
NETWORK_ROUND = paths.round_dir(f"{R}/{{network}}", "{strategy}", "{prune}", "{round}")
IMAGENET_TRANSFER = paths.imagenet_transfer_dir(R, "{model}", "{seed}", "{imagenet_transfer}", "{prune}")
TASK_TRANSFER = paths.task_transfer_dir(R, "{model}", "{seed}", "{task_transfer}", "{source}")
IMPORTED_TICKET = paths.imported_ticket_dir(R, "{classifier}", "{prune}")
SNAPSHOTS = paths.snapshots_dir(DETECTOR)
BRANCH = paths.branch_dir(ROUND, "{branch}")


def log(rule, job):
    return paths.log(R, rule, job)


def benchmark(rule, job):
    return paths.benchmark(R, rule, job)


def resources_of(kind):
    """The `resources:` of a kind of job (config `resources.train` or `resources.light`)."""
    return {key: config["resources"][kind][key] for key in ("gpu", "cpus_per_task", "mem_mb", "runtime")}


TRAIN = resources_of("train")
LIGHT = resources_of("light")
GPU_GUARD = launch.gpu_guard(TRAIN["gpu"])  # prefix of the training rules' commands


def model_config(wildcards):
    return config_file(config, wildcards.model, REPO)


def cfg_options(wildcards):
    """`--cfg-options k=v ...` for a model's overrides (empty string if none)."""
    return cfg_options_arg(config["models"][wildcards.model].get("cfg_options") or {})


def task_transfer_cfg_options(wildcards):
    """The target model's overrides, then the task transfer's own (config `task_transfers.<name>.cfg_options`)."""
    model = config["models"][wildcards.model].get("cfg_options") or {}
    return cfg_options_arg(model | config["task_transfers"][wildcards.task_transfer]["cfg_options"])


def cfg_options_arg(options):
    if not options:
        return ""
    pairs = (f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in options.items())
    return f"--cfg-options {' '.join(shlex.quote(p) for p in pairs)}"


def model_dataset(wildcards):
    return paths.dataset_descriptor(R, config["models"][wildcards.model]["dataset"])


def pretrained_input(wildcards):
    """`{"pretrained": weights}` for a model initialised from a classifier, else nothing."""
    classifier = config["models"][wildcards.model].get("pretrained")
    return {"pretrained": plan.classifier_weights(config, classifier)} if classifier else {}


def pretrained_arg(wildcards, input):
    return f"--pretrained {input.pretrained}" if "pretrained" in input.keys() else ""


def classifier_data_folder(wildcards):
    """The ImageFolder root a classifier trains on: configured, or the generated one."""
    return config["classifiers"][wildcards.classifier].get("data", f"{paths.synthetic_data(R)}/classification")


def classifier_data(wildcards):
    """Input of a classifier's training: the data folder, or the generator's output that holds it."""
    return config["classifiers"][wildcards.classifier].get("data", paths.synthetic_data(R))


def classifier_args(wildcards):
    c = config["classifiers"][wildcards.classifier]
    keys = ("arch", "width", "image_size", "iters", "batch_size", "lr", "seed")
    flags = (" --cache-images" if c["cache_images"] else "") + (f" --autocast {c['autocast']}" if c.get("autocast") else "")
    return " ".join(f"--{k.replace('_', '-')} {c[k]}" for k in keys) + flags


def mask_inputs(wildcards):
    """Round 1 ranks the network's dense weights; round r > 1 ranks round r-1's weights under its mask."""
    network, r = f"{R}/{wildcards.network}", int(wildcards.round)
    if r == 1:
        return {"weights": plan.dense_weights(config, network)}
    previous = paths.round_dir(network, wildcards.strategy, wildcards.prune, r - 1)
    return {"weights": f"{previous}/weights.pth", "previous": f"{previous}/mask.npz"}


def mask_args(wildcards, input):
    s = STRATEGIES[wildcards.strategy]
    args = [
        f"--sparsity {float(wildcards.prune) / 100}",
        f"--scope {s['scope']}",
        f"--groups {','.join(s['groups'])}",
        f"--kinds {','.join(s['kinds'])}",
        *(f"--exclude {shlex.quote(pattern)}" for pattern in s["exclude"]),
        f"--round {wildcards.round} --rounds {s['rounds']}",
    ]
    if "previous" in input.keys():
        args.append(f"--previous {input.previous}")
    return " ".join(args)


def snapshot_args(wildcards, output):
    """`--snapshot-iters N,... --snapshot-dir DIR` of a dense run: the iterations its model's ablations
    need (rewind points, early-bird masks); the folder is made even when there are none."""
    iters = plan.snapshot_iters(config, wildcards.model, int(wildcards.seed), max_iters(config, wildcards.model, REPO))
    return (f"--snapshot-iters {','.join(map(str, iters))} " if iters else "") + f"--snapshot-dir {output.snapshots}"


def early_bird_snapshot(wildcards, input):
    """The dense run's weights an early-bird mask is ranked on."""
    fraction = plan.early_bird_fraction(f"early_bird{wildcards.percent}")
    return f"{input.snapshots}/iter{plan.early_bird_iter(fraction, max_iters(config, wildcards.model, REPO))}.pth"


def branch_inputs(wildcards):
    """A branch's init weights and mask: a rewind point's snapshot with the round's mask, the
    round's rewind point with an early-bird or random mask, re-initialised weights with the round's
    mask."""
    branch, round_folder = wildcards.branch, ROUND.format(**wildcards)
    rewind = f"{DENSE.format(**wildcards)}/rewind.pth"
    if branch.startswith("rewind"):
        return {"snapshots": SNAPSHOTS.format(**wildcards), "mask": f"{round_folder}/mask.npz"}
    if branch == "reinit":
        return {"init": f"{BRANCH.format(**wildcards)}/init.pth", "mask": f"{round_folder}/mask.npz"}
    return {"init": rewind, "mask": f"{BRANCH.format(**wildcards)}/mask.npz"}


def branch_init(wildcards, input):
    if wildcards.branch.startswith("rewind"):
        return f"{input.snapshots}/iter{wildcards.branch.removeprefix('rewind')}.pth"
    return input.init


def ablation_inputs(wildcards):
    """What an ablation's table reads: each run's mask report (layer_sparsity), else each run's and
    each dense run's metrics and training report, and the early-bird runs' masks."""
    runs = [folder for *_, folder in plan.ablation_runs(config, wildcards.ablation)]
    if config["ablations"][wildcards.ablation]["setting"] == "layer_sparsity":
        return {"reports": [f"{folder}/mask.json" for folder in runs]}
    folders = runs + [folder for _, folder in plan.ablation_dense_runs(config, wildcards.ablation)]
    inputs = {"metrics": [f"{f}/metrics.json" for f in folders], "reports": [f"{f}/train.json" for f in folders]}
    if config["ablations"][wildcards.ablation]["setting"] == "early_bird":
        inputs["masks"] = [f"{folder}/mask.npz" for folder in runs]
    return inputs


def ablation_args(wildcards):
    ablation = wildcards.ablation
    runs = " ".join(f"--run {shlex.quote(f'{v}:{paths.fmt_percent(p)}:{s}:{d}')}"
                    for v, p, s, d in plan.ablation_runs(config, ablation))
    if config["ablations"][ablation]["setting"] == "layer_sparsity":
        return runs
    dense = " ".join(f"--dense {s}:{d}" for s, d in plan.ablation_dense_runs(config, ablation))
    return f"{dense} {runs}"


def imported_ticket_files(wildcards):
    """The user's files of an imported ticket: weights, and the mask if given."""
    ticket = plan.imported_tickets(config, wildcards.classifier)[float(wildcards.prune)]
    return {key: ticket[key] for key in ("weights", "mask") if key in ticket}


def imagenet_source(wildcards):
    """{"pretrained": classifier weights, "classifier_mask": its mask} of an ImageNet transfer."""
    weights, mask = plan.imagenet_source(config, wildcards.imagenet_transfer, wildcards.prune)
    return {"pretrained": weights, "classifier_mask": mask}


def task_transfer_inputs(wildcards):
    """A task transfer's ticket (its final mask; with `values` also the source's rewind weights) and the
    target's rewind point, or with `start: init` its dense run's snapshots (iteration 0)."""
    t = config["task_transfers"][wildcards.task_transfer]
    source = config["experiments"][wildcards.source]
    inputs = {
        "source_mask": f"{plan.final_round_dir(config, wildcards.source, t['prune_percent'], wildcards.seed)}/mask.npz",
    }
    if t["start"] == "init":  # the dense run's initial weights, a snapshot at iteration 0
        inputs["target_snapshots"] = SNAPSHOTS.format(model=wildcards.model, seed=wildcards.seed)
    else:
        inputs["target_weights"] = f"{DENSE.format(model=wildcards.model, seed=wildcards.seed)}/rewind.pth"
    if t["values"]:
        inputs["source_weights"] = f"{paths.dense_dir(paths.detector(R, source['model'], wildcards.seed))}/rewind.pth"
    return inputs


def task_transfer_args(wildcards, input):
    """--target-weights (the target's rewind point or initial weights), --values --source-weights
    (with `values`) and --groups (if configured) of a task transfer."""
    t = config["task_transfers"][wildcards.task_transfer]
    target = f"{input.target_snapshots}/iter0.pth" if t["start"] == "init" else input.target_weights
    args = [f"--target-weights {target}"]
    args += [f"--values --source-weights {input.source_weights}"] if t["values"] else []
    if "groups" in t:  # else lthsteps.task_transfer's default: up to the box head
        args.append(f"--groups {','.join(t['groups'])}")
    return " ".join(args)


def train_shell(arguments):
    """Shell command of a detector training rule: `lthsteps.train ARGUMENTS` as one process, or with
    `resources.train.gpu` N > 1 as N ranks under torchrun, after the GPU check (GPU_GUARD). Every such job measures its validation
    loss while it trains (config `val_loss`, output `val_loss`) and evaluates the weights it trained,
    in its own process (outputs `metrics` and `detections`)."""
    val_loss = config["val_loss"]
    arguments += (
        f" --val-loss-out {{output.val_loss}} --val-loss-measurements {val_loss['measurements']}"
        + (f" --val-loss-images {val_loss['images']}" if val_loss.get("images") else "")
        + " --metrics {output.metrics} --detections {output.detections}"
    )
    return GPU_GUARD + launch.train_command(arguments, TRAIN["gpu"])


# A lottery-ticket round or a transferred ticket: train `input.init` under `input.mask` from the
# rewind iteration on (late resetting), verify zeros off-mask.
TRAIN_TICKET = train_shell(
    "--config {input.config} --dataset {input.dataset} --seed {wildcards.seed}"
    " --work-dir {params.work_dir} --init {input.init} --start-iter {params.start_iter} --mask {input.mask}"
    " --out {output.weights} --report {output.report} --threads {threads}"
    " {params.options}"
)


def trained(folder):
    """Outputs of a detector training job in `folder`: weights, report, validation losses, metrics,
    detections."""
    return {
        "weights": f"{folder}/weights.pth",
        "report": f"{folder}/train.json",
        "val_loss": paths.val_loss(folder),
        "metrics": f"{folder}/metrics.json",
        "detections": directory(f"{folder}/detections"),
    }


def prepare_inputs(wildcards):
    return [paths.synthetic_data(R)] if config["datasets"][wildcards.dataset].get("synthetic") else []


def prepare_args(wildcards):
    ds = config["datasets"][wildcards.dataset]
    synthetic = paths.synthetic_data(R)
    root = f"{synthetic}/{ds['root']}" if ds.get("synthetic") else ds["root"]
    args = ["--name", wildcards.dataset, "--format", ds["format"], "--root", root,
            "--splits", shlex.quote(json.dumps(ds["splits"]))]
    if ds.get("classes"):
        args += ["--classes", shlex.quote(json.dumps(ds["classes"]))]
    elif ds.get("synthetic") and ds["format"] == "voc":
        args += ["--classes-from", f"{synthetic}/coco/annotations/instances_train.json"]
    if ds.get("voc_ap_mode"):
        args += ["--voc-ap-mode", ds["voc_ap_mode"]]
    if ds["keypoint_pixel_indices"]:
        args.append("--keypoint-pixel-indices")
    return " ".join(args)


def table_runs_args(wildcards):
    return " ".join(
        f"--run {paths.fmt_percent(p)}:{s}:{d}" for p, s, d in plan.table_runs(config, wildcards.experiment)
    )


# A run folder of a detector (its dense run or a round) whose detections an error analysis reads.
RUN = f"{DETECTOR}/{{run}}"
RUN_NAME = "|".join(["dense", rf"({one_of(STRATEGIES)})/p\d[0-9.]*/round\d\d*"])


def val_annotations(wildcards):
    """The COCO annotation file of the val split of a model's dataset (what its detections were evaluated on)."""
    return analysis_plan.dataset_ann_file(config, config["models"][wildcards.model]["dataset"], "val")


def analysis_inputs(wildcards):
    """What an analysis's table reads: each run's metrics and training report (object size, category),
    with the dataset descriptor for category_frequency's training annotations; each run's error files
    or validation losses and its training report (tide, keypoint_errors, convergence)."""
    name = wildcards.analysis
    a, folders = config["analyses"][name], [folder for *_, folder in analysis_plan.analysis_runs(config, name)]
    reports = [f"{folder}/train.json" for folder in folders]
    if a["analysis"] in analysis_plan.ONE_TICKET:
        return {"run_files": analysis_plan.analysis_run_files(config, name), "reports": reports}
    inputs = {"metrics": [f"{folder}/metrics.json" for folder in folders], "reports": reports}
    if a["analysis"] == "category_frequency":
        inputs["dataset"] = paths.dataset_descriptor(R, analysis_dataset(name))
    return inputs


def analysis_dataset(name):
    """The dataset of an analysis's experiment model."""
    return config["models"][config["experiments"][config["analyses"][name]["experiment"]]["model"]]["dataset"]


def train_annotations(name):
    """The training annotations an analysis counts category instances in (category_frequency)."""
    return analysis_plan.dataset_ann_file(config, analysis_dataset(name), "train")


ANALYSIS_MODULES = {"object_size": "lthsteps.object_size", "category_frequency": "lthsteps.category_change",
                    "category_difficulty": "lthsteps.category_change", "tide": "lthsteps.error_comparison",
                    "keypoint_errors": "lthsteps.error_comparison", "convergence": "lthsteps.convergence"}


def analysis_args(wildcards):
    """The step's arguments before the outputs: what the analysis compares (runs as --dense SEED:DIR and
    --run PRUNE:SEED:DIR) and its settings."""
    name = wildcards.analysis
    a = config["analyses"][name]
    analysis, task = a["analysis"], analysis_plan.analysis_task(config, name)
    args = {"tide": ["tide", f"--task {task}"], "keypoint_errors": ["keypoint_errors"], "convergence": [],
            "object_size": [f"--tasks {task}"] if task else [],
            "category_frequency": ["--by frequency", f"--task {task}", f"--train-ann {train_annotations(name)}"],
            "category_difficulty": ["--by difficulty", f"--task {task}", f"--top {a.get('top', 3)}"]}[analysis]
    if analysis.startswith("category_"):
        args.append(f"--prunes {','.join(paths.fmt_percent(p) for p in analysis_plan.analysis_prunes(config, name))}")
    args += [f"--name {figure_args.study_title(config, name)}", f"--paper {shlex.quote(a.get('paper', ''))}"]
    for prune, seed, folder in analysis_plan.analysis_runs(config, name):
        args.append(f"--dense {seed}:{folder}" if prune == 0 else f"--run {paths.fmt_percent(prune)}:{seed}:{folder}")
    return " ".join(args)


# The Snakemake report (`snakemake --report report.html`): every table and figure sits in a category
# (the kind of result) and a subcategory (the paper item it reproduces); labels tell its files apart
# and name the config they came from. Captions (workflow/report/) say how to read them.
SECTIONS = {
    "experiments": "Direct pruning",
    "imagenet_transfers": None,  # by mode: "ImageNet ticket transfer" / "ImageNet mask transfer"
    "comparisons": "Comparisons",
    "task_transfers": "Task transfer",
    "ablations": "Direct pruning ablations (§4.3)",
    "analyses": "§4.4 analyses",
}


def section_of(name):
    return next(section for section in SECTIONS if name in config[section])


def paper_entry(name):
    """The `paper` entry of an experiment, ImageNet transfer, comparison, task transfer, ablation or analysis
    ("" if none)."""
    return config[section_of(name)][name].get("paper", "")


def paper_item(name):
    return paper_entry(name) or "no paper item named"


def result_category(name):
    section = section_of(name)
    return SECTIONS[section] or f"ImageNet {config[section][name]['mode']} transfer"


def config_source():
    """The config files this run read (relative to the working directory when inside it) and any
    --config overrides."""
    files = [Path(path).absolute() for path in workflow.configfiles]
    shown = [str(f.relative_to(Path.cwd()) if f.is_relative_to(Path.cwd()) else f) for f in files]
    overrides = [f"--config {key}={value}" for key, value in workflow.config_settings.config.items()]
    return ", ".join(shown + overrides)


def report_entry(path, wildcard, caption, file):
    """`path` (with the wildcard naming its result) marked for the report, under the result's
    category and paper item, labelled by result, file kind and config."""
    return report(
        path,
        caption=caption,
        category=lambda wildcards: result_category(getattr(wildcards, wildcard)),
        subcategory=lambda wildcards: paper_item(getattr(wildcards, wildcard)),
        labels=lambda wildcards: {
            "result": getattr(wildcards, wildcard), "file": file, "config": config_source()
        },
    )


def summary_outputs(wildcard, caption, figure=True):
    """A summary's table (CSV + Markdown) and figure, each marked for the report."""
    out = {
        "csv": report_entry(paths.table(R, f"{{{wildcard}}}", "csv"), wildcard, caption, "table (CSV)"),
        "markdown": report_entry(paths.table(R, f"{{{wildcard}}}", "md"), wildcard, caption, "table (Markdown)"),
    }
    if figure:
        out["figure"] = report_entry(paths.figure(R, f"{{{wildcard}}}"), wildcard, caption, "figure")
    return out


# The paper side by side (workflow/rules/paper.smk): first in the report ("Claims ..." sorts before
# every other category), the paper's item as subcategory.
PAPER_CATEGORY = "Claims and the paper's tables"
SYNTHETIC = [name for name, d in config["datasets"].items() if d.get("synthetic")]
PAPER_NOTE = (
    f"This config's data are generated ({', '.join(SYNTHETIC)}), not COCO or VOC: the network sparsity columns "
    "test the structure (pruned weights of the same modules), the mAP columns are of another data set and "
    "differ from the paper's by design."
    if SYNTHETIC
    else "A cell without a result (—) is filled by another config of this workflow or not run."
)


def paper_table_inputs(wildcards):
    """{entry: its table CSV} of the entries whose `paper` names the table."""
    return {name: paths.table(R, name, "csv") for name in plan.paper_table_entries(config, wildcards.table)}


def paper_report_entry(path, file, result=None):
    """A paper-side-by-side output marked for the report under PAPER_CATEGORY: a paper table (the
    `table` wildcard names it) or, with `result`, that result (the claims)."""
    return report(
        path,
        caption=f"../report/{'paper_table' if result is None else result}.rst",
        category=PAPER_CATEGORY,
        subcategory=lambda wildcards: "Claims" if result else f"Table {wildcards.table[-1]}",
        labels=lambda wildcards: {"result": result or wildcards.table, "file": file, "config": config_source()},
    )


check_config(config, REPO)
