"""SparseRoIAlign computes mmcv's RoIAlign: both passes, on boxes inside, across and outside the map."""
import pytest
import torch
from mmcv.ops import RoIAlign

from lthsteps.roi_align import SparseRoIAlign, SparseRoIExtractor, roi_align_matrix

# Against mmcv's CUDA kernel too where a GPU is at hand (the paper configs' RoIAlign).
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def boxes(count: int, images: int, extent: float, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    corner = torch.rand(count, 2, generator=generator) * extent * 1.2 - 0.1 * extent  # some off the map
    size = torch.rand(count, 2, generator=generator) * extent * 0.7
    size[: count // 8] = 0.0  # degenerate boxes: mmcv takes no samples when not aligned-clamped
    image = torch.randint(0, images, (count, 1), generator=generator).float()
    return torch.cat([image, corner, corner + size], 1)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,tolerance", [
    (torch.float64, 1e-10),  # the function itself
    # float32 gradients of 64 overlapping RoIs differ from exact by up to 1e-5 through the order of
    # accumulation alone (mmcv's CUDA kernel adds atomically)
    (torch.float32, 5e-5),
])
@pytest.mark.parametrize("pooled,scale,sampling_ratio,aligned,shape", [
    (8, 1 / 16, 0, True, (3, 5, 14, 14)),    # the C4 Faster R-CNN's: adaptive grid
    (7, 1 / 4, 2, True, (2, 4, 40, 36)),     # FPN box head
    (14, 1 / 8, 0, True, (2, 3, 20, 20)),    # mask head, adaptive
    (5, 1 / 8, 0, False, (2, 3, 11, 9)),     # legacy alignment: boxes at least one cell
    (3, 1.0, 3, False, (1, 2, 6, 7)),
])
def test_forward_and_backward_equal_mmcv(pooled, scale, sampling_ratio, aligned, shape, device, dtype, tolerance):
    images, channels, height, width = shape
    features = torch.randn(*shape, generator=torch.Generator().manual_seed(1), dtype=dtype).to(device)
    rois = boxes(64, images, max(height, width) / scale, seed=2).to(dtype).to(device)
    reference, ours = (RoIAlign(pooled, scale, sampling_ratio, aligned=aligned),
                       SparseRoIAlign(pooled, scale, sampling_ratio, aligned=aligned))
    grads = []
    outputs = []
    for layer in (reference, ours):
        leaf = features.clone().requires_grad_()
        out = layer(leaf, rois)
        out.backward(torch.linspace(-1, 1, out.numel(), device=device, dtype=out.dtype).view_as(out))
        outputs.append(out.detach())
        grads.append(leaf.grad)
    assert outputs[1].shape == (64, channels, pooled, pooled)
    torch.testing.assert_close(outputs[1], outputs[0], rtol=tolerance, atol=tolerance)
    torch.testing.assert_close(grads[1], grads[0], rtol=tolerance, atol=tolerance)
    assert outputs[0].abs().sum() > 0 and grads[0].abs().sum() > 0  # the case is not trivially zero


def test_a_box_on_one_cell_averages_its_samples_exactly():
    # 2x2 map, one bin over the whole map, 2x2 samples at (0.5, 1.5) after the half-pixel offset:
    # positions 0.0 and 1.0 -> cells 0 and 1 exactly, so the bin is the mean of the four cells.
    features = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    rois = torch.tensor([[0.0, 0.0, 0.0, 2.0, 2.0]])
    assert SparseRoIAlign(1, 1.0, 2, aligned=True)(features, rois).item() == pytest.approx(2.5)
    matrix = roi_align_matrix(rois, 1, 1.0, 2, True, (1, 2, 2)).to_dense()
    assert matrix.sum().item() == pytest.approx(1.0)  # an average: weights sum to one inside the map


def test_no_boxes_gives_no_features():
    features = torch.randn(1, 2, 4, 4, requires_grad=True)
    out = SparseRoIAlign(3, 1.0)(features, torch.zeros(0, 5))
    assert out.shape == (0, 2, 3, 3)


@pytest.mark.parametrize("arguments,problem", [
    (dict(output_size=7, pool_mode="max"), "pool_mode"),
    (dict(output_size=(7, 5)), "not square"),
    (dict(output_size=7, use_torchvision=True), "use_torchvision"),
])
def test_what_it_does_not_compute_is_an_error(arguments, problem):
    with pytest.raises(ValueError, match=problem):
        SparseRoIAlign(**arguments)


def test_the_extractor_builds_sparse_or_mmcv_layers():
    sparse = SparseRoIExtractor(roi_layer=dict(type="SparseRoIAlign", output_size=7, sampling_ratio=0),
                                out_channels=4, featmap_strides=[4, 8])
    assert [type(layer) for layer in sparse.roi_layers] == [SparseRoIAlign, SparseRoIAlign]
    assert sparse.roi_layers[1].spatial_scale == 1 / 8
    stock = SparseRoIExtractor(roi_layer=dict(type="RoIAlign", output_size=7), out_channels=4, featmap_strides=[4])
    assert type(stock.roi_layers[0]) is RoIAlign
