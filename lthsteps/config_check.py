"""Start-up checks of a workflow config beyond what its JSON schema can say: keys that were renamed,
names that must refer to other sections, files that must exist, tickets that must be made. The
Snakefile calls ``check_renamed`` before the schema validation (so an old key gets its new name,
not a schema error) and ``check`` after it, before any job runs.
"""
from __future__ import annotations

import ast
import difflib
import os
from collections.abc import Mapping
from pathlib import Path

import yaml

from lthsteps.analysis_plan import ANALYSIS_KEYS, ANALYSIS_TASKS, ONE_TICKET
from lthsteps.plan import CONTROLS, TABLE3_MODULES, imported_tickets

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


def check_schema(config: Mapping, schema_file: str | Path) -> None:
    """Every schema violation as one line: the key, what was given and what is allowed (the schema's
    own message), without the schema dump of a raw ValidationError. Snakemake's ``validate`` runs
    after this for the defaults."""
    from jsonschema import Draft202012Validator

    schema = yaml.safe_load(Path(schema_file).read_text())
    errors = sorted(Draft202012Validator(schema).iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ConfigError([f"{'.'.join(map(str, e.absolute_path)) or 'the config'}: {e.message} (the "
                           f"`{e.absolute_path[0] if e.absolute_path else 'top-level'}` keys: config/README.md)"
                           for e in errors])


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


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, but a key given twice in one mapping is an error (YAML itself says so;
    PyYAML would silently keep the last value)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor`: its keys may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise ConfigError([f"{Path(key_node.start_mark.name)} line {key_node.start_mark.line + 1}: key "
                                   f"'{key}' is given twice in one section (first at line {seen[key]}): the second "
                                   "would silently replace the first; rename or remove one"])
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def check_config_files(files: list[str | Path]) -> None:
    """Every config file given to the run is valid YAML without a key given twice."""
    for file in files:
        with open(file) as stream:
            yaml.load(stream, Loader=_StrictLoader)


def check_cores(cores: int | None) -> None:
    """`--cores 0` schedules nothing and Snakemake would wait forever."""
    if cores == 0:
        raise ConfigError(["--cores 0 runs no job (Snakemake would wait forever): give --cores N with N >= 1, "
                           "or --cores all"])


def model_config(config: Mapping, model: str, repo: Path) -> Path:
    """A model's MMDetection config file (relative paths are relative to the repository)."""
    path = Path(config["models"][model]["config"])
    return path if path.is_absolute() else repo / path


def check(config: Mapping, repo: Path) -> None:
    """Raise ConfigError naming every cross-reference problem of ``config`` and its fix."""
    problems = [*_results_dir(config), *_models(config, repo), *_model_configs(config, repo), *_classifiers(config), *_imagenet_transfers(config),
                *_experiments(config), *_comparisons(config), *_task_transfers(config),
                *_task_transfer_options(config, repo), *_datasets(config),
                *_ablations(config, repo), *_analyses(config, repo), *_paper_tables(config, repo)]
    if problems:
        raise ConfigError(problems)


def _paper_tables(config: Mapping, repo: Path) -> list[str]:
    """Tables 1, 2 and 4 take one ImageNet transfer per column group (COCO detection and segmentation:
    a model with a mask head; COCO keypoint; VOC detection), found by the entries' `paper` items."""
    from lthsteps.plan import paper_table_entries

    problems = []
    for table in ("table1", "table2", "table4"):
        groups: dict[str, str] = {}
        for name in paper_table_entries(config, table):
            model = config["imagenet_transfers"][name]["model"]
            if model not in config["models"] or config["models"][model]["dataset"] not in config["datasets"]:
                continue  # reported by _imagenet_transfers / _models
            try:
                tasks = model_tasks(config, model, repo)
            except Exception:  # a missing or broken model config: _models / _model_configs name it
                continue
            group = ("keypoint" if "keypoints" in tasks else
                     "VOC" if config["datasets"][config["models"][model]["dataset"]]["format"] == "voc" else
                     "detection/segmentation" if "segm" in tasks else None)
            where = f"imagenet_transfers.{name}.paper"
            if group is None:
                problems.append(f"{where} names Table {table[-1]}, but model {model} fills none of its column groups "
                                "(a COCO model with a mask or keypoint head, or a VOC detector): remove the table "
                                "from `paper`")
            elif group in groups:
                problems.append(f"{where}: imagenet_transfers.{groups[group]} already fills the {group} columns of "
                                f"Table {table[-1]}: name the table in the `paper` of one of them only")
            else:
                groups[group] = name
    return problems


def _results_dir(config: Mapping) -> list[str]:
    """The results folder, or its nearest existing parent, must be writable (nothing is created here)."""
    folder = Path(config["results_dir"]).absolute()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return [f"results_dir {config['results_dir']}: {existing} is not a writable folder: choose a folder you can "
                "write (results_dir in the config, or --config results_dir=PATH)"]
    return []


def _models(config: Mapping, repo: Path) -> list[str]:
    problems = []
    for name, model in config["models"].items():
        if model["dataset"] not in config["datasets"]:
            problems.append(f"models.{name}.dataset '{model['dataset']}' is not a key of `datasets`")
        if not model_config(config, name, repo).is_file():
            path = model_config(config, name, repo)
            near = difflib.get_close_matches(path.name, [p.name for p in path.parent.glob("*.py")], n=1)
            hint = f"did you mean {path.parent / near[0]}?" if near else "fix the path"
            problems.append(f"models.{name}.config: {path} does not exist: {hint} (a relative path is relative to "
                            "the repository root)")
        if model.get("pretrained") and model["pretrained"] not in config["classifiers"]:
            problems.append(f"models.{name}.pretrained '{model['pretrained']}' is not a key of `classifiers`")
    return problems


def _model_configs(config: Mapping, repo: Path) -> list[str]:
    """Each model's MMDetection config as its jobs will read it: parsed, `cfg_options` applied (every
    key must exist), `rewind_iter` inside the schedule."""
    from mmengine.config import Config

    problems = []
    for name, model in config["models"].items():
        path = model_config(config, name, repo)
        if not path.is_file():
            continue  # reported by _models
        where = f"models.{name}"
        try:
            ast.parse(path.read_text(), filename=str(path))
            cfg = Config.fromfile(str(path), import_custom_modules=False)  # parsing only: no torch import
        except SyntaxError as err:
            file = err.filename if err.filename not in (None, "<unknown>") else f"{path} or one of its _base_ files"
            problems.append(f"{where}.config: syntax error in {file}, line {err.lineno}: {err.msg}: fix the file")
            continue
        except Exception as err:  # MMEngine's own errors: a missing _base_, a bad import, ...
            problems.append(f"{where}.config: {path} cannot be read ({type(err).__name__}: {err}): fix the file")
            continue
        options = model.get("cfg_options") or {}
        bad = [_unknown_key(cfg, key) for key in options]
        problems += [f"{where}.cfg_options: {problem}" for problem in bad if problem]
        if any(bad):
            continue
        cfg.merge_from_dict(dict(options))
        max_iters = cfg.get("train_cfg", {}).get("max_iters")
        _MAX_ITERS[(str(path), repr(sorted(options.items())))] = max_iters
        if max_iters is not None and model["rewind_iter"] >= max_iters:
            problems.append(f"{where}.rewind_iter {model['rewind_iter']} is not before the end of training "
                            f"(train_cfg.max_iters {max_iters} in {path}, after cfg_options): set a rewind_iter "
                            "below it")
    return problems


def _task_transfer_options(config: Mapping, repo: Path) -> list[str]:
    """Each task transfer's `cfg_options` key must exist in both experiments' model configs."""
    from mmengine.config import Config

    problems = []
    for name, t in config.get("task_transfers", {}).items():
        models = {config["experiments"][e]["model"] for e in t["experiments"] if e in config["experiments"]}
        for model in sorted(m for m in models if m in config["models"] and model_config(config, m, repo).is_file()):
            cfg = Config.fromfile(str(model_config(config, model, repo)), import_custom_modules=False)
            bad = [_unknown_key(cfg, key) for key in t.get("cfg_options") or {}]
            problems += [f"task_transfers.{name}.cfg_options ({model}): {problem}" for problem in bad if problem]
    return problems


_MAX_ITERS: dict[tuple[str, str], int | None] = {}


def max_iters(config: Mapping, model: str, repo: Path) -> int | None:
    """A model's `train_cfg.max_iters` after its `cfg_options` (None for an epoch-based schedule)."""
    from mmengine.config import Config

    path, options = model_config(config, model, repo), config["models"][model].get("cfg_options") or {}
    key = (str(path), repr(sorted(options.items())))
    if key not in _MAX_ITERS:
        cfg = Config.fromfile(str(path), import_custom_modules=False)
        cfg.merge_from_dict(dict(options))
        _MAX_ITERS[key] = cfg.get("train_cfg", {}).get("max_iters")
    return _MAX_ITERS[key]


def _unknown_key(cfg, dotted: str) -> str | None:
    """Why a `cfg_options` key does not name a key of the config (None if it does), with the
    nearest existing key."""
    node, done = cfg.to_dict(), []
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            keys = [str(k) for k in node] if isinstance(node, Mapping) else []
            near = difflib.get_close_matches(part, keys, n=1)
            prefix = ".".join(done)
            hint = f"; did you mean {'.'.join([*done, near[0]])}?" if near else (
                f"; {prefix or 'the config'} has {', '.join(sorted(keys)[:12])}" if keys else "")
            return (f"'{dotted}' is not a key of the model config{hint} (to set a new key, add it to the "
                    "model config file)")
        done.append(part)
    return None


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
        if "tickets" in clf and clf["rewind_iter"] >= clf["iters"]:
            problems.append(f"classifiers.{name}.rewind_iter {clf['rewind_iter']} is not before the end of training "
                            f"(iters {clf['iters']}): set a rewind_iter below it")
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
        if t.get("start") == "init" and t.get("values"):
            problems.append(f"task_transfers.{name}: `start: init` moves the mask onto the target's initial weights "
                            "(the official release); the ticket's values belong to its rewind point: drop `values` "
                            "or use `start: rewind`")
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


def _ablations(config: Mapping, repo: Path) -> list[str]:
    """An ablation's experiment, name and values, each as its setting needs them (docs/ablations.md)."""
    problems = []
    taken = {*config["experiments"], *config.get("comparisons", {}), *config.get("task_transfers", {}),
             *config.get("imagenet_transfers", {})}
    for name, ablation in config.get("ablations", {}).items():
        where, setting, values = f"ablations.{name}", ablation["setting"], ablation.get("values")
        if name in taken:
            problems.append(f"{where}: an experiment, transfer or comparison has the same name (their tables would "
                            "collide): rename one")
        e = config["experiments"].get(ablation["experiment"])
        if e is None:
            problems.append(f"{where}.experiment '{ablation['experiment']}' is not a key of `experiments`")
            continue
        if setting == "layer_sparsity":
            if values is not None:
                problems.append(f"{where}.values: layer_sparsity has no values (its masks are the experiment's "
                                "strategy at each prune percent): remove them")
            continue
        if not values:
            problems.append(f"{where}.values: setting {setting} needs values (docs/ablations.md)")
            continue
        problems += [f"{where}.values: {p}" for p in _ablation_value_problems(config, ablation, values, repo)]
    return problems


def _ablation_value_problems(config: Mapping, ablation: Mapping, values: list, repo: Path) -> list[str]:
    setting, e = ablation["setting"], config["experiments"][ablation["experiment"]]
    strategy = config["strategies"].get(e["strategy"])
    if setting == "modules":
        return [f"unknown module '{v}'" + _nearest(str(v), TABLE3_MODULES) for v in values if v not in TABLE3_MODULES]
    if setting == "controls":
        return [f"unknown control '{v}'" + _nearest(str(v), CONTROLS) for v in values if v not in CONTROLS]
    if setting == "scope":
        scopes = ("global", "groupwise", "layerwise")
        return [f"unknown scope '{v}'" + _nearest(str(v), scopes) for v in values if v not in scopes]
    if any(isinstance(v, str) or isinstance(v, bool) for v in values):
        return [f"{setting} values must be numbers, got {values}"]
    if setting == "rounds":
        return [f"rounds {v} is not a whole number >= 1" for v in values if v != int(v) or v < 1]
    if setting == "early_bird":
        bad = [f"fraction of training {v} is outside (0, 1]: give fractions like 0.25 (a quarter of training)"
               for v in values if not 0 < v <= 1]
        if strategy and strategy["rounds"] != 1:
            bad.append(f"early-bird masks are ranked one shot: experiment {ablation['experiment']}'s strategy "
                       f"{e['strategy']} has {strategy['rounds']} rounds; use a one-shot experiment")
        return bad
    # rewind_iter: a point of the dense run, before its end
    model = e["model"]
    try:
        end = max_iters(config, model, repo)
    except Exception:  # an unreadable model config: reported by _model_configs
        end = None
    return [f"rewind iteration {v} is not a whole iteration in [0, {end}) of {model}'s training (train_cfg.max_iters "
            f"{end}): the dense run saves it only inside its schedule; pick a smaller one"
            for v in values if v != int(v) or v < 0 or (end is not None and v >= end)]


def _nearest(given: str, choices) -> str:
    near = difflib.get_close_matches(given, list(choices), n=1)
    return f": did you mean '{near[0]}'? (choices: {', '.join(choices)})" if near else f" (choices: {', '.join(choices)})"


_TASKS: dict[tuple[str, str], tuple[str, ...]] = {}


def model_tasks(config: Mapping, model: str, repo: Path) -> tuple[str, ...]:
    """The COCO tasks a model predicts (bbox, plus segm / keypoints for its heads), from its MMDetection
    config after `cfg_options` (parsed without importing torch; ``lthsteps.mm.model_tasks``)."""
    from mmengine.config import Config

    from lthsteps.mm import model_tasks as tasks_of

    path, options = model_config(config, model, repo), config["models"][model].get("cfg_options") or {}
    key = (str(path), repr(sorted(options.items())))
    if key not in _TASKS:
        cfg = Config.fromfile(str(path), import_custom_modules=False)
        cfg.merge_from_dict(dict(options))
        _TASKS[key] = tasks_of(cfg)
    return _TASKS[key]


def _analyses(config: Mapping, repo: Path) -> list[str]:
    """An analysis's experiment, keys, task (its model must have the head) and prune percents
    (docs/analyses.md)."""
    problems = []
    taken = {*config["experiments"], *config.get("comparisons", {}), *config.get("task_transfers", {}),
             *config.get("imagenet_transfers", {}), *config.get("ablations", {})}
    for name, a in config.get("analyses", {}).items():
        where, analysis = f"analyses.{name}", a["analysis"]
        if name in taken:
            problems.append(f"{where}: an experiment, transfer, comparison or ablation has the same name (their "
                            "tables would collide): rename one")
        wrong = [key for key in ("task", "prune_percents", "prune_percent", "top")
                 if key in a and key not in ANALYSIS_KEYS[analysis]]
        for key in wrong:
            problems.append(f"{where}.{key}: analysis {analysis} takes no `{key}` (it takes "
                            f"{', '.join(ANALYSIS_KEYS[analysis])}): remove it")
        if analysis in ONE_TICKET and "prune_percent" not in a:
            problems.append(f"{where}: analysis {analysis} needs `prune_percent`, the ticket compared with the "
                            "dense model (e.g. 80)")
        if "task" in a and "task" in ANALYSIS_KEYS[analysis] and a["task"] not in ANALYSIS_TASKS[analysis]:
            problems.append(f"{where}.task {a['task']}: analysis {analysis} takes "
                            f"{' or '.join(ANALYSIS_TASKS[analysis])}")
        e = config["experiments"].get(a["experiment"])
        if e is None:
            near = difflib.get_close_matches(str(a["experiment"]), list(config["experiments"]), n=1)
            hint = f": did you mean '{near[0]}'?" if near else ""
            problems.append(f"{where}.experiment '{a['experiment']}' is not a key of `experiments`{hint}")
            continue
        given = [a["prune_percent"]] if "prune_percent" in a else a.get("prune_percents") or []
        missing = [p for p in given if p not in e["prune_percents"]]
        if missing:
            problems.append(f"{where}: experiment {a['experiment']} has no ticket at {', '.join(f'{p:g}' for p in missing)}% "
                            f"(its prune_percents: {', '.join(f'{p:g}' for p in e['prune_percents'])}): pick one of "
                            f"those, or add it to experiments.{a['experiment']}.prune_percents")
        needed = "keypoints" if analysis == "keypoint_errors" else a.get("task")
        if needed in ("segm", "keypoints") and e["model"] in config["models"]:
            try:
                tasks = model_tasks(config, e["model"], repo)
            except Exception:  # an unreadable model config: reported by _model_configs
                continue
            if needed not in tasks:
                head = {"segm": "mask_head", "keypoints": "keypoint_head"}[needed]
                problems.append(f"{where}: experiment {a['experiment']}'s model {e['model']} has no {needed} results "
                                f"(its config has no roi_head.{head}; it predicts {', '.join(tasks)}): analyse an "
                                f"experiment whose model has a {head}" +
                                ("" if analysis == "keypoint_errors" else f", or set task to one of {', '.join(tasks)}"))
    return problems
