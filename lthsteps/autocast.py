"""bfloat16 forward passes of chosen submodules on CPU (mixed precision without a GPU).

MMEngine's ``AmpOptimWrapper`` refuses to run without a GPU, and autocasting a whole detector on CPU
fails inside mmcv's CPU ops (RoIAlign and NMS accept float32 only). ``AutocastHook`` therefore runs
the named submodules -- convolution-heavy ones such as the backbone, neck and mask head -- under
``torch.autocast("cpu", dtype=torch.bfloat16)`` and hands float32 back to everything else (target
assignment, RoIAlign, NMS, losses). Weights, gradients and optimizer state stay float32, so masks,
rewind points and the exact zeros of pruned weights are unaffected; only the arithmetic of the
forward and backward passes of those submodules is bfloat16. The cost and the mAP it was measured at:
docs/studies/default-cost.md.

bfloat16 pays only where the CPU executes it natively (AVX512-BF16 or AMX): measured on a Faster R-CNN
iteration, oneDNN's emulation made it 1.7x slower than float32 on AVX-512 without BF16 and 14x slower
on AVX2. So on a CPU without native bfloat16 (``native_bfloat16``) the hook warns and leaves the model
float32; results then differ from a bfloat16 machine's by about what a seed moves them.

A model config turns it on with
``custom_hooks = [dict(type='AutocastHook', modules=['backbone', 'roi_head.shared_head'])]``;
it acts in training, validation and testing alike (it installs itself in ``before_run``).
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

_DTYPES = {"bfloat16": torch.bfloat16}
_INSTALLED = "_lthsteps_autocast"


def _to_float32(value):
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, (list, tuple)):
        return type(value)(_to_float32(item) for item in value)
    return value


def native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 instructions (Linux ``/proc/cpuinfo`` flags avx512_bf16 / amx_bf16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def autocast_pays(device_type: str) -> bool:
    """Whether bfloat16 autocast is faster than float32 on ``device_type`` here (see the module docstring)."""
    return device_type != "cpu" or native_bfloat16()


def forward_autocast(device_type: str, dtype: str | None) -> contextlib.AbstractContextManager:
    """``torch.autocast`` to ``dtype`` for a whole forward pass; None: float32. Whether it pays is
    the caller's decision, made once (``autocast_pays``)."""
    if dtype is None:
        return contextlib.nullcontext()
    _check_dtype(dtype)
    return torch.autocast(device_type, dtype=_DTYPES[dtype])


def _check_dtype(dtype: str) -> None:
    if dtype not in _DTYPES:
        raise ValueError(f"AutocastHook: dtype {dtype!r} is not supported; use one of {sorted(_DTYPES)}")


def _submodules(model: torch.nn.Module, names: list[str]) -> dict[str, torch.nn.Module]:
    """{name: submodule} for dotted names (e.g. ``roi_head.shared_head``); a name the model lacks is an error."""
    found = {}
    for name in names:
        module = model
        for part in name.split("."):
            module = getattr(module, part, None)
        if not isinstance(module, torch.nn.Module):
            children = ", ".join(child for child, _ in model.named_children())
            raise ValueError(f"AutocastHook: the model has no submodule {name!r} (its top-level ones: {children}); "
                             "fix `modules` of the AutocastHook in the model config's custom_hooks")
        found[name] = module
    return found


def autocast_submodules(model: torch.nn.Module, names: list[str], dtype: str = "bfloat16",
                        device_type: str = "cpu") -> list[str]:
    """Run each named submodule of ``model`` under ``device_type``'s autocast to ``dtype``, its floating
    outputs turned back to float32; returns the names. A name the model does not have is an error.
    Installing twice is a no-op."""
    _check_dtype(dtype)
    modules = _submodules(model, names)
    for module in modules.values():
        if getattr(module, _INSTALLED, False):
            continue
        contexts: list = []

        def enter(_module, _args, contexts=contexts):
            context = torch.autocast(device_type, dtype=_DTYPES[dtype])
            context.__enter__()
            contexts.append(context)

        def leave(_module, _args, output, contexts=contexts):
            contexts.pop().__exit__(None, None, None)
            return _to_float32(output)

        module.register_forward_pre_hook(enter)
        module.register_forward_hook(leave, always_call=True)  # leaves autocast even if forward raises
        setattr(module, _INSTALLED, True)
    return list(modules)


@HOOKS.register_module()
class AutocastHook(Hook):
    """Mixed-precision forward passes of ``modules`` on CPU; see the module docstring."""

    priority = "VERY_HIGH"

    def __init__(self, modules: list[str], dtype: str = "bfloat16") -> None:
        if not modules:
            raise ValueError("AutocastHook: name at least one submodule in `modules`, e.g. ['backbone']")
        _check_dtype(dtype)
        self.modules = list(modules)
        self.dtype = dtype

    def apply(self, model: torch.nn.Module) -> list[str]:
        """Install on ``model`` where it pays (see the module docstring); the names installed, [] where
        the CPU lacks native bfloat16. The names are checked against the model either way."""
        _submodules(model, self.modules)
        device_type = next(model.parameters()).device.type
        if not autocast_pays(device_type):
            return []
        return autocast_submodules(model, self.modules, self.dtype, device_type)

    def before_run(self, runner) -> None:
        installed = self.apply(getattr(runner.model, "module", runner.model))
        if installed:
            runner.logger.info(f"AutocastHook: {self.dtype} forward passes in {', '.join(installed)}")
        else:
            runner.logger.warning("AutocastHook: this CPU has no native bfloat16 (avx512_bf16 / amx_bf16), where it "
                                  "is slower than float32: the model stays float32 (lthsteps.autocast)")
