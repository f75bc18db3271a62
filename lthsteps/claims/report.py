"""Run every claim and write the results: a CSV (one row per claim) and a Markdown table."""
from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence

import pandas as pd

from lthsteps.claims.core import Claim, ClaimResult, Results, as_results

TITLE = "### Claims of the paper, checked on this run"
COLUMNS = [f.name for f in dataclasses.fields(ClaimResult)]


def check_all(config: Mapping, results: Results | str, noise: float,
              claims: Sequence[Claim] | None = None) -> list[ClaimResult]:
    """Every claim (``CLAIMS`` by default) on one run; a bad input raises ``ClaimsError``."""
    from lthsteps.claims.registry import CLAIMS

    results = as_results(results)
    return [c.check(config, results, noise) for c in (CLAIMS if claims is None else claims)]


def _clean(value):
    """JSON-safe: NaN and infinities become null, tuples lists."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def frame(results: Sequence[ClaimResult]) -> pd.DataFrame:
    """One row per claim, the columns of ClaimResult; numbers and entries as JSON."""
    rows = []
    for r in results:
        row = dataclasses.asdict(r)
        row["numbers"] = json.dumps(_clean(r.numbers), ensure_ascii=False, allow_nan=False)
        row["entries"] = json.dumps(list(r.entries), ensure_ascii=False)
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def noise_line(noise: float) -> str:
    return ("Noise: a difference of two mAP means is noise when it is at most the std of the difference from the "
            "seeds' stds, sqrt(s_A² + s_B²), where both sides have ≥ 2 seeds, else at most the threshold "
            f"--noise {noise:g} (mAP points); \"A beats B\" holds if A − B > noise, is within noise if |A − B| ≤ "
            "noise and does not hold if A − B < −noise; \"no drop\" and \"A ≈ B\" claims hold within noise; IoU, "
            "% change, error-type and convergence claims state their own rule (the CSV's noise_rule); a claim holds "
            "when every comparison holds and does not hold when one does not.")


def markdown(results: Sequence[ClaimResult], noise: float) -> str:
    lines = [TITLE, "", "| # | Claim | Paper | Evidence | Verdict |", "|---|---|---|---|---|"]
    for n, r in enumerate(results, 1):
        lines.append(f"| {n} | {_cell(r.claim)} | {_cell(r.paper_item)} | {_cell(r.evidence)} | **{r.verdict}** |")
    return "\n".join(lines) + "\n\n" + noise_line(noise) + "\n"
