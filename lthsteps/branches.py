"""The controls of a lottery ticket (what open_lth calls branches of a level): a random mask with the
ticket's per-layer counts, and the ticket's mask on re-initialised weights. A ticket that does not
beat both at the same sparsity is not a winning ticket (Frankle & Carbin 2019, §2 and §5).

    python -m lthsteps.branches random-mask --ticket mask.npz --weights rewind.pth --seed 0 \
        --out branches/random_mask/mask.npz --report branches/random_mask/mask.json
    python -m lthsteps.branches reinit --config CFG --dataset dataset.json [--cfg-options k=v ...] \
        --mask mask.npz --seed 0 --out branches/reinit/init.pth

* ``random-mask``: in every masked tensor, exactly as many weights pruned as the ticket prunes there,
  at positions drawn uniformly (``torch.randperm`` seeded with ``--seed``); the report is the mask's
  sparsity report on ``--weights``, as ``lthsteps.masks prune`` writes it.
* ``reinit``: the detector of ``--config`` (bound to ``--dataset``'s classes, as training binds it)
  initialised afresh by its own ``init_cfg`` (pretrained
  files are not loaded: the point is weights the ticket's training never saw), with torch's RNG
  seeded by ``REINIT_SEED_OFFSET + --seed`` so that it differs from the dense run's initialisation
  at the same seed; weights off the mask are zeroed. Its round trains from the model's rewind
  iteration, as the ticket does, so both train the same iterations at the same learning rates.

No library provides these controls for MMDetection models, hence this module.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

import torch
from torch import Tensor

from lthsteps.checkpoints import load_state_dict, save_state_dict
from lthsteps.datasets import DatasetError
from lthsteps.masks import apply_masks, check_masks_fit, load_masks
from lthsteps.masks.maskfile import save_masks_and_report

REINIT_SEED_OFFSET = 1000


def random_mask(ticket: Mapping[str, Tensor], seed: int) -> dict[str, Tensor]:
    """Masks with the ticket's pruned count in every tensor, at random positions."""
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for name, mask in ticket.items():
        n_pruned = int((~mask).sum())
        kept = torch.ones(mask.numel(), dtype=torch.bool)
        kept[torch.randperm(mask.numel(), generator=generator)[:n_pruned]] = False
        out[name] = kept.reshape(mask.shape)
    return out


def _without_pretrained(node):
    """A model config with every ``init_cfg`` of type Pretrained removed (a fresh init loads no file)."""
    if isinstance(node, dict):
        return {k: _without_pretrained(v) for k, v in node.items()
                if not (k == "init_cfg" and isinstance(v, dict) and v.get("type") == "Pretrained")}
    if isinstance(node, list):
        return [_without_pretrained(v) for v in node]
    return node


def reinit_weights(cfg, masks: Mapping[str, Tensor], seed: int) -> dict[str, Tensor]:
    """The detector of ``cfg`` freshly initialised (seed ``REINIT_SEED_OFFSET + seed``), zero off ``masks``."""
    from lthsteps.mm import build_model

    cfg.model = _without_pretrained(cfg.model.to_dict() if hasattr(cfg.model, "to_dict") else cfg.model)
    torch.manual_seed(REINIT_SEED_OFFSET + seed)
    state = {k: v.detach().clone() for k, v in build_model(cfg, init_weights=True).state_dict().items()}
    check_masks_fit(masks, state)
    apply_masks(state, masks)
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.branches", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    rand = sub.add_parser("random-mask", help="a random mask with the ticket's per-layer counts")
    rand.add_argument("--ticket", required=True, help="the ticket's mask file")
    rand.add_argument("--weights", required=True, help="weights the report measures (the round's init)")
    rand.add_argument("--seed", type=int, required=True)
    rand.add_argument("--out", required=True, help="mask file to write (.npz)")
    rand.add_argument("--report", required=True, help="its sparsity report (.json)")
    rand.set_defaults(command=_cmd_random_mask)
    reinit = sub.add_parser("reinit", help="freshly initialised weights under the ticket's mask")
    reinit.add_argument("--config", required=True, help="the model's MMDetection config")
    reinit.add_argument("--dataset", required=True, help="dataset descriptor JSON (its classes size the heads)")
    reinit.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE", help="override config keys")
    reinit.add_argument("--mask", required=True, help="the ticket's mask file")
    reinit.add_argument("--seed", type=int, required=True)
    reinit.add_argument("--out", required=True, help="weights file to write (.pth)")
    reinit.set_defaults(command=_cmd_reinit)
    args = parser.parse_args(argv)
    try:
        args.command(args)
    except (ValueError, FileNotFoundError, DatasetError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _cmd_random_mask(args: argparse.Namespace) -> None:
    ticket, meta = load_masks(args.ticket)
    weights = load_state_dict(args.weights)
    check_masks_fit(ticket, weights)
    masks = random_mask(ticket, args.seed)
    save_masks_and_report(args.out, args.report, masks,
                          {**meta, "control": "random_mask", "ticket_mask": args.ticket, "seed": args.seed}, weights)


def _cmd_reinit(args: argparse.Namespace) -> None:
    from mmengine.config import DictAction

    from lthsteps.datasets import load_descriptor
    from lthsteps.mm import bind_dataset, load_config

    options = argparse.Namespace(cfg_options=None)
    DictAction(option_strings=[], dest="cfg_options")(None, options, args.cfg_options)
    masks, _ = load_masks(args.mask)
    cfg = bind_dataset(load_config(args.config, options.cfg_options), load_descriptor(args.dataset))
    save_state_dict(args.out, reinit_weights(cfg, masks, args.seed))


if __name__ == "__main__":
    sys.exit(main())
