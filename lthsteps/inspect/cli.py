"""Command line of :mod:`lthsteps.inspect`.

    python -m lthsteps.inspect PATH [--json] [--layers] [--mask MASK]
    python -m lthsteps.inspect diff A B [--json]

Exit status: 0 all checks pass; 1 a weights file is not zero off its mask (or another problem of a
run), or ``diff`` found files of different models; 2 input that cannot be inspected (one line on stderr).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence

from lthsteps.inspect.core import ACCEPTED
from lthsteps.inspect.runs import inspect_path, is_ok
from lthsteps.inspect.diff import diff_paths
from lthsteps.inspect.text import render


def _inspect_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lthsteps.inspect",
        description="Inspect an artifact of the workflow: " + ACCEPTED + ". Weights are checked to be exactly zero "
                    "where their mask prunes. `python -m lthsteps.inspect diff A B` compares two masks or two "
                    "weights files.")
    parser.add_argument("path", help="mask.npz, weights file, run folder or results tree")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.add_argument("--layers", action="store_true", help="per-layer numbers too")
    parser.add_argument("--mask", help="check a weights file against this mask instead of the one of its run folder")
    return parser


def _diff_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lthsteps.inspect diff",
        description="Compare two masks (IoU of the pruned sets per layer, per group and overall) or two weights "
                    "files (which tensors differ, by how much).")
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    diff = bool(argv) and argv[0] == "diff"
    args = (_diff_parser() if diff else _inspect_parser()).parse_args(argv[1:] if diff else argv)
    try:
        if diff:
            summary = diff_paths(args.a, args.b)
            ok = summary.same_model
        else:
            summary = inspect_path(args.path, layers=args.layers, mask=args.mask)
            ok = is_ok(summary)
    except (ValueError, OSError) as err:  # InspectError, a file that is not a mask / weights file, unreadable
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"type": type(summary).__name__, "ok": ok, **dataclasses.asdict(summary)}, indent=1))
    else:
        print(render(summary))
    return 0 if ok else 1
