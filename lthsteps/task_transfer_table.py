"""The task-transfer table (the paper's Table 5): tickets trained on their own task next to tickets
transferred from another task, per target task.

    python -m lthsteps.task_transfer_table --name task_transfer --paper "Table 5" \
        --run SOURCE_DIR:RUN_DIR ... --csv t.csv --markdown t.md

``--run SOURCE_DIR:RUN_DIR`` names a trained ticket (``RUN_DIR`` with ``metrics.json`` and
``train.json``) and the run whose model its ticket came from (``SOURCE_DIR``, any run of the source
model with a ``metrics.json``; the same folder for a direct ticket). A run gives one row per task of
its model — Det (bbox), Seg (segm), Keypoint (keypoints) — labelled with the source model's task
("Det/Seg" for a Mask R-CNN, "Keypoint" for a Keypoint R-CNN). Rows of several seeds are averaged.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from lthsteps.files import atomic_write

TASK_NAMES = {"bbox": "Det", "segm": "Seg", "keypoints": "Keypoint"}


def model_task(metrics: dict) -> str:
    """The paper's name of what a model is trained for: Keypoint, else Det/Seg or Det."""
    if metrics.get("keypoints"):
        return "Keypoint"
    return "Det/Seg" if metrics.get("segm") else "Det"


def run_rows(source_dir: Path, run_dir: Path) -> list[dict]:
    """One row per target task of ``run_dir``'s model: source task, network sparsity, mAP/AP50 in percent.

    A keypoint model's boxes are person boxes, not the paper's Det task: it gives the Keypoint row only.
    """
    metrics = json.loads((run_dir / "metrics.json").read_text())
    source = model_task(json.loads((source_dir / "metrics.json").read_text()))
    sparsity = 100 * json.loads((run_dir / "train.json").read_text())["network"]["sparsity"]
    tasks = ["keypoints"] if metrics.get("keypoints") else [t for t in ("bbox", "segm") if metrics.get(t)]
    return [{"target_task": TASK_NAMES[task], "source_task": source, "network_sparsity": sparsity,
             "mAP": 100 * metrics[task]["mAP"], "AP50": 100 * metrics[task]["AP50"]} for task in tasks]


def transfer_table(rows: list[dict]) -> pd.DataFrame:
    """Mean and std over seeds per (target task, source task); targets in Det, Seg, Keypoint order."""
    records = pd.DataFrame(rows)
    grouped = records.groupby(["target_task", "source_task"], sort=False)
    table = grouped[["network_sparsity", "mAP", "AP50"]].agg(["mean", "std"])
    table.columns = [f"{c}_{stat}" for c, stat in table.columns]
    table.insert(0, "seeds", grouped.size())
    table = table.reset_index()
    rank = table["target_task"].map({name: i for i, name in enumerate(TASK_NAMES.values())})
    return table.assign(rank=rank).sort_values(["rank", "source_task"]).drop(columns="rank").reset_index(drop=True)


def markdown(table: pd.DataFrame, title: str) -> str:
    def cell(mean, std):
        return f"{mean:.2f} ± {std:.2f}" if pd.notna(std) else f"{mean:.2f}"

    shown = pd.DataFrame({
        "Target task": table["target_task"], "Source task": table["source_task"],
        "Network sparsity": table["network_sparsity_mean"].map(lambda s: f"{s:.2f}%"),
        "mAP": [cell(m, s) for m, s in zip(table["mAP_mean"], table["mAP_std"])],
        "AP50": [cell(m, s) for m, s in zip(table["AP50_mean"], table["AP50_std"])],
        "Seeds": table["seeds"],
    })
    return f"### {title}\n\n" + shown.to_markdown(index=False) + "\n"


def _run_arg(text: str) -> tuple[Path, Path]:
    source, sep, run = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected SOURCE_DIR:RUN_DIR, got {text!r}")
    return Path(source), Path(run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.task_transfer_table", description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--paper", default="", help="the paper's table this reproduces")
    parser.add_argument("--run", action="append", type=_run_arg, required=True, metavar="SOURCE_DIR:RUN_DIR")
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--markdown", required=True, type=Path)
    args = parser.parse_args(argv)
    table = transfer_table([row for source, run in args.run for row in run_rows(source, run)])
    title = args.name + (f" (analog of the paper's {args.paper})" if args.paper else "")
    atomic_write(args.csv, lambda tmp: table.to_csv(tmp, index=False, float_format="%.4f"))
    atomic_write(args.markdown, lambda tmp: Path(tmp).write_text(markdown(table, title)))
    print(markdown(table, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
