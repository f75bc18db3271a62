"""The job plan of a workflow config, defined once: which runs it trains, which tables and figures
it makes. The Snakefile asks for ``targets`` (Snakemake derives the jobs behind them),
``lthsteps.gpu_hours`` prices ``training_runs``, and the dry-run tests check both against
``snakemake -n``.

``config`` is a parsed workflow config (the YAML as a dict, after the schema's defaults). Paths come
from ``lthsteps.paths``; ``results`` is the config's ``results_dir``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

from lthsteps import paths


@dataclass(frozen=True)
class TrainingRun:
    """One detector training job: its rule, model, seed, result folder and first iteration."""

    rule: str
    model: str
    seed: int
    folder: str
    start_iter: int


def results_dir(config: Mapping) -> str:
    return config.get("results_dir", "results")


# §4.3 ablations (config `ablations`): the setting each varies about an experiment's ticket.
ABLATION_SETTINGS = ("modules", "rewind_iter", "layer_sparsity", "rounds", "scope", "early_bird", "controls")
# Settings that derive a strategy per value (the runs are ordinary rounds of it) and those that
# branch off the experiment's round (same network folder, `branches/<branch>`).
DERIVED_STRATEGY_SETTINGS = ("modules", "rounds", "scope", "layer_sparsity")
CONTROLS = ("random_mask", "reinit")
TABLE3_MODULES = ("backbone_base", "backbone_top", "rpn", "box_head")  # the paper's Base, Top, RPN, Box/Cls head
# Module groups (lthsteps.masks.groups.GROUPS, without importing torch here) and their short names
# in derived strategy names.
MODULES = {"backbone_base": "base", "backbone_top": "top", "neck": "neck", "rpn": "rpn", "box_head": "box",
           "mask_head": "mask", "keypoint_head": "keypoint", "other": "other"}


def strategies(config: Mapping) -> dict[str, Mapping]:
    """Every strategy by name: the configured ones and those the ablations derive from their
    experiment's strategy (one per varied value). A derived strategy equal to a configured one is
    that one: its runs are shared, not trained twice."""
    out = dict(config["strategies"])
    for ablation in config.get("ablations", {}).values():
        experiment = config["experiments"].get(ablation["experiment"])
        if experiment is None or experiment["strategy"] not in out:
            continue  # a bad reference: lthsteps.config_check names it at start-up
        if ablation["setting"] in DERIVED_STRATEGY_SETTINGS:
            for value in ablation_values(ablation):
                out.setdefault(*derived_strategy(config, ablation, value))
    return out


def rounds(config: Mapping, strategy: str) -> int:
    return strategies(config)[strategy]["rounds"]


def ablation_values(ablation: Mapping) -> list[str]:
    """The values an ablation's runs are labelled with: Table 3's module combinations (every non-empty
    subset of `values`, joined by '+'), `-` for layer_sparsity, `ticket` and the controls, or
    `values` as given."""
    setting = ablation["setting"]
    if setting == "modules":
        ordered = [m for m in MODULES if m in ablation["values"]]
        return ["+".join(c) for k in range(1, len(ordered) + 1) for c in combinations(ordered, k)]
    if setting == "layer_sparsity":
        return ["-"]
    if setting == "controls":
        return ["ticket", *ablation["values"]]
    return [f"{v:g}" if isinstance(v, float) else str(v) for v in ablation["values"]]


def derived_strategy(config: Mapping, ablation: Mapping, value: str) -> tuple[str, dict]:
    """(name, spec) of the strategy a modules/rounds/scope/layer_sparsity ablation trains for `value`:
    the experiment's strategy with that one setting changed (Table 3: the conv and linear weights of
    the ticked modules, ranked with the ablation's `scope`; Fig 2c: one shot)."""
    base_name = config["experiments"][ablation["experiment"]]["strategy"]
    base = dict(config["strategies"][base_name])
    setting = ablation["setting"]
    if setting == "modules":
        groups = value.split("+")
        # Every conv and linear weight of the ticked modules: Table 3's Box/Cls head is two FCs.
        spec = {**base, "groups": groups, "scope": ablation["scope"], "kinds": ["conv", "linear"]}
        suffix = "modules_" + "_".join(MODULES[g] for g in groups)
    elif setting == "rounds":
        spec, suffix = {**base, "rounds": int(value)}, f"rounds{value}"
    elif setting == "scope":
        spec, suffix = {**base, "scope": value}, value
    else:  # layer_sparsity: the masks one shot at each percent
        spec, suffix = {**base, "rounds": 1}, "oneshot"
    same = next((name for name, s in config["strategies"].items() if dict(s) == spec), None)
    return same or f"{base_name}_{suffix}", spec


def round_start_iter(config: Mapping, model: str) -> int:
    """The iteration a round (or a task transfer) of ``model`` starts at: its rewind iteration, or 0
    with ``restart_schedule`` (the whole schedule again from the rewind weights)."""
    m = config["models"][model]
    return 0 if m.get("restart_schedule") else m["rewind_iter"]


def task_transfer_start_iter(config: Mapping, name: str, model: str) -> int:
    """The iteration a task transfer into ``model`` starts at: 0 with ``start: init`` (the whole
    schedule from the target's initial weights), else as a round of ``model``."""
    return 0 if config["task_transfers"][name].get("start") == "init" else round_start_iter(config, model)


def imported_tickets(config: Mapping, classifier: str) -> dict[float, Mapping]:
    """{prune percent: entry} of a classifier's ``imported_tickets``."""
    return {float(t["prune_percent"]): t for t in config["classifiers"][classifier].get("imported_tickets", [])}


def classifier_weights(config: Mapping, classifier: str) -> str:
    """A classifier's dense weights: imported (``weights``) or trained by the workflow."""
    c = config["classifiers"][classifier]
    return c.get("weights") or f"{paths.dense_dir(paths.classifier(results_dir(config), classifier))}/weights.pth"


def dense_weights(config: Mapping, network: str) -> str:
    """The dense weights a network folder's round 1 is ranked on (an imported classifier's own file)."""
    imported = {paths.classifier(results_dir(config), name): c["weights"]
                for name, c in config["classifiers"].items() if "weights" in c}
    return imported.get(network) or f"{paths.dense_dir(network)}/weights.pth"


def final_round_dir(config: Mapping, experiment: str, prune: float, seed: int) -> str:
    """The last round of a direct-pruning experiment at one prune percent and seed."""
    e = config["experiments"][experiment]
    network = paths.detector(results_dir(config), e["model"], seed)
    return paths.round_dir(network, e["strategy"], prune, rounds(config, e["strategy"]))


def imagenet_ticket_dir(config: Mapping, classifier: str, prune: float) -> str:
    """The folder of a classifier's ticket at one prune percent: imported, or its final IMP round."""
    results = results_dir(config)
    if float(prune) in imported_tickets(config, classifier):
        return paths.imported_ticket_dir(results, classifier, prune)
    strategy = config["classifiers"][classifier]["tickets"]["strategy"]
    return paths.round_dir(paths.classifier(results, classifier), strategy, prune, rounds(config, strategy))


def imagenet_source(config: Mapping, name: str, prune: float | str) -> tuple[str, str]:
    """(classifier weights, classifier mask) an ImageNet transfer starts from: the ticket's (mode
    ticket), or the dense weights with a one-shot mask ranked on them (mode mask)."""
    t = config["imagenet_transfers"][name]
    if t["mode"] == "mask":
        network = paths.classifier(results_dir(config), t["classifier"])
        return classifier_weights(config, t["classifier"]), f"{paths.round_dir(network, t['strategy'], prune, 1)}/mask.npz"
    ticket = imagenet_ticket_dir(config, t["classifier"], float(prune))
    return f"{ticket}/weights.pth", f"{ticket}/mask.npz"


def branch_name(setting: str, value: str) -> str:
    """The branch folder of a rewind_iter / early_bird / controls value (early_bird: percent of training)."""
    if setting == "rewind_iter":
        return f"rewind{value}"
    if setting == "early_bird":
        return f"early_bird{paths.fmt_percent(round(100 * float(value), 6))}"
    return value


def early_bird_fraction(branch: str) -> float:
    """The fraction of training of an `early_bird<percent>` branch."""
    return float(branch.removeprefix("early_bird")) / 100


def early_bird_iter(fraction: float, max_iters: int) -> int:
    """The dense run's iteration at `fraction` of its `max_iters` (rounded to the nearest)."""
    return round(fraction * max_iters)


def ablation_runs(config: Mapping, name: str) -> list[tuple[str, float, int, str]]:
    """(value, prune %, seed, run folder) of every run of an ablation. A value that is the experiment's
    own ticket (its rewind point, a mask drawn at the end of training, the ticket beside its controls,
    a derived strategy equal to its own) is the experiment's run folder."""
    ablation = config["ablations"][name]
    e = config["experiments"][ablation["experiment"]]
    setting, rows = ablation["setting"], []
    for seed in ablation_seeds(config, name):
        network = paths.detector(results_dir(config), e["model"], seed)
        for prune in ablation["prune_percents"]:
            for value in ablation_values(ablation):
                if setting in DERIVED_STRATEGY_SETTINGS:
                    strategy = derived_strategy(config, ablation, value)[0]
                    rounds_ = 1 if setting == "layer_sparsity" else rounds(config, strategy)
                    folder = paths.round_dir(network, strategy, prune, rounds_)
                else:
                    folder = paths.round_dir(network, e["strategy"], prune, rounds(config, e["strategy"]))
                    if not _is_own_ticket(config, ablation, value):
                        folder = paths.branch_dir(folder, branch_name(setting, value))
                rows.append((value, prune, seed, folder))
    return rows


def ablation_seeds(config: Mapping, name: str) -> list[int]:
    ablation = config["ablations"][name]
    return ablation.get("seeds") or config["experiments"][ablation["experiment"]]["seeds"]


def _is_own_ticket(config: Mapping, ablation: Mapping, value: str) -> bool:
    model = config["models"][config["experiments"][ablation["experiment"]]["model"]]
    setting = ablation["setting"]
    if setting == "rewind_iter":
        return int(value) == model["rewind_iter"]
    return float(value) == 1.0 if setting == "early_bird" else value == "ticket"


def snapshot_iters(config: Mapping, model: str, seed: int, max_iters: int) -> list[int]:
    """The iterations the dense run of (model, seed) saves weights at for the ablations at that seed
    (rewind points other than the model's own, early-bird masks) and for task transfers that start
    from its initial weights (iteration 0): sorted, each once."""
    iters = set()
    for name, t in config.get("task_transfers", {}).items():
        if t.get("start") == "init" and any(m == model and s == seed for _, m, _, s, _ in task_transfer_runs(config, name)):
            iters.add(0)
    for name, ablation in config.get("ablations", {}).items():
        if config["experiments"][ablation["experiment"]]["model"] != model or seed not in ablation_seeds(config, name):
            continue
        if ablation["setting"] == "rewind_iter":
            iters |= {int(v) for v in ablation["values"] if int(v) != config["models"][model]["rewind_iter"]}
        elif ablation["setting"] == "early_bird":
            iters |= {early_bird_iter(float(v), max_iters) for v in ablation["values"] if float(v) < 1}
    return sorted(iters)


def ablation_dense_runs(config: Mapping, name: str) -> list[tuple[int, str]]:
    """(seed, dense run folder) of an ablation's experiment model, per seed."""
    model = config["experiments"][config["ablations"][name]["experiment"]]["model"]
    return [(s, paths.dense_dir(paths.detector(results_dir(config), model, s))) for s in ablation_seeds(config, name)]


def table_runs(config: Mapping, name: str) -> list[tuple[float, int, str]]:
    """(prune %, seed, run folder) rows of the table of an experiment or an ImageNet transfer; the
    dense runs are the 0% rows."""
    results = results_dir(config)
    e = config["experiments"].get(name) or config["imagenet_transfers"][name]
    rows = [(0, s, paths.dense_dir(paths.detector(results, e["model"], s))) for s in e["seeds"]]
    if name in config["experiments"]:
        return rows + [(p, s, final_round_dir(config, name, p, s)) for p in e["prune_percents"] for s in e["seeds"]]
    return rows + [(p, s, paths.imagenet_transfer_dir(results, e["model"], s, name, p))
                   for p in e["prune_percents"] for s in e["seeds"]]


def task_transfer_runs(config: Mapping, name: str) -> list[tuple[str, str, str, int, str]]:
    """(source experiment, target model, direct ticket folder, seed, transferred run folder) of a task
    transfer: each experiment's ticket goes into the other's model, every seed."""
    t = config["task_transfers"][name]
    a, b = t["experiments"]
    runs = []
    for source, target in ((a, b), (b, a)):
        model = config["experiments"][target]["model"]
        for seed in config["experiments"][source]["seeds"]:
            runs.append((source, model, final_round_dir(config, source, t["prune_percent"], seed), seed,
                         paths.task_transfer_dir(results_dir(config), model, seed, name, source)))
    return runs


def task_transfer_table_runs(config: Mapping, name: str) -> list[tuple[str, str]]:
    """(source run, trained run) folders of a task-transfer table: each direct ticket beside itself,
    then the ticket moved into the other model."""
    rows = []
    for _, _, direct, _, moved in task_transfer_runs(config, name):
        rows += [(direct, direct), (direct, moved)]
    return rows


def classifier_tickets(config: Mapping) -> list[str]:
    """Final-round folders of every ImageNet ticket the workflow finds (not imported ones)."""
    folders = []
    for name, c in config.get("classifiers", {}).items():
        if "tickets" in c:
            network, strategy = paths.classifier(results_dir(config), name), c["tickets"]["strategy"]
            folders += [paths.round_dir(network, strategy, p, rounds(config, strategy)) for p in c["tickets"]["prune_percents"]]
    return folders


def training_runs(config: Mapping) -> list[TrainingRun]:
    """Every detector training job of the config, each once: each (model, seed) dense run, each round
    of every experiment and ablation, each ablation branch, each ImageNet transfer and each task-transfer
    direction."""
    results = results_dir(config)
    experiments, imagenet = config["experiments"], config.get("imagenet_transfers", {})
    ablations = config.get("ablations", {})
    dense = {(e["model"], s) for e in [*experiments.values(), *imagenet.values()] for s in e["seeds"]}
    dense |= {(experiments[st["experiment"]]["model"], s) for name, st in ablations.items() for s in ablation_seeds(config, name)}
    runs = [TrainingRun("train_dense", m, s, paths.dense_dir(paths.detector(results, m, s)), 0) for m, s in sorted(dense)]
    for e in experiments.values():
        runs += [run for s in e["seeds"] for p in e["prune_percents"]
                 for run in _rounds(config, e["model"], s, e["strategy"], p)]
    for name, ablation in ablations.items():
        runs += _ablation_trainings(config, name, ablation)
    for name in config.get("task_transfers", {}):
        runs += [TrainingRun("train_task_transfer", model, seed, folder, task_transfer_start_iter(config, name, model))
                 for _, model, _, seed, folder in task_transfer_runs(config, name)]
    for name, t in imagenet.items():
        runs += [TrainingRun("train_imagenet_transfer", t["model"], s,
                             paths.imagenet_transfer_dir(results, t["model"], s, name, p), 0)
                 for s in t["seeds"] for p in t["prune_percents"]]
    seen: set[str] = set()
    return [run for run in runs if not (run.folder in seen or seen.add(run.folder))]  # each folder once


def _rounds(config: Mapping, model: str, seed: int, strategy: str, prune: float) -> list[TrainingRun]:
    """The rounds 1..R of a strategy at one prune percent (each restarts from the rewind point)."""
    network = paths.detector(results_dir(config), model, seed)
    return [TrainingRun("train_round", model, seed, paths.round_dir(network, strategy, prune, r),
                        round_start_iter(config, model)) for r in range(1, rounds(config, strategy) + 1)]


def _ablation_trainings(config: Mapping, name: str, ablation: Mapping) -> list[TrainingRun]:
    """An ablation's rounds (derived strategies, or the experiment's own that its branches hang off) and
    branches; layer_sparsity trains nothing (masks only)."""
    if ablation["setting"] == "layer_sparsity":
        return []
    e = config["experiments"][ablation["experiment"]]
    runs = []
    for value, prune, seed, folder in ablation_runs(config, name):
        strategy = derived_strategy(config, ablation, value)[0] if ablation["setting"] in DERIVED_STRATEGY_SETTINGS \
            else e["strategy"]
        runs += _rounds(config, e["model"], seed, strategy, prune)
        if "/branches/" in folder:
            branch = folder.rsplit("/", 1)[1]
            runs.append(TrainingRun("train_branch", e["model"], seed, folder, branch_start_iter(config, e["model"], branch)))
    return runs


def branch_start_iter(config: Mapping, model: str, branch: str) -> int:
    """The iteration a branch trains from: its own rewind point (`rewind<n>`), else the model's
    (0 with `restart_schedule`: the whole schedule again)."""
    if config["models"][model].get("restart_schedule"):
        return 0
    if branch.startswith("rewind"):
        return int(branch.removeprefix("rewind"))
    return config["models"][model]["rewind_iter"]


# The paper's tables the workflow lays out beside their published numbers (lthsteps.paper_tables),
# and which config entries fill each: the section, and the mode or setting an entry needs.
PAPER_TABLES = {"table1": ("imagenet_transfers", "mode", "ticket"), "table2": ("imagenet_transfers", "mode", "ticket"),
                "table3": ("ablations", "setting", "modules"), "table4": ("imagenet_transfers", "mode", "mask"),
                "table5": ("task_transfers", None, None)}
_TABLE_ITEM = re.compile(r"\bTable\s*([1-5])\b")


def paper_table_entries(config: Mapping, table: str) -> list[str]:
    """The config entries whose `paper` names ``table`` (e.g. "Table 1, Fig 1") in the section that
    can fill it, in config order."""
    section, key, value = PAPER_TABLES[table]
    return [name for name, entry in config.get(section, {}).items()
            if table[-1] in _TABLE_ITEM.findall(entry.get("paper", "")) and (key is None or entry.get(key) == value)]


def paper_tables(config: Mapping) -> list[str]:
    """The paper's tables this config fills at least one part of."""
    return [table for table in PAPER_TABLES if paper_table_entries(config, table)]


def targets(config: Mapping) -> list[str]:
    """What `snakemake` (rule all) makes: a table (CSV + Markdown) and a figure per experiment,
    ImageNet transfer, comparison, ablation and analysis, a table per task transfer, every ImageNet
    ticket's files; the paper's tables it fills and the paper's claims checked (``paper/``)."""
    results = results_dir(config)
    figures = [*config["experiments"], *config.get("imagenet_transfers", {}), *config.get("comparisons", {})]
    out = [p for name in figures for p in
           (paths.table(results, name, "csv"), paths.table(results, name, "md"), paths.figure(results, name))]
    out += [paths.table(results, name, ext) for name in config.get("task_transfers", {}) for ext in ("csv", "md")]
    out += [p for name in [*config.get("ablations", {}), *config.get("analyses", {})] for p in
            (paths.table(results, name, "csv"), paths.table(results, name, "md"), paths.figure(results, name))]
    out += [paths.paper_table(results, table, ext) for table in paper_tables(config) for ext in ("csv", "md")]
    out += [paths.claims(results, ext) for ext in ("csv", "md")]
    return out + [f"{folder}/{file}" for folder in classifier_tickets(config)
                  for file in ("weights.pth", "mask.npz", "train.json")]


def summary_tables(config: Mapping) -> list[str]:
    """The CSV table of every experiment, ImageNet transfer, comparison, task transfer, ablation and
    analysis: what the paper's claims are checked on."""
    prefix = paths.table(results_dir(config), "", "csv").removesuffix(".csv")
    return [p for p in targets(config) if p.startswith(prefix) and p.endswith(".csv")]
