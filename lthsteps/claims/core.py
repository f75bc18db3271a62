"""The pure core of the claims check: results, verdicts, noise, findings and the registry's ``Claim``.

A claim's checker reads the config (the validated Snakemake config, a plain mapping) and the result
tables of one run (:class:`Results`), makes *findings* — each one comparison of two numbers of this
run with its own verdict — and :func:`conclude` turns them into one :class:`ClaimResult`.

Verdicts of one finding (``d`` = A − B, ``noise`` ≥ 0):

* ``beats`` ("A beats / is above B"): holds if d > noise, within noise if |d| ≤ noise, does not hold
  if d < −noise;
* ``not_below`` ("A keeps B's level": no drop, within noise of B or above): holds if d ≥ −noise,
  else does not hold;
* ``approx`` ("A ≈ B"): holds if |d| ≤ noise, else does not hold.

A claim holds when every finding holds, does not hold when one finding does not hold, and is within
noise otherwise (some findings within noise, none against it); with no finding at all it is not
produced.

Noise of a difference of means (mAP points): where every mean has ≥ 2 seeds, the std of the
difference from the seeds' stds, sqrt(s_A² + s_B² [+ …]); otherwise the ``--noise`` threshold in
mAP points. Claims on other quantities (IoU, % change, error ranks, convergence points) state their
own rule in their docstring and in ``noise_rule``.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

HOLDS, FAILS, NOISE, NOT_PRODUCED = "holds", "does not hold", "within noise", "not produced"
VERDICTS = (HOLDS, FAILS, NOISE, NOT_PRODUCED)
EPS = 1e-9  # boundaries are inclusive: |d| == noise is within noise, whatever the float rounding

# How the noise of one finding was judged (``Finding.rule``) -> the text ``noise_rule`` shows.
SEEDS = "seeds"
THRESHOLD = "threshold"


class ClaimsError(ValueError):
    """Bad input (a missing or malformed table, an unreadable config); the message names the fix."""


@dataclass(frozen=True)
class ClaimResult:
    """One claim of the paper, checked on one run's results."""
    claim_id: str
    claim: str
    paper_item: str
    evidence: str
    numbers: dict
    verdict: str
    noise_rule: str
    entries: tuple[str, ...]


@dataclass(frozen=True)
class Claim:
    """A registered claim: its id, wording, where the paper says it and its checker."""
    id: str
    claim: str
    paper_item: str
    check: Callable[[Mapping, "Results", float], ClaimResult]
    doc: str = ""  # the checker's docstring: where the paper says it, what it reads, its verdict rule


def claim(id: str, text: str, paper_item: str):
    """Decorator: ``fn(config, results, noise, claim) -> ClaimResult`` becomes a :class:`Claim`."""
    def wrap(fn):
        def check(config, results, noise):
            return fn(config, as_results(results), float(noise), made)

        made = Claim(id, text, paper_item, check, inspect.cleandoc(fn.__doc__ or ""))
        return made
    return wrap


# ---------------------------------------------------------------- results on disk


class Results:
    """The result tables of one run: ``RESULTS_DIR/tables/<entry name>.csv``, read once each."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._tables: dict[str, pd.DataFrame] = {}

    def path(self, name: str) -> Path:
        return self.root / "tables" / f"{name}.csv"

    def table(self, name: str, columns: Iterable[str] = ()) -> pd.DataFrame:
        """The table of config entry ``name``; a missing file or column is a :class:`ClaimsError`."""
        if name not in self._tables:
            path = self.path(name)
            if not path.is_file():
                raise ClaimsError(f"{path} does not exist: the config has entry {name!r} but its table is not "
                                  f"there; make it first (snakemake {path}) or give the results folder of this config")
            try:
                self._tables[name] = pd.read_csv(path)
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
                raise ClaimsError(f"{path} is not a readable CSV table ({err})") from err
        table = self._tables[name]
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ClaimsError(f"{self.path(name)} lacks column(s) {missing}: not a table of the format "
                              "docs/results.md gives for this entry")
        return table


def as_results(results) -> Results:
    return results if isinstance(results, Results) else Results(results)


# ---------------------------------------------------------------- config helpers


def section(config: Mapping, name: str) -> dict:
    return dict(config.get(name) or {})


def entry_ref(section_name: str, name: str) -> str:
    return f"{section_name}.{name}"


def dataset_format(config: Mapping, model: str) -> str:
    """``coco`` or ``voc``: the format of the dataset a model trains on."""
    return config["datasets"][config["models"][model]["dataset"]]["format"]


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


_DEPTHS: dict[tuple, int | None] = {}


def backbone_depth(config: Mapping, model: str) -> int | None:
    """The ResNet depth of a model's backbone (``model.backbone.depth`` of its MMDetection config after
    ``cfg_options``; parsed only, no custom modules imported), None if the backbone has no depth.
    A relative config path is relative to the repository root (as the config check reads it), else
    to the working directory."""
    from mmengine.config import Config

    spec = config["models"][model]
    path = Path(spec["config"])
    if not path.is_absolute():
        path = repo_root() / path if (repo_root() / path).is_file() else Path.cwd() / path
    options = dict(spec.get("cfg_options") or {})
    key = (str(path), repr(sorted(options.items())))
    if key not in _DEPTHS:
        if not path.is_file():
            raise ClaimsError(f"model {model!r}: its config {spec['config']} does not exist (needed for its backbone "
                              "depth): run from the repository root")
        try:
            cfg = Config.fromfile(str(path), import_custom_modules=False)
            cfg.merge_from_dict(options)
        except Exception as err:  # a syntax error in the file, a bad option: named, not a traceback
            raise ClaimsError(f"model {model!r}: its config {path} cannot be read ({err})") from err
        depth = (cfg.get("model", {}).get("backbone") or {}).get("depth")
        _DEPTHS[key] = int(depth) if isinstance(depth, int) else None
    return _DEPTHS[key]


# ---------------------------------------------------------------- numbers of the tables


def task_metrics(table: pd.DataFrame) -> list[str]:
    """The mAP columns a claim reads, as the paper reports each model: VOC mAP on VOC data, keypoint mAP
    for a keypoint model (its boxes are person boxes, not the paper's Det task), else box and mask mAP."""
    has = {c[:-len("_mean")] for c in table.columns if c.endswith("_mean")}
    if "VOC mAP" in has:
        return ["VOC mAP"]
    if "keypoints mAP" in has:
        return ["keypoints mAP"]
    found = [m for m in ("bbox mAP", "segm mAP") if m in has]
    if not found:
        raise ClaimsError(f"a table has none of the mAP columns (VOC mAP, keypoints mAP, bbox mAP, segm mAP): "
                          f"columns {list(table.columns)}")
    return found


@dataclass(frozen=True)
class Point:
    """A mean over seeds with its std (NaN for one seed) and seed count."""
    mean: float
    std: float
    seeds: int

    @property
    def has_std(self) -> bool:
        return self.seeds >= 2 and math.isfinite(self.std)


def point(row: pd.Series, column: str, seeds_column: str = "seeds") -> Point:
    """``<column>_mean`` / ``_std`` of a table row."""
    std = row.get(f"{column}_std", float("nan"))
    return Point(float(row[f"{column}_mean"]), float(std) if pd.notna(std) else float("nan"),
                 int(row[seeds_column]) if seeds_column in row and pd.notna(row[seeds_column]) else 1)


def rows_at(table: pd.DataFrame, name: str, **match) -> pd.DataFrame:
    """Rows whose columns equal ``match`` (floats compared to 1e-6)."""
    mask = pd.Series(True, index=table.index)
    for column, value in match.items():
        if column not in table.columns:
            raise ClaimsError(f"table {name!r} lacks column {column!r}: not the format docs/results.md gives")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            mask &= (pd.to_numeric(table[column], errors="coerce") - value).abs() < 1e-6
        elif value is None:
            mask &= table[column].isna()
        else:
            mask &= table[column].astype(str) == str(value)
    return table[mask]


def one_row(table: pd.DataFrame, name: str, **match) -> pd.Series | None:
    """The one row matching (None if there is none; several is a malformed table)."""
    rows = rows_at(table, name, **match)
    if len(rows) > 1:
        raise ClaimsError(f"table {name!r} has {len(rows)} rows for {match}: expected one")
    return rows.iloc[0] if len(rows) else None


def noise_of(points: Iterable[Point], threshold: float) -> tuple[float, str]:
    """Noise of a difference of these means: sqrt(Σ std²) if every one has ≥ 2 seeds, else the threshold."""
    points = list(points)
    if points and all(p.has_std for p in points):
        return math.sqrt(sum(p.std ** 2 for p in points)), SEEDS
    return threshold, THRESHOLD


# ---------------------------------------------------------------- findings


def judge(kind: str, diff: float, noise: float) -> str:
    if kind == "beats":
        return HOLDS if diff > noise + EPS else FAILS if diff < -noise - EPS else NOISE
    if kind == "not_below":
        return HOLDS if diff >= -noise - EPS else FAILS
    if kind == "approx":
        return HOLDS if abs(diff) <= noise + EPS else FAILS
    raise ValueError(f"unknown comparison kind {kind!r}")


def signed(x: float, digits: int = 2) -> str:
    """+1.23 / −1.23 (a real minus sign)."""
    return f"{x:+.{digits}f}".replace("-", "\u2212")


def num(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}".replace("-", "\u2212")


@dataclass(frozen=True)
class Finding:
    """One comparison with its verdict: ``text`` is its evidence, ``numbers`` its values."""
    label: str
    verdict: str
    text: str
    numbers: dict
    rule: str
    margin: float = 0.0  # how strongly it supports the claim (< 0: against it); the evidence shows the lowest first


def compare(label: str, kind: str, a: float, b: float, noise: float, rule: str, a_name: str, b_name: str,
            unit: str = "points", digits: int = 2) -> Finding:
    """A finding of ``kind`` (``beats``, ``not_below``, ``approx``) on A − B."""
    diff = a - b
    verdict = judge(kind, diff, noise)
    margin = {"beats": diff - noise, "not_below": diff + noise, "approx": noise - abs(diff)}[kind]
    text = f"{label}: {a_name} {num(a, digits)} vs {b_name} {num(b, digits)} ({signed(diff, digits)} {unit})"
    numbers = {"a": _round(a), "b": _round(b), "diff": _round(diff), "noise": _round(noise), "kind": kind,
               "verdict": verdict}
    return Finding(label, verdict, text, numbers, rule, margin)


def _round(x):
    if isinstance(x, float):
        return None if not math.isfinite(x) else round(x, 4)
    return x


def overall(verdicts: Iterable[str]) -> str:
    verdicts = list(verdicts)
    if not verdicts:
        return NOT_PRODUCED
    if FAILS in verdicts:
        return FAILS
    return HOLDS if all(v == HOLDS for v in verdicts) else NOISE


RULE_TEXT = {
    SEEDS: "seed std: sqrt of the sum of the compared means' squared stds over seeds (every side >= 2 seeds)",
    THRESHOLD: "threshold: --noise {noise:g} (mAP points; a side has fewer than 2 seeds)",
}

_ORDER = {FAILS: 0, NOISE: 1, HOLDS: 2}
_PLURAL = {HOLDS: "hold", NOISE: "within noise", FAILS: "do not hold"}
MAX_SHOWN = 3


def evidence_text(findings: list[Finding], notes: Iterable[str] = ()) -> str:
    """Every finding if there are at most ``MAX_SHOWN``, else the counts and the ``MAX_SHOWN`` findings most
    against the claim (lowest margin first); then the notes (parts not produced, caveats)."""
    notes = [n for n in notes if n]
    if len(findings) <= MAX_SHOWN:
        parts = [f.text for f in findings]
    else:
        counts = ", ".join(f"{sum(f.verdict == v for f in findings)} {_PLURAL[v]}" for v in (HOLDS, NOISE, FAILS)
                           if any(f.verdict == v for f in findings))
        shown = sorted(findings, key=lambda f: (_ORDER[f.verdict], f.margin))[:MAX_SHOWN]
        parts = [f"{len(findings)} comparisons ({counts}); most against the claim: " + "; ".join(f.text for f in shown)]
    return "; ".join(parts + notes)


def conclude(made: Claim, findings: list[Finding], entries: Iterable[str], noise: float,
             notes: Iterable[str] = (), rules: Mapping[str, str] | None = None, needs: str = "",
             extra: Mapping | None = None) -> ClaimResult:
    """The claim's result from its findings; with none, ``not produced`` naming what it ``needs``."""
    labels = [f.label for f in findings]
    if len(set(labels)) != len(labels):
        raise AssertionError(f"claim {made.id}: duplicate finding labels {labels}")
    entries = tuple(dict.fromkeys(entries))
    notes = list(notes)
    if not findings:
        evidence = "; ".join([needs or "the config produces no results for it", *notes])
        return ClaimResult(made.id, made.claim, made.paper_item, evidence, dict(extra or {}), NOT_PRODUCED,
                           "-", entries)
    texts = {**RULE_TEXT, **(rules or {})}
    used = list(dict.fromkeys(f.rule for f in findings))
    rule = "; ".join(f"{texts[r].format(noise=noise)} ({sum(f.rule == r for f in findings)} of {len(findings)})"
                     if len(used) > 1 else texts[r].format(noise=noise) for r in used)
    numbers = {f.label: f.numbers for f in findings}
    if extra:
        numbers.update(extra)
    return ClaimResult(made.id, made.claim, made.paper_item, evidence_text(findings, notes), numbers,
                       overall(f.verdict for f in findings), rule, entries)


@dataclass
class Collector:
    """Findings, entries and notes a checker gathers on its way."""
    findings: list[Finding] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)


def dense_row(table: pd.DataFrame, name: str) -> pd.Series:
    """The dense model's row (prune_percent 0) of an experiment-style table."""
    row = one_row(table, name, prune_percent=0.0)
    if row is None:
        raise ClaimsError(f"table {name!r} has no dense row (prune_percent 0): not a table of lthsteps.summary")
    return row
