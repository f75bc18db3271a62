"""Shared parts of the ablations: run arguments, run records, mean ± std and the dense reference.

Every input error raises ``ValueError`` (or ``FileNotFoundError``) naming the problem and its fix;
the CLI turns it into one ``error: ...`` line and exit status 2.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lthsteps.summary import METRICS, run_record


@dataclass(frozen=True)
class Run:
    """One ``--run VALUE:PRUNE:SEED:DIR``; ``value`` is parsed by the setting."""
    value: object
    prune: float
    seed: int
    dir: Path


def parse_dense(text: str) -> tuple[int, Path]:
    seed, sep, run_dir = text.partition(":")
    if not sep or not run_dir:
        raise ValueError(f"--dense {text!r} is not SEED:DIR: give e.g. --dense 0:results/runs/m/seed0/dense")
    return _int(seed, "SEED", f"--dense {text!r}"), Path(run_dir)


def parse_run(text: str, parse_value) -> Run:
    parts = text.split(":", 3)  # a DIR may hold ':' itself
    where = f"--run {text!r}"
    if len(parts) != 4 or not parts[3]:
        raise ValueError(f"{where} is not VALUE:PRUNE:SEED:DIR: give e.g. --run 600:80:0:results/runs/x")
    value, prune, seed, run_dir = parts
    try:
        prune_f = float(prune)
    except ValueError:
        raise ValueError(f"{where}: PRUNE {prune!r} is not a number: give the prune percent, e.g. 80") from None
    if not 0 < prune_f < 100:
        raise ValueError(f"{where}: PRUNE {prune_f:g} is not a percent in (0, 100): give e.g. 80")
    return Run(parse_value(value, where), prune_f, _int(seed, "SEED", where), Path(run_dir))


def _int(text: str, what: str, where: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{where}: {what} {text!r} is not an integer: give e.g. 0") from None


def read_json(path: Path) -> dict:
    """A run's JSON file, with an error naming the rule that writes it when it is absent."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: check the run folder, or run the rule that makes it")
    return json.loads(path.read_text())


def check_runs(runs: list[Run]) -> None:
    """No run given twice, and every (value, prune) cell has the same seeds (means compare alike)."""
    seen: dict = {}
    for run in runs:
        cell = seen.setdefault((run.value, run.prune), set())
        if run.seed in cell:
            raise ValueError(f"two runs for value {run.value}, prune {run.prune:g}%, seed {run.seed}: give each once")
        cell.add(run.seed)
    every = set().union(*seen.values()) if seen else set()
    for cell, seeds in seen.items():
        if seeds != every:
            raise ValueError(f"value {cell[0]}, prune {cell[1]:g}% lacks seed(s) {sorted(every - seeds)} that other "
                             "runs have: add those runs or drop those seeds everywhere")


def records(runs: list[Run]) -> pd.DataFrame:
    """One row per run: value, prune_percent, seed, network_sparsity and metric columns (percent)."""
    check_runs(runs)
    rows = []
    for run in runs:
        for name in ("metrics.json", "train.json"):
            read_json(run.dir / name)  # a clear error before run_record's bare open
        rows.append({"value": run.value, **run_record(run.prune, run.seed, run.dir)})
    return pd.DataFrame(rows)


def dense_records(dense: list[tuple[int, Path]]) -> pd.DataFrame:
    if len({seed for seed, _ in dense}) != len(dense):
        raise ValueError("a seed is given twice in --dense: give one dense run folder per seed")
    return records([Run("dense", 0.0, seed, run_dir) for seed, run_dir in dense]) if dense else pd.DataFrame()


def headline(*frames: pd.DataFrame) -> str:
    """The metric the ablation is read by: VOC mAP on VOC data (the paper's Fig 2), else bbox mAP."""
    frames = [f for f in frames if len(f)]
    name = "VOC mAP" if all("VOC mAP" in f for f in frames) else "bbox mAP"
    for frame in frames:
        if name not in frame or frame[name].isna().any():
            raise ValueError(f"some runs have no {name} in metrics.json: compare runs evaluated on the same data")
    return name


def metrics(frame: pd.DataFrame, first: str) -> list[str]:
    """Metric columns present in every run, the headline first."""
    return [first] + [m for m in METRICS if m != first and m in frame and frame[m].notna().all()]


def summarize(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Mean and std over seeds of ``columns`` per ``keys`` (sorted), with the seed count."""
    grouped = frame.groupby(keys, sort=True)
    table = grouped[columns].agg(["mean", "std"])
    table.columns = [f"{c}_{stat}" for c, stat in table.columns]
    table.insert(0, "seeds", grouped.size())
    return table.reset_index()


def sweep_table(recs: pd.DataFrame, dense: pd.DataFrame, value: str, keys: list[str],
                extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Mean ± std per ``keys`` (from prune_percent and ``value``, the renamed VALUE), dense row first."""
    metric = headline(recs, dense)
    columns = ["network_sparsity", *extra, *metrics(pd.concat([recs, dense]), metric)]
    table = summarize(recs.rename(columns={"value": value}), keys, columns)
    head = summarize(dense, ["prune_percent"], [c for c in columns if c not in extra]) if len(dense) else None
    return pd.concat([head, table], ignore_index=True)[["prune_percent", value, *table.columns.drop(
        ["prune_percent", value])]]


def sweep_markdown(table: pd.DataFrame, title: str, keys: list[tuple[str, str, object]]) -> str:
    """``keys`` (column, header, format) first, then network sparsity, metrics as mean ± std, seeds."""
    out = pd.DataFrame({header: [fmt(v) if pd.notna(v) else "-" for v in table[col]] for col, header, fmt in keys})
    out["Network sparsity"] = table["network_sparsity_mean"].map(lambda s: f"{s:.2f}%")
    for name in [c[:-5] for c in table if c.endswith("_mean") and c[:-5] in METRICS]:
        out[name] = [pm(m, s) for m, s in zip(table[f"{name}_mean"], table[f"{name}_std"])]
    out["Seeds"] = table["seeds"].values
    return markdown(out, title)


def pm(mean: float, std: float, digits: int = 2) -> str:
    """``mean ± std``; the mean alone for a single seed, '-' when absent."""
    if pd.isna(mean):
        return "-"
    return f"{mean:.{digits}f}" if pd.isna(std) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def prune_label(p: float) -> str:
    return "dense" if p == 0 else f"{p:g}%"


def markdown(out: pd.DataFrame, title: str) -> str:
    return f"### {title}\n\n" + out.to_markdown(index=False, disable_numparse=True) + "\n"  # keep "0.00", not "0"


def title(name: str, paper: str) -> str:
    return name + (f" (analog of the paper's {paper})" if paper else "")
