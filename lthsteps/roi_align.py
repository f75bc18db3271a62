"""RoIAlign as one sparse matrix product: mmcv's ``RoIAlign`` (average pooling) computed faster on CPU.

RoIAlign is linear in the feature map: each output bin is a weighted sum of the feature cells its
bilinear samples touch. ``SparseRoIAlign`` builds that weight matrix once per call (rows: RoI x bin,
columns: image x cell, ``4 x samples`` entries per row) and multiplies it with the features, all
channels at once; the backward pass is the transposed product. mmcv's CPU kernel (and torchvision's)
loops over every RoI, channel, bin and sample in scalar code: on the embedded detectors its backward
pass was the largest single operator of an iteration (Faster R-CNN C4: 30 ms of 150). Measured on
their shapes, forward plus backward: 31 -> 11 ms (192 RoIs, 8x8 bins, 14x14 map) and 72 -> 22 ms (128
RoIs, 14x14 bins, 40x40 map); docs/studies/default-cost.md. No library offers this (mmcv and
torchvision ship the scalar kernels only).

It is the same function as mmcv's ``RoIAlign(pool_mode='avg')`` -- sample positions, adaptive
sampling grid (``sampling_ratio=0``), ``aligned`` half-pixel offset, zero outside ``[-1, size]`` and
clamping at the border -- up to float rounding (tests/test_roi_align.py compares both passes).
Like mmcv's, it gives no gradient to the boxes.

The embedded model configs select it through ``SparseRoIExtractor``, MMDetection's
``SingleRoIExtractor`` whose ``roi_layer`` may also be ``type='SparseRoIAlign'`` (MMDetection looks
RoI layers up in ``mmcv.ops`` only). The paper-scale configs keep mmcv's CUDA kernel.
"""
from __future__ import annotations

import warnings

import torch
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.registry import MODELS
from torch import nn


def _axis_samples(start, bin_size, grid, max_grid: int, size: int, pooled: int):
    """Per RoI, bin and sample along one axis: the two neighbouring cells and their bilinear weights
    (zero for samples beyond the RoI's own grid or outside ``[-1, size]``), as mmcv computes them."""
    offsets = torch.arange(max_grid, dtype=start.dtype, device=start.device) + 0.5
    bins = torch.arange(pooled, dtype=start.dtype, device=start.device)
    step = (bin_size / grid.clamp(min=1))[:, None, None]
    position = start[:, None, None] + bins[None, :, None] * bin_size[:, None, None] + offsets * step
    valid = (offsets < grid[:, None, None]) & (position >= -1.0) & (position <= size)
    position = position.clamp(min=0)
    low = position.floor().clamp(max=size - 1)
    position = torch.where(low >= size - 1, low, position)  # at the last cell: that cell alone
    high = torch.where(low >= size - 1, low, low + 1)
    frac = position - low
    cells = torch.stack([low, high], 2).long()                    # (R, pooled, 2, max_grid)
    weights = torch.stack([(1 - frac) * valid, frac * valid], 2)
    return cells, weights


def roi_align_matrix(rois: torch.Tensor, pooled: int, spatial_scale: float, sampling_ratio: int, aligned: bool,
                     feature_shape: tuple[int, int, int], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The RoIAlign weight matrix, sparse CSR: ``(rois x pooled x pooled, images x height x width)``.

    ``rois`` is ``(R, 5)``: image index, x1, y1, x2, y2 in input-image pixels; positions and weights
    are computed in ``dtype``."""
    images, height, width = feature_shape
    count = rois.shape[0]
    rois = rois.to(dtype)
    offset = 0.5 if aligned else 0.0
    x1 = rois[:, 1] * spatial_scale - offset
    y1 = rois[:, 2] * spatial_scale - offset
    roi_width = rois[:, 3] * spatial_scale - offset - x1
    roi_height = rois[:, 4] * spatial_scale - offset - y1
    if not aligned:  # mmcv's legacy behaviour: at least one cell wide
        roi_width, roi_height = roi_width.clamp(min=1.0), roi_height.clamp(min=1.0)
    bin_width, bin_height = roi_width / pooled, roi_height / pooled
    if sampling_ratio > 0:
        grid_x = grid_y = torch.full_like(x1, float(sampling_ratio))
    else:  # adaptive: ceil(bin size) samples per bin and axis, as mmcv
        grid_x, grid_y = torch.ceil(bin_width), torch.ceil(bin_height)
    max_x, max_y = max(int(grid_x.max()), 1) if count else 1, max(int(grid_y.max()), 1) if count else 1
    y_cells, y_weights = _axis_samples(y1, bin_height, grid_y, max_y, height, pooled)
    x_cells, x_weights = _axis_samples(x1, bin_width, grid_x, max_x, width, pooled)
    # (R, bin_y, bin_x, corner_y, sample_y, corner_x, sample_x)
    image = rois[:, 0].long().view(count, 1, 1, 1, 1, 1, 1)
    columns = (image * (height * width) + y_cells.view(count, pooled, 1, 2, max_y, 1, 1) * width
               + x_cells.view(count, 1, pooled, 1, 1, 2, max_x))
    samples = (grid_x * grid_y).clamp(min=1).view(count, 1, 1, 1, 1, 1, 1)
    values = y_weights.view(count, pooled, 1, 2, max_y, 1, 1) * x_weights.view(count, 1, pooled, 1, 1, 2, max_x) / samples
    per_row = 4 * max_x * max_y
    rows = count * pooled * pooled
    crow = torch.arange(0, rows * per_row + 1, per_row, device=rois.device)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, columns.reshape(-1), values.reshape(-1),
                                       (rows, images * height * width), check_invariants=False)


class _SparseRoIAlignFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, features, rois, pooled, spatial_scale, sampling_ratio, aligned):
        images, channels, height, width = features.shape
        compute = torch.float64 if features.dtype == torch.float64 else torch.float32  # half, bfloat16: float32
        matrix = roi_align_matrix(rois, pooled, spatial_scale, sampling_ratio, aligned, (images, height, width),
                                  compute)
        ctx.matrix, ctx.feature_shape, ctx.dtype = matrix, features.shape, features.dtype
        cells = features.to(compute).permute(0, 2, 3, 1).reshape(images * height * width, channels)
        out = matrix @ cells
        return out.view(rois.shape[0], pooled, pooled, channels).permute(0, 3, 1, 2).to(features.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        images, channels, height, width = ctx.feature_shape
        grad = grad_output.to(ctx.matrix.dtype).permute(0, 2, 3, 1).reshape(-1, channels)
        # the transposed product through COO: sorting it once is faster than a CSC product on CPU
        grad_cells = torch.sparse.mm(ctx.matrix.to_sparse_coo().t(), grad)
        grad_features = grad_cells.view(images, height, width, channels).permute(0, 3, 1, 2).to(ctx.dtype)
        return grad_features, None, None, None, None, None


class SparseRoIAlign(nn.Module):
    """Drop-in for ``mmcv.ops.RoIAlign`` with ``pool_mode='avg'`` (its arguments and call)."""

    def __init__(self, output_size, spatial_scale: float = 1.0, sampling_ratio: int = 0, pool_mode: str = "avg",
                 aligned: bool = True, use_torchvision: bool = False):
        super().__init__()
        size = output_size if isinstance(output_size, int) else tuple(output_size)
        if not isinstance(size, int):
            if size[0] != size[1]:
                raise ValueError(f"SparseRoIAlign: output_size {size} is not square; use mmcv's RoIAlign")
            size = size[0]
        if pool_mode != "avg":
            raise ValueError(f"SparseRoIAlign: pool_mode {pool_mode!r} is not supported (only 'avg'); "
                             "use mmcv's RoIAlign for max pooling")
        if use_torchvision:
            raise ValueError("SparseRoIAlign: use_torchvision=True asks for torchvision's kernel; use mmcv's RoIAlign")
        self.output_size = (size, size)  # a pair, as mmcv's: MMDetection's extractors unpack it
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio, self.aligned = int(sampling_ratio), bool(aligned)

    def forward(self, features: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        return _SparseRoIAlignFunction.apply(features, rois, self.output_size[0], self.spatial_scale,
                                             self.sampling_ratio, self.aligned)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
                f"sampling_ratio={self.sampling_ratio}, aligned={self.aligned})")


@MODELS.register_module()
class SparseRoIExtractor(SingleRoIExtractor):
    """MMDetection's ``SingleRoIExtractor`` that also accepts ``roi_layer=dict(type='SparseRoIAlign')``."""

    def build_roi_layers(self, layer_cfg, featmap_strides):
        layer_cfg = dict(layer_cfg)
        if layer_cfg.get("type") == "SparseRoIAlign":
            layer_cfg["type"] = SparseRoIAlign
        return super().build_roi_layers(layer_cfg, featmap_strides)
