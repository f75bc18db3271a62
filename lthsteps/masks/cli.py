"""Command line of :mod:`lthsteps.masks`: ``python -m lthsteps.masks {groups,prune,report} --help``."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from lthsteps.checkpoints import load_state_dict
from lthsteps.files import atomic_write
from lthsteps.masks.groups import (GROUPS, KINDS, check_choices, compile_patterns, group_params, network_params,
                                   prunable_weights)
from lthsteps.masks.magnitude import SCOPES, iterative_sparsities, magnitude_masks
from lthsteps.masks.maskfile import load_masks, save_masks_and_report
from lthsteps.masks.measure import _ratio, check_zeros, sparsity_report, zeros_violations


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; user errors print one line and return 2."""
    args = _parser().parse_args(argv)
    try:
        args.command(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _parser() -> argparse.ArgumentParser:
    from lthsteps import masks  # the package, imported by now: its doc's first line describes the command

    parser = argparse.ArgumentParser(prog="python -m lthsteps.masks", description=masks.__doc__.split("\n")[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    groups = sub.add_parser("groups", help="parameter count and prunable weights of each module group of a config")
    groups.add_argument("config", help="MMDetection config file")
    groups.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE", help="override config keys")
    groups.set_defaults(command=_cmd_groups)

    prune = sub.add_parser("prune", help="magnitude-prune the weights of a checkpoint into a mask file")
    prune.add_argument("--weights", required=True, help="checkpoint to rank the weights of")
    prune.add_argument("--sparsity", required=True, type=float, help="target sparsity, in [0, 1)")
    prune.add_argument("--scope", choices=list(SCOPES), default="global",
                       help="one magnitude ranking over all weights, one per module group, or one per tensor")
    prune.add_argument("--groups", required=True, type=_csv, help=f"comma-separated, from {','.join(GROUPS)}")
    prune.add_argument("--kinds", type=_csv, default=list(KINDS), help="comma-separated, from conv,linear")
    prune.add_argument("--exclude", action="append", default=[], metavar="REGEX",
                       help="leave parameters whose name matches dense (repeatable), e.g. '\\.downsample\\.'")
    prune.add_argument("--previous", help="mask of the previous round (required for --round > 1)")
    prune.add_argument("--round", type=int, default=1, help="this round, 1..ROUNDS (default 1)")
    prune.add_argument("--rounds", type=int, default=1, help="rounds to reach --sparsity (default 1: one-shot)")
    prune.add_argument("--out", required=True, help="mask file to write (.npz)")
    prune.add_argument("--report", required=True, help="sparsity report to write (.json)")
    prune.set_defaults(command=_cmd_prune)

    report = sub.add_parser("report", help="sparsity report of a checkpoint under a mask")
    report.add_argument("--weights", required=True)
    report.add_argument("--mask", required=True)
    report.add_argument("--out", required=True, help="report to write (.json)")
    report.set_defaults(command=_cmd_report)
    return parser


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _cmd_groups(args: argparse.Namespace) -> None:
    """Print the size of every module group of the detector built from ``args.config``."""
    from mmengine.config import DictAction

    from lthsteps.mm import build_model, load_config

    options = argparse.Namespace(cfg_options=None)
    DictAction(option_strings=[], dest="cfg_options")(None, options, args.cfg_options)
    state_dict = build_model(load_config(args.config, options.cfg_options)).state_dict()
    params = network_params(state_dict)
    total = sum(t.numel() for t in params.values())
    groups = {}
    for group, names in group_params(params).items():
        if names:
            n = sum(params[name].numel() for name in names)
            prunable = {
                kind: sum(t.numel() for t in prunable_weights(params, [group], [kind]).values()) for kind in KINDS
            }
            groups[group] = {"params": n, "share": _ratio(n, total), "prunable": prunable}
    print(json.dumps({"config": args.config, "total_params": total, "groups": groups}, indent=2))


def _cmd_prune(args: argparse.Namespace) -> None:
    """Validate all inputs, compute the round's masks, then write mask and report."""
    schedule = iterative_sparsities(args.sparsity, args.rounds)
    if not 1 <= args.round <= args.rounds:
        raise ValueError(f"--round must be in 1..{args.rounds} (--rounds), got {args.round}")
    if args.round > 1 and args.previous is None:
        raise ValueError(
            f"round {args.round} of {args.rounds} builds on round {args.round - 1}: pass its mask with --previous"
        )
    check_choices("group", args.groups, GROUPS)
    check_choices("kind", args.kinds, KINDS)
    compile_patterns(args.exclude)
    state_dict = load_state_dict(args.weights)
    weights = prunable_weights(state_dict, args.groups, args.kinds, args.exclude)
    previous = load_masks(args.previous)[0] if args.previous else None
    masks = magnitude_masks(weights, schedule[args.round - 1], args.scope, previous)
    meta = {
        "sparsity": args.sparsity,
        "round_sparsity": schedule[args.round - 1],
        "scope": args.scope,
        "groups": args.groups,
        "kinds": args.kinds,
        "exclude": args.exclude,
        "round": args.round,
        "rounds": args.rounds,
        "source_checkpoint": str(args.weights),
        "previous_mask": args.previous,
    }
    save_masks_and_report(args.out, args.report, masks, meta, state_dict)


def _cmd_report(args: argparse.Namespace) -> None:
    """Write the sparsity report of a (trained) checkpoint, with pruned weights that are non-zero."""
    state_dict = load_state_dict(args.weights)
    masks, meta = load_masks(args.mask)
    check_zeros(state_dict, masks, str(args.weights), str(args.mask))  # a report of such weights would mislead
    report = {
        "weights": str(args.weights),
        "mask": str(args.mask),
        "meta": meta,
        **sparsity_report(state_dict, masks),
        "zeros_violations": zeros_violations(state_dict, masks),
    }
    text = json.dumps(report, indent=2)
    atomic_write(args.out, lambda tmp: Path(tmp).write_text(text))
