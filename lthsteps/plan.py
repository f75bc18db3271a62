"""The job plan of a workflow config, defined once: which runs it trains, which tables and figures
it makes. The Snakefile asks for ``targets`` (Snakemake derives the jobs behind them),
``lthsteps.gpu_hours`` prices ``training_runs``, and the dry-run tests check both against
``snakemake -n``.

``config`` is a parsed workflow config (the YAML as a dict, after the schema's defaults). Paths come
from ``lthsteps.paths``; ``results`` is the config's ``results_dir``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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


def rounds(config: Mapping, strategy: str) -> int:
    return config["strategies"][strategy]["rounds"]


def round_start_iter(config: Mapping, model: str) -> int:
    """The iteration a round (or a task transfer) of ``model`` starts at: its rewind iteration, or 0
    with ``restart_schedule`` (the whole schedule again from the rewind weights)."""
    m = config["models"][model]
    return 0 if m.get("restart_schedule") else m["rewind_iter"]


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
    """Every detector training job of the config: each (model, seed) dense run once, each round of
    every experiment, each ImageNet transfer and each task-transfer direction."""
    results = results_dir(config)
    experiments, imagenet = config["experiments"], config.get("imagenet_transfers", {})
    dense = sorted({(e["model"], s) for e in [*experiments.values(), *imagenet.values()] for s in e["seeds"]})
    runs = [TrainingRun("train_dense", m, s, paths.dense_dir(paths.detector(results, m, s)), 0) for m, s in dense]
    for e in experiments.values():
        rewind = round_start_iter(config, e["model"])
        network = {s: paths.detector(results, e["model"], s) for s in e["seeds"]}
        runs += [TrainingRun("train_round", e["model"], s, paths.round_dir(network[s], e["strategy"], p, r), rewind)
                 for s in e["seeds"] for p in e["prune_percents"] for r in range(1, rounds(config, e["strategy"]) + 1)]
    for name in config.get("task_transfers", {}):
        runs += [TrainingRun("train_task_transfer", model, seed, folder, round_start_iter(config, model))
                 for _, model, _, seed, folder in task_transfer_runs(config, name)]
    for name, t in imagenet.items():
        runs += [TrainingRun("train_imagenet_transfer", t["model"], s,
                             paths.imagenet_transfer_dir(results, t["model"], s, name, p), 0)
                 for s in t["seeds"] for p in t["prune_percents"]]
    return runs


def targets(config: Mapping) -> list[str]:
    """What `snakemake` (rule all) makes: a table (CSV + Markdown) and a figure per experiment,
    ImageNet transfer and comparison, a table per task transfer, every ImageNet ticket's files."""
    results = results_dir(config)
    figures = [*config["experiments"], *config.get("imagenet_transfers", {}), *config.get("comparisons", {})]
    out = [p for name in figures for p in
           (paths.table(results, name, "csv"), paths.table(results, name, "md"), paths.figure(results, name))]
    out += [paths.table(results, name, ext) for name in config.get("task_transfers", {}) for ext in ("csv", "md")]
    return out + [f"{folder}/{file}" for folder in classifier_tickets(config)
                  for file in ("weights.pth", "mask.npz", "train.json")]
