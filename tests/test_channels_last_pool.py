"""Channels-last max pooling computes exactly nn.MaxPool2d's result (lthsteps.channels_last_pool)."""
import pytest
import torch
from torch import nn

from lthsteps.channels_last_pool import ChannelsLastMaxPool2d, ChannelsLastPoolHook, channels_last_pools


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_values_and_gradients_are_exactly_nn_maxpool2d_s_with_ties(dtype):
    torch.manual_seed(0)
    x = torch.randint(0, 3, (2, 5, 17, 16)).to(dtype)  # three values: most windows hold ties
    grad = torch.randn(2, 5, 9, 8).to(dtype)
    outputs = []
    for pool in (nn.MaxPool2d(3, 2, 1), ChannelsLastMaxPool2d(3, 2, 1)):
        leaf = x.clone().requires_grad_()
        out = pool(leaf)
        out.backward(grad)
        outputs.append((out, leaf.grad))
    (dense_out, dense_grad), (fast_out, fast_grad) = outputs
    assert torch.equal(dense_out, fast_out) and torch.equal(dense_grad, fast_grad)
    assert fast_out.is_contiguous()  # the next layer gets the default layout, as before


def test_with_indices_it_is_nn_maxpool2d_itself():
    x = torch.randn(1, 2, 6, 6)
    expected, got = nn.MaxPool2d(2, return_indices=True)(x), ChannelsLastMaxPool2d(2, return_indices=True)(x)
    assert all(torch.equal(a, b) for a, b in zip(expected, got))


def test_the_hook_replaces_named_pools_keeping_their_settings_and_the_state_dict():
    model = nn.Sequential()
    model.add_module("stem", nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)))
    before = dict(model.state_dict())
    assert ChannelsLastPoolHook(modules=["stem.1"]).apply(model) == ["stem.1"]
    pool = model.stem[1]
    assert type(pool) is ChannelsLastMaxPool2d
    assert (pool.kernel_size, pool.stride, pool.padding, pool.ceil_mode) == (3, 2, 1, True)
    assert model.state_dict().keys() == before.keys()
    assert channels_last_pools(model, ["stem.1"]) == ["stem.1"]  # a second time: nothing to do
    assert model.stem[1] is pool


@pytest.mark.parametrize("name", ["stem.0", "stem.7", "trunk.1"])
def test_a_name_that_is_no_max_pooling_is_an_error_naming_the_fix(name):
    model = nn.Sequential()
    model.add_module("stem", nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2)))
    with pytest.raises(ValueError, match="fix `modules` of the ChannelsLastPoolHook"):
        channels_last_pools(model, [name])
    with pytest.raises(ValueError, match="name at least one"):
        ChannelsLastPoolHook(modules=[])
