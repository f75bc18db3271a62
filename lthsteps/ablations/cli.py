"""Command line of :mod:`lthsteps.ablations`: ``python -m lthsteps.ablations SETTING --help``.

Input errors (a missing file, a VALUE the setting does not take, a seed missing from one cell...)
print one ``error: ...`` line and return 2 before anything is written.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from lthsteps.ablations import SETTINGS, common, plots


def _parser() -> argparse.ArgumentParser:
    from lthsteps import ablations

    epilog = "settings:\n" + "\n".join(f"  {name}: {module.__doc__.splitlines()[0]}\n    VALUE = {module.VALUE}"
                                        for name, module in SETTINGS.items())
    parser = argparse.ArgumentParser(prog="python -m lthsteps.ablations", description=ablations.__doc__.split("\n")[0],
                                     epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("setting", choices=list(SETTINGS), help="the ablation: " + ", ".join(SETTINGS))
    parser.add_argument("--name", required=True, help="the ablation's name (table and figure title)")
    parser.add_argument("--paper", default="", help="the paper's table/figure this is the analog of, e.g. 'Table 3'")
    parser.add_argument("--dense", action="append", default=[], metavar="SEED:DIR",
                        help="the dense model's run folder per seed (not for layer_sparsity)")
    parser.add_argument("--run", action="append", required=True, metavar="VALUE:PRUNE:SEED:DIR",
                        help="one run of the ablation; VALUE as the setting's module doc says")
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--markdown", required=True, type=Path)
    parser.add_argument("--figure", required=True, type=Path)
    return parser


def _join_values(argv: Sequence[str]) -> list[str]:
    """``--run -:80:0:DIR`` as ``--run=-:80:0:DIR``: argparse would take the leading '-' for an option."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] in ("--run", "--dense") and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(_join_values(sys.argv[1:] if argv is None else argv))
    setting = SETTINGS[args.setting]
    title = common.title(args.name, args.paper)
    try:
        if setting.NEEDS_DENSE != bool(args.dense):
            raise ValueError(f"{args.setting} needs --dense SEED:DIR for each seed" if setting.NEEDS_DENSE
                             else f"{args.setting} takes no --dense: drop it")
        dense = common.dense_records([common.parse_dense(d) for d in args.dense])
        recs = setting.load([common.parse_run(r, setting.parse_value) for r in args.run])
        table = setting.table(recs, dense)
        text = setting.markdown(table, title)
        fig = setting.figure(recs, dense, title)  # made before any write: a failure leaves nothing behind
    except (ValueError, FileNotFoundError, KeyError) as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
    plots.write_outputs(table, text, fig, args.csv, args.markdown, args.figure)
    return 0
