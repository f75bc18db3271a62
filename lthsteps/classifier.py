"""The "ImageNet" stage: train a torchvision ResNet classifier on an ImageFolder dataset.

    python -m lthsteps.classifier --data DIR --arch resnet18 --width 16 --iters 1500 \
        --out weights.pth --report train.json [--rewind-iter 300 --rewind-out rewind.pth] \
        [--init rewind.pth --start-iter 300 --mask mask.npz]

``DIR`` holds ``train/<class>/*`` and ``val/<class>/*`` (torchvision ``ImageFolder``): the
generated classification set on the embedded default, an ImageNet folder at paper scale. The weights
file is a plain torchvision state dict (``conv1.weight`` … ``fc.bias``), so a torchvision weights
file can stand in for it. ``--width 64`` is torchvision's ``resnet18``/``resnet50`` itself; smaller
widths give the same modules and parameter names with fewer channels (the embedded detectors' width).

Like ``lthsteps.train`` for detectors, one run is either the dense run (optionally saving the
rewind point for late resetting) or one round of iterative magnitude pruning: ``--init`` the rewind
weights, ``--start-iter`` their iteration, ``--mask`` the round's mask; pruned weights are kept at
zero after every step and verified zero in the written file.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torchvision import datasets, transforms
from torchvision.models import resnet

from lthsteps.allocator import keep_freed_memory
from lthsteps.autocast import autocast_pays, forward_autocast
from lthsteps.channels_last_pool import ChannelsLastMaxPool2d
from lthsteps.checkpoints import save_state_dict
from lthsteps.files import atomic_write
from lthsteps.masks import apply_masks, kept_factors, sparsity_report, zero_pruned
from lthsteps.run_contract import (check_rewind_pair, check_schedule, check_zero_off_mask, load_fitting_init,
                                   load_fitting_masks, save_weights_verified)

ARCHS = {"resnet18": (resnet.BasicBlock, [2, 2, 2, 2]), "resnet50": (resnet.Bottleneck, [3, 4, 6, 3])}
# MMDetection's data_preprocessor normalisation (its RGB 0..255 means/stds divided by 255), so
# detectors initialised from these weights see inputs on the same scale.
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class NarrowResNet(resnet.ResNet):
    """torchvision's ResNet with ``width`` stem channels (64 in torchvision) and stages of width×1,2,4,8.

    Built from torchvision's own blocks and ``_make_layer``; parameter names equal ``resnet.ResNet``'s.
    """

    def __init__(self, block: type[nn.Module], layers: list[int], width: int, num_classes: int) -> None:
        nn.Module.__init__(self)
        self._norm_layer, self.dilation, self.groups, self.base_width = nn.BatchNorm2d, 1, 1, 64
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = ChannelsLastMaxPool2d(kernel_size=3, stride=2, padding=1)  # nn.MaxPool2d's result, faster
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)
        for module in self.modules():  # torchvision's initialisation
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)


def build_classifier(arch: str, width: int, num_classes: int) -> resnet.ResNet:
    """torchvision ``resnet18``/``resnet50`` (width 64) or its narrow variant."""
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}: choose one of {sorted(ARCHS)}")
    if width == 64:
        return getattr(resnet, arch)(num_classes=num_classes)
    return NarrowResNet(*ARCHS[arch], width=width, num_classes=num_classes)


def image_folders(root: Path, image_size: int, cache_images: bool = False) -> tuple[datasets.ImageFolder,
                                                                                  datasets.ImageFolder]:
    """Train (random crop + flip) and val (resize) ImageFolders under ``root``; raises if missing.

    ``cache_images`` decodes every training image once, up front, and keeps it in memory: the same
    images reach the same transforms (the same results), without decoding them again every epoch.
    """
    for split in ("train", "val"):
        if not (root / split).is_dir():
            raise FileNotFoundError(f"{root / split} does not exist: the classification data must hold "
                                    "train/<class>/ and val/<class>/ folders (torchvision ImageFolder)")
    normalize = transforms.Normalize(MEAN, STD)
    train = transforms.Compose([
        transforms.RandomResizedCrop(image_size, scale=(0.5, 1.0)), transforms.RandomHorizontalFlip(),
        transforms.ToTensor(), normalize])
    val = transforms.Compose([transforms.Resize(image_size), transforms.CenterCrop(image_size),
                              transforms.ToTensor(), normalize])
    train_set, val_set = datasets.ImageFolder(root / "train", train), datasets.ImageFolder(root / "val", val)
    if cache_images:
        decoded = {path: train_set.loader(path) for path, _ in train_set.samples}
        train_set.loader = decoded.__getitem__
    if train_set.classes != val_set.classes:
        raise ValueError(f"{root}: train and val have different classes ({train_set.classes} vs {val_set.classes})")
    return train_set, val_set


def learning_rate(iteration: int, iters: int, base_lr: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to zero at ``iters``: a function of the iteration only, so
    that a round restarted at the rewind iteration continues the dense run's schedule."""
    if iteration < warmup:
        return base_lr * (iteration + 1) / warmup
    return 0.5 * base_lr * (1 + math.cos(math.pi * (iteration - warmup) / max(1, iters - warmup)))


def batches(dataset, batch_size: int, seed: int, start_iter: int):
    """Endless shuffled batches, epoch e shuffled with seed+e; starts at ``start_iter``'s batch, so a
    round from the rewind point sees the data the dense run would have seen from there."""
    per_epoch = len(dataset) // batch_size
    epoch, index = divmod(start_iter, per_epoch)
    while True:
        order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed + epoch)).tolist()
        for b in range(index, per_epoch):
            items = [dataset[i] for i in order[b * batch_size:(b + 1) * batch_size]]
            yield torch.stack([x for x, _ in items]), torch.tensor([y for _, y in items])
        epoch, index = epoch + 1, 0


def accuracy(model: nn.Module, dataset, batch_size: int = 64, autocast: str | None = None) -> float:
    """Top-1 accuracy on ``dataset`` (forward passes in ``autocast``'s dtype, None: float32)."""
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    with torch.no_grad():
        for start in range(0, len(dataset), batch_size):
            items = [dataset[i] for i in range(start, min(len(dataset), start + batch_size))]
            with forward_autocast(device.type, autocast):
                logits = model(torch.stack([x for x, _ in items]).to(device)).float().cpu()
            correct += int((logits.argmax(1) == torch.tensor([y for _, y in items])).sum())
    return correct / len(dataset)


def train_classifier(model: nn.Module, train_set, *, iters: int, batch_size: int, lr: float, seed: int,
                     masks: dict | None = None, start_iter: int = 0, rewind_iter: int | None = None,
                     autocast: str | None = None, log=print, log_interval: int = 50) -> dict[str, torch.Tensor] | None:
    """SGD from ``start_iter`` to ``iters``; pruned weights (``masks``) are zeroed after every step.
    ``autocast`` (e.g. ``"bfloat16"``) runs the forward passes in that dtype (``main`` asks for it only
    where the device executes it natively, lthsteps.autocast); weights, gradients and the optimizer
    stay float32.

    Returns the weights after ``rewind_iter`` iterations (None if not asked or not reached).
    """
    device = next(model.parameters()).device
    params = dict(model.named_parameters())
    apply_masks(params, masks or {})  # checks the masks fit, zeros the pruned weights
    # Re-zeroed after every step: (parameter, 1 where kept) pairs built once, off the hot path.
    kept = kept_factors(params, masks or {})
    decay = [p for n, p in params.items() if p.ndim > 1]
    other = [p for n, p in params.items() if p.ndim <= 1]
    optimizer = torch.optim.SGD([{"params": decay, "weight_decay": 1e-4}, {"params": other, "weight_decay": 0}],
                                lr=lr, momentum=0.9, nesterov=True)
    warmup = min(100, iters // 10)
    rewind = None
    torch.manual_seed(seed + start_iter)
    model.train()
    start = time.perf_counter()
    loader = batches(train_set, batch_size, seed, start_iter)
    for iteration in range(start_iter, iters):
        if iteration == rewind_iter:
            rewind = {k: v.detach().clone() for k, v in model.state_dict().items()}
        images, labels = (t.to(device, non_blocking=True) for t in next(loader))
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(iteration, iters, lr, warmup)
        with forward_autocast(device.type, autocast):
            logits = model(images)
        loss = nn.functional.cross_entropy(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        zero_pruned(kept)
        if (iteration + 1) % log_interval == 0 or iteration + 1 == iters:
            elapsed = time.perf_counter() - start
            eta = elapsed / (iteration + 1 - start_iter) * (iters - iteration - 1)
            log(f"iter {iteration + 1}/{iters}  loss {loss.item():.3f}  lr {optimizer.param_groups[0]['lr']:.4f}"
                f"  {elapsed:.0f}s elapsed, eta {eta:.0f}s")
    if rewind_iter == iters:
        rewind = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return rewind


def check_inputs(model: nn.Module, args: argparse.Namespace) -> tuple[dict, dict]:
    """Fail before training on init weights / masks that do not fit, or a bad iteration; return the
    masks and the init weights (empty without ``--init``)."""
    state = model.state_dict()
    model_name = f"{args.arch} at width {args.width} with {model.fc.out_features} classes"
    init = load_fitting_init(args.init, state, model_name,
                             "give weights of the same architecture, width and class count")
    masks = load_fitting_masks(args.mask, state)
    check_schedule(args.iters, args.rewind_iter, args.start_iter, bool(args.init))
    check_rewind_pair(args.rewind_iter, args.rewind_out)
    return masks, init


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keep_freed_memory()
    torch.set_num_threads(args.threads)
    try:  # bad input: one line naming the problem and the fix, before any training
        train_set, val_set = image_folders(args.data, args.image_size, args.cache_images)
        torch.manual_seed(args.seed)
        model = build_classifier(args.arch, args.width, len(train_set.classes))
        masks, init = check_inputs(model, args)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if init:
        model.load_state_dict(init)
    model.to("cuda" if torch.cuda.is_available() else "cpu")
    device_type = next(model.parameters()).device.type
    autocast = args.autocast if args.autocast and autocast_pays(device_type) else None
    if args.autocast and not autocast:
        print(f"warning: this CPU has no native {args.autocast} (avx512_bf16 / amx_bf16), where it is slower than "
              "float32: training in float32 (lthsteps.autocast)", file=sys.stderr, flush=True)
    print(f"{args.arch} width {args.width}: {len(train_set)} training images, {len(train_set.classes)} classes, "
          f"iterations {args.start_iter}..{args.iters}", flush=True)
    start = time.perf_counter()
    rewind = train_classifier(model, train_set, iters=args.iters, batch_size=args.batch_size, lr=args.lr,
                              seed=args.seed, masks=masks, start_iter=args.start_iter,
                              rewind_iter=args.rewind_iter, autocast=autocast,
                              log=lambda line: print(line, flush=True))
    seconds = time.perf_counter() - start
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    check_zero_off_mask(state, masks, args.mask)
    report = {"arch": args.arch, "width": args.width, "classes": train_set.classes, "iterations": args.iters,
              "start_iter": args.start_iter, "seed": args.seed, "train_seconds": round(seconds, 2),
              "autocast": autocast, "val_top1": accuracy(model, val_set, autocast=autocast),
              "init": str(args.init) if args.init else None,
              "mask": str(args.mask) if args.mask else None, **sparsity_report(state, masks)}
    if rewind is not None:
        save_state_dict(args.rewind_out, rewind)
    save_weights_verified(args.out, state, masks)
    atomic_write(args.report, lambda tmp: Path(tmp).write_text(json.dumps(report, indent=2)))
    print(json.dumps({k: report[k] for k in ("iterations", "train_seconds", "val_top1")}))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lthsteps.classifier", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, type=Path, help="folder with train/<class>/ and val/<class>/")
    parser.add_argument("--arch", choices=sorted(ARCHS), default="resnet18")
    parser.add_argument("--width", type=int, default=64, help="stem channels (torchvision: 64)")
    parser.add_argument("--image-size", type=int, default=224, help="training crop / val size in pixels")
    parser.add_argument("--iters", type=int, required=True, help="total SGD iterations of the schedule")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.1, help="peak learning rate (cosine schedule)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-images", action="store_true",
                        help="keep decoded training images in memory (small sets: same results, less time)")
    parser.add_argument("--autocast", choices=["bfloat16"],
                        help="forward passes in this dtype where the device runs it natively (else float32)")
    parser.add_argument("--out", required=True, type=Path, help="final weights (torchvision state dict)")
    parser.add_argument("--report", required=True, type=Path, help="JSON: accuracy, time, sparsity")
    parser.add_argument("--init", type=Path, help="initial weights (a round: the rewind weights)")
    parser.add_argument("--start-iter", type=int, default=0, help="begin here (a round: the rewind iteration)")
    parser.add_argument("--mask", type=Path, help="mask file (lthsteps.masks) to train under")
    parser.add_argument("--rewind-iter", type=int, help="save the weights after this many iterations")
    parser.add_argument("--rewind-out", type=Path, help="where the rewind weights go")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
