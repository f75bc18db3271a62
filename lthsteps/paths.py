"""Every result path of the workflow, defined once (as open_lth's ``foundations/paths.py``).

Each function joins its parts as given, so the rules call it with wildcard placeholders to get
their output patterns (``round_dir(R, "{network}", "{strategy}", "{prune}", "{round}")``) and the
helpers call it with values to get one run's folder. ``results`` is the config's ``results_dir``.

A *network* folder holds one network's dense run and its lottery-ticket rounds:
``runs/{model}/seed{seed}`` for a detector at one seed, ``classifiers/{classifier}`` for a
classifier. Layout (docs/results.md describes every file)::

    {network}/dense/                               dense training: weights, rewind point
    {network}/dense/snapshots/iter{n}.pth          the dense run's weights after n iterations (§4.3 ablations)
    {network}/{strategy}/p{prune}/round{round}/    one round: mask, trained weights
    {round}/branches/{branch}/                     a variant of a round's ticket (rewind point, early
                                                   mask, random mask, re-initialised weights)
    runs/{model}/seed{seed}/imagenet_transfers/{name}/p{prune}/   an ImageNet ticket or mask trained in a detector
    runs/{model}/seed{seed}/task_transfers/{name}/from_{source}/  a ticket of another task's detector
    classifiers/{classifier}/imported/p{prune}/    a ticket imported from files
    {run}/val_loss.json                            validation loss during training (Fig 10)
    {run}/errors/                                  §4.4 error analyses of a run's detections (TIDE, keypoints)
    tables/{name}.csv|md, figures/{name}.png       summaries
    paper/table{n}.csv|md, paper/claims.csv|md     the paper side by side: its tables, its claims
"""
from __future__ import annotations


def fmt_percent(prune: float | str) -> str:
    """A prune percent as it appears in paths: ``80.0`` -> ``80``, ``12.5`` -> ``12.5``."""
    return prune if isinstance(prune, str) else f"{prune:g}"


def detector(results: str, model: str, seed: int | str) -> str:
    return f"{results}/runs/{model}/seed{seed}"


def classifier(results: str, name: str) -> str:
    return f"{results}/classifiers/{name}"


def dense_dir(network: str) -> str:
    return f"{network}/dense"


def round_dir(network: str, strategy: str, prune: float | str, round: int | str) -> str:
    return f"{network}/{strategy}/p{fmt_percent(prune)}/round{round}"


def snapshots_dir(network: str) -> str:
    return f"{dense_dir(network)}/snapshots"


def snapshot(network: str, iteration: int | str) -> str:
    return f"{snapshots_dir(network)}/iter{iteration}.pth"


def branch_dir(round_folder: str, branch: str) -> str:
    return f"{round_folder}/branches/{branch}"


def imagenet_transfer_dir(results: str, model: str, seed: int | str, name: str, prune: float | str) -> str:
    return f"{detector(results, model, seed)}/imagenet_transfers/{name}/p{fmt_percent(prune)}"


def task_transfer_dir(results: str, model: str, seed: int | str, name: str, source: str) -> str:
    return f"{detector(results, model, seed)}/task_transfers/{name}/from_{source}"


def imported_ticket_dir(results: str, name: str, prune: float | str) -> str:
    return f"{classifier(results, name)}/imported/p{fmt_percent(prune)}"


def synthetic_data(results: str) -> str:
    return f"{results}/data/synthetic"


def dataset_descriptor(results: str, dataset: str) -> str:
    return f"{results}/datasets/{dataset}/dataset.json"


def converted_annotations(results: str, dataset: str, split: str) -> str:
    """The COCO-format annotations of a VOC-layout dataset's split, written beside its descriptor."""
    return f"{results}/datasets/{dataset}/{split}.json"


def val_loss(run: str) -> str:
    """The validation losses a detector training job measured during training (``lthsteps.val_loss``)."""
    return f"{run}/val_loss.json"


def errors_dir(run: str) -> str:
    """The error analyses of a run folder (dense run or round) of a detector."""
    return f"{run}/errors"


def tide_errors(run: str, task: str) -> str:
    """TIDE errors of a run's ``task`` (bbox or segm) detections (``lthsteps.tide_errors``)."""
    return f"{errors_dir(run)}/tide_{task}.json"


def keypoint_errors(run: str) -> str:
    """Keypoint errors of a run's keypoint detections (``lthsteps.keypoint_errors``)."""
    return f"{errors_dir(run)}/keypoints.json"


def keypoint_pr(run: str) -> str:
    """PR curves of a run's keypoint detections, original and with each error fixed."""
    return f"{errors_dir(run)}/keypoints_pr.csv"


def table(results: str, name: str, ext: str) -> str:
    return f"{results}/tables/{name}.{ext}"


def figure(results: str, name: str) -> str:
    return f"{results}/figures/{name}.png"


def paper_table(results: str, table: str, ext: str) -> str:
    """One of the paper's Tables 1-5 in its layout, beside its published numbers (``lthsteps.paper_tables``)."""
    return f"{results}/paper/{table}.{ext}"


def run_config(results: str) -> str:
    """The run's config as the workflow validated it (schema defaults filled), as JSON."""
    return f"{results}/paper/config.json"


def claims(results: str, ext: str) -> str:
    """The paper's claims checked on this run's results (``lthsteps.claims``)."""
    return f"{results}/paper/claims.{ext}"


def log(results: str, rule: str, job: str) -> str:
    return f"{results}/logs/{rule}/{job}.log"


def benchmark(results: str, rule: str, job: str) -> str:
    return f"{results}/benchmarks/{rule}/{job}.tsv"
