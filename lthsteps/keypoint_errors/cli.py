"""Command line of :mod:`lthsteps.keypoint_errors`:

    python -m lthsteps.keypoint_errors --gt GT.json --detections DT.json --out errors.json [--pr-csv pr.csv]

Bad input prints one ``error: ...`` line and returns 2 before anything is written.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from lthsteps.files import atomic_write
from lthsteps.keypoint_errors.core import analyze, to_json


def _load(path: str, what: str):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ValueError(f"{what} {path} does not exist: pass an existing file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{what} {path} is not a readable JSON file ({err}): pass a COCO JSON file") from None


def _parser() -> argparse.ArgumentParser:
    from lthsteps import keypoint_errors  # the package, imported by now: its docstring describes the analysis

    parser = argparse.ArgumentParser(prog="python -m lthsteps.keypoint_errors",
                                     description=keypoint_errors.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gt", required=True, help="COCO person keypoints ground truth (JSON)")
    parser.add_argument("--detections", required=True, help="keypoint detections in COCO results format (JSON list)")
    parser.add_argument("--out", required=True, help="summary JSON to write (counts, AP per fix, FPs, FNs)")
    parser.add_argument("--pr-csv", help="PR curves to write as CSV (mode, fix, oks, recall, precision)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; user errors print one line and return 2."""
    args = _parser().parse_args(argv)
    try:
        gt = _load(args.gt, "ground truth")
        if not isinstance(gt, dict):
            raise ValueError(f"ground truth {args.gt} is not a COCO dataset (a JSON object): "
                             "pass a COCO annotation file")
        result = analyze(gt, _load(args.detections, "detections"))
    except ValueError as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
    text = json.dumps(to_json(result), indent=2) + "\n"
    if args.pr_csv:
        csv = result["pr"].to_csv(index=False)
        atomic_write(args.pr_csv, lambda tmp: Path(tmp).write_text(csv))
    atomic_write(args.out, lambda tmp: Path(tmp).write_text(text))
    counts = ", ".join(f"{r['error']} {r['count']} ({r['percent']:.1f}%)" for r in to_json(result)["counts"])
    ap = result["ap"].set_index(["mode", "fix"])
    print(f"keypoints: {counts}; background FPs {result['totals']['background_fp']}, "
          f"FNs {result['totals']['false_negatives']}; AP original {ap.loc[('original', 'none'), 'AP']:.4f}, "
          f"all keypoint errors fixed {ap.loc[('cumulative', 'jitter'), 'AP']:.4f}")
    return 0
