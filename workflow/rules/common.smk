# Helpers shared by the rules: paths, config look-ups, input functions.
import json
import os
import re
import shlex
import sys
from pathlib import Path

# Jobs run `python -m lthsteps...`: the interpreter running Snakemake (e.g. .venv/bin/snakemake)
# has the package; a job's conda env (--sdm conda), activated inside the job, still comes first.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"

REPO = Path(workflow.basedir).parent
R = config.get("results_dir", "results")
ENV = "../../envs/lth.yaml"
PRUNE = r"[0-9]+(\.[0-9]+)?"


wildcard_constraints:
    seed=r"\d+",
    round=r"\d+",
    prune=PRUNE,
    model=r"[A-Za-z0-9_\-]+",
    strategy="|".join(map(re.escape, config["strategies"])),
    dataset=r"[A-Za-z0-9_\-]+",
    classifier=r"[A-Za-z0-9_\-]+",


def check_config():
    """Cross-references the JSON schema cannot express; fail at start-up, before any job runs."""
    problems = []
    if "evaluate" in config["resources"]:
        problems.append(
            "resources.evaluate is no longer used: every detector's training job evaluates what it trained, "
            "with resources.train; remove resources.evaluate"
        )
    for name, model in config["models"].items():
        if model["dataset"] not in config["datasets"]:
            problems.append(
                f"models.{name}.dataset '{model['dataset']}' is not a key of `datasets`"
            )
        if not model_config(name).is_file():
            problems.append(
                f"models.{name}.config: {model_config(name)} does not exist"
            )
        if model.get("pretrained") and model["pretrained"] not in config["classifiers"]:
            problems.append(
                f"models.{name}.pretrained '{model['pretrained']}' is not a key of `classifiers`"
            )
    for name, clf in config["classifiers"].items():
        for key in ("data", "weights"):
            if key in clf and not Path(clf[key]).exists():
                problems.append(
                    f"classifiers.{name}.{key} {clf[key]} does not exist: fix the path or remove the key"
                )
        for ticket in clf.get("imported_tickets", []):
            for key in ("weights", "mask"):
                if key in ticket and not Path(ticket[key]).is_file():
                    problems.append(
                        f"classifiers.{name}.imported_tickets (p{fmt_percent(ticket['prune_percent'])}).{key} "
                        f"{ticket[key]} does not exist: fix the path"
                    )
        tickets = clf.get("tickets")
        if tickets and tickets["strategy"] not in config["strategies"]:
            problems.append(
                f"classifiers.{name}.tickets.strategy '{tickets['strategy']}' is not a key of `strategies`"
            )
        if tickets and "weights" in clf:
            problems.append(
                f"classifiers.{name}: tickets retrain from the dense run's rewind point (late resetting), which "
                "an imported `weights` file lacks: remove `weights` to train the classifier in the workflow"
            )
        if "data" not in clf and "weights" not in clf and "synthetic" not in config:
            problems.append(
                f"classifiers.{name} has neither `data` nor `weights`, and the config has no `synthetic` section"
            )
    for name, tt in config["ticket_transfers"].items():
        where = f"ticket_transfers.{name}"
        if name in config["experiments"] or name in config.get("comparisons", {}):
            problems.append(f"{where}: an experiment or comparison has the same name (their tables would collide)")
        clf = config["classifiers"].get(tt["classifier"])
        if clf is None:
            problems.append(f"{where}.classifier '{tt['classifier']}' is not a key of `classifiers`")
        if tt["model"] not in config["models"]:
            problems.append(f"{where}.model '{tt['model']}' is not a key of `models`")
        if tt["mode"] == "ticket" and clf is not None:
            missing = set(tt["prune_percents"]) - set(clf.get("tickets", {}).get("prune_percents", [])) - set(
                imported_tickets(tt["classifier"]))
            if missing:
                problems.append(
                    f"{where}: no ticket of classifiers.{tt['classifier']} at {sorted(missing)}%: add them to its "
                    "`tickets.prune_percents`, or to `imported_tickets` with the ticket's files"
                )
        if tt["mode"] == "mask":
            strategy = config["strategies"].get(tt.get("strategy"))
            if strategy is None or strategy["rounds"] != 1:
                problems.append(
                    f"{where}.strategy: mode mask needs a one-shot strategy (a key of `strategies` with rounds 1)"
                )
    for name, exp in config["experiments"].items():
        if exp["model"] not in config["models"]:
            problems.append(
                f"experiments.{name}.model '{exp['model']}' is not a key of `models`"
            )
        if exp["strategy"] not in config["strategies"]:
            problems.append(
                f"experiments.{name}.strategy '{exp['strategy']}' is not a key of `strategies`"
            )
    for name, comparison in config.get("comparisons", {}).items():
        if name in config["experiments"]:
            problems.append(
                f"comparisons.{name}: an experiment has the same name (their tables would collide): rename one"
            )
        for exp in comparison["experiments"]:
            if exp not in config["experiments"] and exp not in config["ticket_transfers"]:
                problems.append(
                    f"comparisons.{name}.experiments: '{exp}' is not a key of `experiments` or `ticket_transfers`"
                )
    for name, transfer in config.get("transfers", {}).items():
        if name in config["experiments"] or name in config.get("comparisons", {}):
            problems.append(
                f"transfers.{name}: an experiment or comparison has the same name (their tables would collide): rename one"
            )
        exps = [config["experiments"].get(e) for e in transfer["experiments"]]
        if None in exps:
            problems.append(
                f"transfers.{name}.experiments {transfer['experiments']}: each must be a key of `experiments`"
            )
            continue
        for exp_name, exp in zip(transfer["experiments"], exps):
            if transfer["prune_percent"] not in exp["prune_percents"]:
                problems.append(
                    f"transfers.{name}.prune_percent {transfer['prune_percent']} is not in experiments.{exp_name}"
                    ".prune_percents: add it there (the direct ticket is the transferred one)"
                )
        if set(exps[0]["seeds"]) != set(exps[1]["seeds"]):
            problems.append(
                f"transfers.{name}: experiments {transfer['experiments']} have different seeds; give them the same"
            )
    for name, ds in config["datasets"].items():
        if ds.get("synthetic") and "synthetic" not in config:
            problems.append(
                f"datasets.{name} is synthetic but the config has no `synthetic` section"
            )
        if not ds.get("synthetic") and not Path(ds["root"]).is_dir():
            problems.append(
                f"datasets.{name}.root {ds['root']} does not exist: point it at the dataset folder"
            )
        wanted = {"coco": {"ann_file", "img_dir"}, "voc": {"split"}}[ds["format"]]
        for split, spec in ds["splits"].items():
            if set(spec) != wanted:
                problems.append(
                    f"datasets.{name}.splits.{split} needs exactly {sorted(wanted)} for format {ds['format']}"
                )
    if problems:
        sep = "\n  "
        raise ValueError(f"invalid config:{sep}{sep.join(problems)}")


def model_config(model):
    path = Path(config["models"][model]["config"])
    return path if path.is_absolute() else REPO / path


def cfg_options(model):
    """`--cfg-options k=v ...` for a model's overrides (empty string if none)."""
    options = config["models"][model].get("cfg_options") or {}
    if not options:
        return ""
    pairs = (f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in options.items())
    return f"--cfg-options {' '.join(shlex.quote(p) for p in pairs)}"


def classifier_data_folder(classifier):
    """The ImageFolder root a classifier trains on: configured, or the generated one."""
    return config["classifiers"][classifier].get("data", f"{R}/data/synthetic/classification")


def classifier_data(wildcards):
    """Input of train_classifier: the data folder, or the generator's output that holds it."""
    return config["classifiers"][wildcards.classifier].get("data", f"{R}/data/synthetic")


def classifier_args(wildcards):
    c = config["classifiers"][wildcards.classifier]
    keys = ("arch", "width", "image_size", "iters", "batch_size", "lr", "seed")
    return " ".join(f"--{k.replace('_', '-')} {c[k]}" for k in keys) + (" --cache-images" if c["cache_images"] else "")


def classifier_weights(classifier):
    """Dense weights of a classifier: imported (config `weights`) or trained by train_classifier."""
    c = config["classifiers"][classifier]
    return c.get("weights") or f"{R}/classifiers/{classifier}/dense/weights.pth"


def classifier_round_dir(classifier, strategy, prune, round):
    return f"{R}/classifiers/{classifier}/{strategy}/p{prune}/round{round}"


def classifier_mask_inputs(wildcards):
    """Round 1 ranks the dense classifier; round r > 1 ranks round r-1's weights under its mask."""
    r = int(wildcards.round)
    if r == 1:
        return {"weights": classifier_weights(wildcards.classifier)}
    prev = classifier_round_dir(wildcards.classifier, wildcards.strategy, wildcards.prune, r - 1)
    return {"weights": f"{prev}/weights.pth", "previous": f"{prev}/mask.npz"}


def classifier_tickets():
    """Final-round folders of every configured ImageNet ticket."""
    folders = []
    for name, c in config["classifiers"].items():
        if "tickets" in c:
            strategy = c["tickets"]["strategy"]
            rounds = config["strategies"][strategy]["rounds"]
            folders += [classifier_round_dir(name, strategy, fmt_percent(p), rounds)
                        for p in c["tickets"]["prune_percents"]]
    return folders


def pretrained_input(wildcards):
    """`{"pretrained": weights}` for a model initialised from a classifier, else nothing."""
    classifier = config["models"][wildcards.model].get("pretrained")
    return {"pretrained": classifier_weights(classifier)} if classifier else {}


def pretrained_arg(wildcards, input):
    return f"--pretrained {input.pretrained}" if "pretrained" in input.keys() else ""


def res(kind, key):
    return config["resources"][kind][key]


def fmt_percent(p):
    return f"{p:g}"


def dataset_descriptor(dataset):
    return f"{R}/datasets/{dataset}/dataset.json"


def model_dataset(wildcards):
    return dataset_descriptor(config["models"][wildcards.model]["dataset"])


def dense_dir(model, seed):
    return f"{R}/runs/{model}/seed{seed}/dense"


def round_dir(model, seed, strategy, prune, round):
    return f"{R}/runs/{model}/seed{seed}/{strategy}/p{prune}/round{round}"


def round_work_dir(wildcards):
    return f"{round_dir(wildcards.model, wildcards.seed, wildcards.strategy, wildcards.prune, wildcards.round)}/work"


def final_round_dir(exp, prune, seed):
    e = config["experiments"][exp]
    rounds = config["strategies"][e["strategy"]]["rounds"]
    return round_dir(e["model"], seed, e["strategy"], fmt_percent(prune), rounds)


def imagenet_ticket_dir(name, prune, seed):
    """Detector run of a ticket transfer (`ticket_transfers.<name>`) at one prune percent and seed."""
    tt = config["ticket_transfers"][name]
    return f"{R}/runs/{tt['model']}/seed{seed}/imagenet/{name}/p{prune}"


def imported_tickets(classifier):
    """{prune percent: entry} of a classifier's `imported_tickets`."""
    entries = config["classifiers"][classifier].get("imported_tickets", [])
    return {float(t["prune_percent"]): t for t in entries}


def imported_ticket_files(wildcards):
    """The user's files of an imported ticket: weights, and the mask if given."""
    ticket = imported_tickets(wildcards.classifier)[float(wildcards.prune)]
    return {key: ticket[key] for key in ("weights", "mask") if key in ticket}


def imagenet_ticket_source(name, prune):
    """(classifier weights, classifier mask) a ticket transfer starts from."""
    tt = config["ticket_transfers"][name]
    clf = tt["classifier"]
    if tt["mode"] == "mask":  # dense weights, one-shot mask ranked on them
        return classifier_weights(clf), f"{classifier_round_dir(clf, tt['strategy'], prune, 1)}/mask.npz"
    if float(prune) in imported_tickets(clf):
        ticket = f"{R}/classifiers/{clf}/imported/p{prune}"
    else:
        strategy = config["classifiers"][clf]["tickets"]["strategy"]
        ticket = classifier_round_dir(clf, strategy, prune, config["strategies"][strategy]["rounds"])
    return f"{ticket}/weights.pth", f"{ticket}/mask.npz"


def table_runs(name):
    """(prune %, seed, run folder) rows of the table of an experiment or a ticket transfer."""
    e = config["experiments"].get(name) or config["ticket_transfers"][name]
    rows = [(0, s, dense_dir(e["model"], s)) for s in e["seeds"]]
    if name in config["experiments"]:
        rows += [(p, s, final_round_dir(name, p, s)) for p in e["prune_percents"] for s in e["seeds"]]
    else:
        rows += [(p, s, imagenet_ticket_dir(name, fmt_percent(p), s)) for p in e["prune_percents"] for s in e["seeds"]]
    return rows


def all_outputs():
    """Table (CSV + Markdown) and figure of every experiment and comparison; table of every transfer."""
    figures = [*config["experiments"], *config.get("comparisons", {}), *config["ticket_transfers"]]
    return [
        f"{R}/{kind}/{name}.{ext}"
        for name in figures
        for kind, ext in (("tables", "csv"), ("tables", "md"), ("figures", "png"))
    ] + [f"{R}/tables/{name}.{ext}" for name in config.get("transfers", {}) for ext in ("csv", "md")] + [
        f"{folder}/{file}" for folder in classifier_tickets() for file in ("weights.pth", "mask.npz", "train.json")
    ]


def transfer_dir(target_model, seed, transfer, source_experiment):
    return f"{R}/runs/{target_model}/seed{seed}/transfers/{transfer}/from_{source_experiment}"


def transfer_inputs(wildcards):
    """A transfer's ticket (the source's rewind weights and final mask) and the target's rewind point."""
    t = config["transfers"][wildcards.transfer]
    source = config["experiments"][wildcards.source]
    return {
        "source_weights": f"{dense_dir(source['model'], wildcards.seed)}/rewind.pth",
        "source_mask": f"{final_round_dir(wildcards.source, t['prune_percent'], wildcards.seed)}/mask.npz",
        "target_weights": f"{dense_dir(wildcards.model, wildcards.seed)}/rewind.pth",
    }


def transfer_table_runs(transfer):
    """(source run, trained run) folders of the direct tickets and the transferred ones, every seed."""
    t = config["transfers"][transfer]
    p = t["prune_percent"]
    a, b = t["experiments"]
    runs = []
    for source, target in ((a, b), (b, a)):  # each ticket goes to the other's model
        for seed in config["experiments"][source]["seeds"]:
            direct = final_round_dir(source, p, seed)
            target_model = config["experiments"][target]["model"]
            runs += [(direct, direct), (direct, transfer_dir(target_model, seed, transfer, source))]
    return runs


def train_shell(arguments):
    """Shell command of a detector training rule: `lthsteps.train ARGUMENTS` as one process, or with
    `resources.train.gpu` N > 1 (the rule's gpu resource) as N ranks under torchrun. Every such job
    evaluates the weights it trained, in its own process (outputs `metrics` and `detections`)."""
    from lthsteps.launch import train_command

    arguments += " --metrics {output.metrics} --detections {output.detections}"
    return f"{train_command(arguments, res('train', 'gpu'))} > {{log}} 2>&1"


# A lottery-ticket round or a transferred ticket: train `input.init` under `input.mask` from the
# rewind iteration on (late resetting), verify zeros off-mask.
TRAIN_TICKET = train_shell(
    "--config {input.config} --dataset {input.dataset} --seed {wildcards.seed}"
    " --work-dir {params.work_dir} --init {input.init} --start-iter {params.start_iter} --mask {input.mask}"
    " --out {output.weights} --report {output.report} --threads {threads}"
    " {params.options}"
)


def prepare_inputs(wildcards):
    return (
        [f"{R}/data/synthetic"]
        if config["datasets"][wildcards.dataset].get("synthetic")
        else []
    )


def prepare_args(wildcards):
    ds = config["datasets"][wildcards.dataset]
    root = f"{R}/data/synthetic/{ds['root']}" if ds.get("synthetic") else ds["root"]
    args = [
        "--name",
        wildcards.dataset,
        "--format",
        ds["format"],
        "--root",
        root,
        "--splits",
        shlex.quote(json.dumps(ds["splits"])),
    ]
    if ds.get("classes"):
        args += ["--classes", shlex.quote(json.dumps(ds["classes"]))]
    elif ds.get("synthetic") and ds["format"] == "voc":
        args += [
            "--classes-from",
            f"{R}/data/synthetic/coco/annotations/instances_train.json",
        ]
    if ds.get("voc_ap_mode"):
        args += ["--voc-ap-mode", ds["voc_ap_mode"]]
    return " ".join(args)


def mask_inputs(wildcards):
    """Round 1 ranks the dense weights; round r > 1 ranks round r-1's weights under its mask."""
    r = int(wildcards.round)
    if r == 1:
        return {"weights": f"{dense_dir(wildcards.model, wildcards.seed)}/weights.pth"}
    prev = round_dir(
        wildcards.model, wildcards.seed, wildcards.strategy, wildcards.prune, r - 1
    )
    return {"weights": f"{prev}/weights.pth", "previous": f"{prev}/mask.npz"}


def mask_args(wildcards, input):
    s = config["strategies"][wildcards.strategy]
    args = [
        f"--sparsity {float(wildcards.prune) / 100}",
        f"--scope {s['scope']}",
        f"--groups {','.join(s['groups'])}",
        f"--kinds {','.join(s.get('kinds', ['conv', 'linear']))}",
        *(f"--exclude {shlex.quote(pattern)}" for pattern in s.get("exclude", [])),
        f"--round {wildcards.round} --rounds {s['rounds']}",
    ]
    if "previous" in input.keys():
        args.append(f"--previous {input.previous}")
    return " ".join(args)


def summary_runs(wildcards):
    return " ".join(
        f"--run {fmt_percent(p)}:{s}:{d}" for p, s, d in table_runs(wildcards.experiment)
    )


# The Snakemake report (`snakemake --report report.html`): every table and figure sits in a category
# (the kind of result) and a subcategory (the paper item it reproduces); labels tell its files apart
# and name the config they came from. Captions (workflow/report/) say how to read them.


def paper_item(name):
    """The `paper` entry of an experiment, ticket transfer, comparison or transfer."""
    for section in ("experiments", "ticket_transfers", "comparisons", "transfers"):
        if name in config.get(section, {}):
            return config[section][name].get("paper") or "no paper item named"


def result_category(name):
    if name in config["experiments"]:
        return "Direct pruning"
    if name in config["ticket_transfers"]:
        return f"ImageNet {config['ticket_transfers'][name]['mode']} transfer"
    if name in config.get("comparisons", {}):
        return "Comparisons"
    return "Task transfer"


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


check_config()
