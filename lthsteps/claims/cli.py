"""Command line: ``python -m lthsteps.claims --config-json CONFIG.json --results RESULTS_DIR --noise POINTS
--csv OUT.csv --markdown OUT.md``.

Bad input (an unreadable config, a table the config names missing or malformed): one ``error: ...``
line on stderr, exit status 2, nothing written. Both outputs are written (atomically) only after every
claim has been checked.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from lthsteps.claims.core import ClaimsError, Results
from lthsteps.claims.report import check_all, frame, markdown
from lthsteps.files import atomic_write


def read_config(path: Path) -> dict:
    try:
        config = json.loads(path.read_text())
    except OSError as err:
        raise ClaimsError(f"--config-json {path}: cannot be read ({err.strerror})") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ClaimsError(f"--config-json {path} is not valid JSON ({err})") from err
    if not isinstance(config, dict) or not all(k in config for k in ("models", "datasets", "experiments")):
        raise ClaimsError(f"--config-json {path} is not a workflow config (an object with models, datasets, "
                          "experiments, ...): dump the validated Snakemake config")
    return config


def main(argv: Sequence[str] | None = None) -> int:
    from lthsteps import claims

    parser = argparse.ArgumentParser(prog="python -m lthsteps.claims", description=claims.__doc__.split("\n")[0])
    parser.add_argument("--config-json", required=True, type=Path, help="the validated workflow config as JSON")
    parser.add_argument("--results", required=True, type=Path, help="the run's results_dir (holding tables/)")
    parser.add_argument("--noise", required=True, type=float, metavar="POINTS",
                        help="mAP points within which a difference is noise when a side has fewer than 2 seeds")
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--markdown", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        if not math.isfinite(args.noise) or args.noise < 0:
            raise ClaimsError(f"--noise {args.noise} is not a non-negative number of mAP points")
        config = read_config(args.config_json)
        if not (args.results / "tables").is_dir():
            raise ClaimsError(f"--results {args.results} has no tables/ folder: give the run's results_dir")
        results = check_all(config, Results(args.results), args.noise)
    except ClaimsError as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
    table, text = frame(results), markdown(results, args.noise)
    atomic_write(args.csv, lambda tmp: table.to_csv(tmp, index=False))
    atomic_write(args.markdown, lambda tmp: Path(tmp).write_text(text))
    print(text)
    return 0
