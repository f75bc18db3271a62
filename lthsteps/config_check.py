"""Start-up checks of a workflow config beyond what its JSON schema can say: keys that were renamed,
names that must refer to other sections, files that must exist, tickets that must be made. The
Snakefile calls ``check_renamed`` before the schema validation (so an old key gets its new name,
not a schema error) and ``check`` after it, before any job runs.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from lthsteps.plan import imported_tickets

# Old key path -> what to do instead.
RENAMED = {
    ("ticket_transfers",): "rename `ticket_transfers` to `imagenet_transfers` (same entries)",
    ("transfers",): "rename `transfers` to `task_transfers` (same entries)",
    ("resources", "evaluate"): "remove resources.evaluate: every detector's training job evaluates what it "
                               "trained, with resources.train",
}


class ConfigError(ValueError):
    """A config the workflow cannot run, with every problem and its fix."""

    def __init__(self, problems: list[str]):
        sep = "\n  "
        super().__init__(f"invalid config:{sep}{sep.join(problems)}")
        self.problems = problems


def check_renamed(config: Mapping) -> None:
    problems = []
    for keys, fix in RENAMED.items():
        section = config
        for key in keys[:-1]:
            section = section.get(key) or {}
        if keys[-1] in section:
            problems.append(f"{'.'.join(keys)} is no longer a config key: {fix}")
    if problems:
        raise ConfigError(problems)


def model_config(config: Mapping, model: str, repo: Path) -> Path:
    """A model's MMDetection config file (relative paths are relative to the repository)."""
    path = Path(config["models"][model]["config"])
    return path if path.is_absolute() else repo / path


def check(config: Mapping, repo: Path) -> None:
    """Raise ConfigError naming every cross-reference problem of ``config`` and its fix."""
    problems = [*_models(config, repo), *_classifiers(config), *_imagenet_transfers(config),
                *_experiments(config), *_comparisons(config), *_task_transfers(config), *_datasets(config)]
    if problems:
        raise ConfigError(problems)


def _models(config: Mapping, repo: Path) -> list[str]:
    problems = []
    for name, model in config["models"].items():
        if model["dataset"] not in config["datasets"]:
            problems.append(f"models.{name}.dataset '{model['dataset']}' is not a key of `datasets`")
        if not model_config(config, name, repo).is_file():
            problems.append(f"models.{name}.config: {model_config(config, name, repo)} does not exist")
        if model.get("pretrained") and model["pretrained"] not in config["classifiers"]:
            problems.append(f"models.{name}.pretrained '{model['pretrained']}' is not a key of `classifiers`")
    return problems


def _classifiers(config: Mapping) -> list[str]:
    problems = []
    for name, clf in config["classifiers"].items():
        for key in ("data", "weights"):
            if key in clf and not Path(clf[key]).exists():
                problems.append(f"classifiers.{name}.{key} {clf[key]} does not exist: fix the path or remove the key")
        for ticket in clf.get("imported_tickets", []):
            for key in ("weights", "mask"):
                if key in ticket and not Path(ticket[key]).is_file():
                    problems.append(f"classifiers.{name}.imported_tickets (p{ticket['prune_percent']:g}).{key} "
                                    f"{ticket[key]} does not exist: fix the path")
        tickets = clf.get("tickets")
        if tickets and tickets["strategy"] not in config["strategies"]:
            problems.append(f"classifiers.{name}.tickets.strategy '{tickets['strategy']}' is not a key of `strategies`")
        if tickets and "weights" in clf:
            problems.append(f"classifiers.{name}: tickets retrain from the dense run's rewind point (late resetting), "
                            "which an imported `weights` file lacks: remove `weights` to train the classifier in the "
                            "workflow")
        if "data" not in clf and "weights" not in clf and "synthetic" not in config:
            problems.append(f"classifiers.{name} has neither `data` nor `weights`, and the config has no `synthetic` "
                            "section")
    return problems


def _imagenet_transfers(config: Mapping) -> list[str]:
    problems = []
    for name, t in config["imagenet_transfers"].items():
        where = f"imagenet_transfers.{name}"
        if name in config["experiments"] or name in config.get("comparisons", {}):
            problems.append(f"{where}: an experiment or comparison has the same name (their tables would collide)")
        clf = config["classifiers"].get(t["classifier"])
        if clf is None:
            problems.append(f"{where}.classifier '{t['classifier']}' is not a key of `classifiers`")
        if t["model"] not in config["models"]:
            problems.append(f"{where}.model '{t['model']}' is not a key of `models`")
        if t["mode"] == "ticket" and clf is not None:
            missing = (set(t["prune_percents"]) - set(clf.get("tickets", {}).get("prune_percents", []))
                       - set(imported_tickets(config, t["classifier"])))
            if missing:
                problems.append(f"{where}: no ticket of classifiers.{t['classifier']} at {sorted(missing)}%: add them "
                                "to its `tickets.prune_percents`, or to `imported_tickets` with the ticket's files")
        if t["mode"] == "mask":
            strategy = config["strategies"].get(t.get("strategy"))
            if strategy is None or strategy["rounds"] != 1:
                problems.append(f"{where}.strategy: mode mask needs a one-shot strategy (a key of `strategies` with "
                                "rounds 1)")
    return problems


def _experiments(config: Mapping) -> list[str]:
    problems = []
    for name, e in config["experiments"].items():
        if e["model"] not in config["models"]:
            problems.append(f"experiments.{name}.model '{e['model']}' is not a key of `models`")
        if e["strategy"] not in config["strategies"]:
            problems.append(f"experiments.{name}.strategy '{e['strategy']}' is not a key of `strategies`")
    return problems


def _comparisons(config: Mapping) -> list[str]:
    problems = []
    for name, comparison in config.get("comparisons", {}).items():
        if name in config["experiments"]:
            problems.append(f"comparisons.{name}: an experiment has the same name (their tables would collide): "
                            "rename one")
        for e in comparison["experiments"]:
            if e not in config["experiments"] and e not in config["imagenet_transfers"]:
                problems.append(f"comparisons.{name}.experiments: '{e}' is not a key of `experiments` or "
                                "`imagenet_transfers`")
    return problems


def _task_transfers(config: Mapping) -> list[str]:
    problems = []
    for name, t in config.get("task_transfers", {}).items():
        if name in config["experiments"] or name in config.get("comparisons", {}):
            problems.append(f"task_transfers.{name}: an experiment or comparison has the same name (their tables "
                            "would collide): rename one")
        experiments = [config["experiments"].get(e) for e in t["experiments"]]
        if None in experiments:
            problems.append(f"task_transfers.{name}.experiments {t['experiments']}: each must be a key of "
                            "`experiments`")
            continue
        for e_name, e in zip(t["experiments"], experiments):
            if t["prune_percent"] not in e["prune_percents"]:
                problems.append(f"task_transfers.{name}.prune_percent {t['prune_percent']} is not in "
                                f"experiments.{e_name}.prune_percents: add it there (the direct ticket is the "
                                "transferred one)")
        if set(experiments[0]["seeds"]) != set(experiments[1]["seeds"]):
            problems.append(f"task_transfers.{name}: experiments {t['experiments']} have different seeds; give them "
                            "the same")
    return problems


def _datasets(config: Mapping) -> list[str]:
    problems = []
    for name, ds in config["datasets"].items():
        if ds.get("synthetic") and "synthetic" not in config:
            problems.append(f"datasets.{name} is synthetic but the config has no `synthetic` section")
        if not ds.get("synthetic") and not Path(ds["root"]).is_dir():
            problems.append(f"datasets.{name}.root {ds['root']} does not exist: point it at the dataset folder")
        wanted = {"coco": {"ann_file", "img_dir"}, "voc": {"split"}}[ds["format"]]
        for split, spec in ds["splits"].items():
            if set(spec) != wanted:
                problems.append(f"datasets.{name}.splits.{split} needs exactly {sorted(wanted)} for format "
                                f"{ds['format']}")
    return problems
