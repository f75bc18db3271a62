"""AutocastHook (lthsteps.autocast): the named submodules compute in bfloat16, everything else and
every weight, gradient and output handed on stays float32."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from lthsteps.autocast import AutocastHook, autocast_submodules


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.backbone(x).mean((2, 3)))


def _inner_dtypes(net: Net) -> dict[str, torch.dtype]:
    seen = {}
    net.backbone[0].register_forward_hook(lambda m, a, out: seen.__setitem__("conv", out.dtype))
    net.head.register_forward_hook(lambda m, a, out: seen.__setitem__("head", out.dtype))
    return seen


def test_named_submodule_computes_in_bfloat16_and_hands_on_float32():
    torch.manual_seed(0)
    net = Net()
    seen = _inner_dtypes(net)
    assert autocast_submodules(net, ["backbone"]) == ["backbone"]
    out = net(torch.randn(2, 3, 8, 8))
    assert seen == {"conv": torch.bfloat16, "head": torch.float32}  # the head is outside autocast
    assert out.dtype == torch.float32
    assert not torch.is_autocast_enabled("cpu")


def test_weights_and_gradients_stay_float32_and_match_float32_closely():
    torch.manual_seed(0)
    reference, mixed = Net(), Net()
    mixed.load_state_dict(reference.state_dict())
    autocast_submodules(mixed, ["backbone"])
    x = torch.randn(2, 3, 8, 8)
    for net in (reference, mixed):
        net(x).sum().backward()
    for (name, p), q in zip(reference.named_parameters(), mixed.parameters()):
        assert q.dtype == torch.float32 and q.grad.dtype == torch.float32, name
        assert torch.allclose(p.grad, q.grad, rtol=0.05, atol=0.05), name  # bfloat16: ~3 significant digits
    assert not torch.equal(reference.backbone[0].weight.grad, mixed.backbone[0].weight.grad)  # it did act


def test_installing_twice_is_one_installation():
    net = Net()
    autocast_submodules(net, ["backbone"])
    autocast_submodules(net, ["backbone"])
    assert len(net.backbone._forward_pre_hooks) == 1 and len(net.backbone._forward_hooks) == 1


def test_autocast_is_left_when_the_forward_raises():
    net = Net()
    autocast_submodules(net, ["backbone"])
    with pytest.raises(RuntimeError):
        net.backbone(torch.randn(2, 5, 8, 8))  # wrong channel count
    assert not torch.is_autocast_enabled("cpu")


def test_bad_settings_are_refused_naming_the_fix():
    with pytest.raises(ValueError, match="bfloat16"):
        autocast_submodules(Net(), ["backbone"], dtype="float16")
    with pytest.raises(ValueError, match="no submodule 'roi_head.mask_head'.*backbone, head"):
        autocast_submodules(Net(), ["backbone", "roi_head.mask_head"])
    with pytest.raises(ValueError, match="at least one submodule"):
        AutocastHook(modules=[])


class _Runner:
    def __init__(self):
        self.model = Net()
        self.messages = []
        self.logger = self
        self.info = self.warning = self.messages.append


@pytest.mark.parametrize("native, dtype, message", [
    (True, torch.bfloat16, "AutocastHook: bfloat16 forward passes in backbone"),
    (False, torch.float32, "no native bfloat16"),  # emulated bfloat16 is slower than float32
])
def test_hook_installs_in_before_run_only_where_the_cpu_has_bfloat16(monkeypatch, native, dtype, message):
    monkeypatch.setattr("lthsteps.autocast.native_bfloat16", lambda: native)
    runner = _Runner()
    seen = _inner_dtypes(runner.model)
    AutocastHook(modules=["backbone"]).before_run(runner)
    runner.model(torch.randn(1, 3, 8, 8))
    assert seen["conv"] == dtype
    assert len(runner.messages) == 1 and message in runner.messages[0]


def test_a_wrong_name_is_an_error_on_any_cpu(monkeypatch):
    monkeypatch.setattr("lthsteps.autocast.native_bfloat16", lambda: False)  # checked even where nothing installs
    with pytest.raises(ValueError, match="no submodule 'nek'"):
        AutocastHook(modules=["backbone", "nek"]).apply(Net())
    with pytest.raises(ValueError, match="not supported"):
        AutocastHook(modules=["backbone"], dtype="float16")
