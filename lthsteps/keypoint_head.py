"""Keypoint R-CNN's keypoint branch for MMDetection 3 (Mask R-CNN paper §5, Detectron2's
``KRCNNConvDeconvUpsampleHead``): ``KeypointRCNNHead`` and ``KeypointRoIHead``, a
``StandardRoIHead`` with the keypoint branch next to its box (and optional mask) branch.

Each keypoint of a RoI is one heatmap of ``heatmap_size`` x ``heatmap_size`` cells (56 for 14 x 14
RoI features); its target is the single cell the ground-truth keypoint falls in, and the loss is a
softmax cross-entropy over the cells. Predictions are ``pred_instances.keypoints`` (N x K x 2,
x and y in the same image coordinates as ``pred_instances.bboxes``) and
``pred_instances.keypoint_scores`` (N x K).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi, get_box_tensor
from mmengine.model import BaseModule
from torch import Tensor, nn


def keypoints_to_heatmap(keypoints: Tensor, boxes: Tensor, heatmap_size: int) -> tuple[Tensor, Tensor]:
    """Target cell (``y * heatmap_size + x``, long, N x K) of each keypoint in the heatmap of its
    box (N x 4), and whether it has one (N x K bool): labelled (v > 0) and inside the box.
    Detectron2's ``keypoints_to_heatmap``: a keypoint on the right/bottom edge goes to the last cell."""
    x1, y1, x2, y2 = (boxes[:, i, None] for i in range(4))
    x, y = keypoints[..., 0], keypoints[..., 1]
    cell_x = ((x - x1) * heatmap_size / (x2 - x1)).floor().long()
    cell_y = ((y - y1) * heatmap_size / (y2 - y1)).floor().long()
    cell_x[x == x2] = heatmap_size - 1
    cell_y[y == y2] = heatmap_size - 1
    inside = (cell_x >= 0) & (cell_y >= 0) & (cell_x < heatmap_size) & (cell_y < heatmap_size)
    valid = inside & (keypoints[..., 2] > 0)
    return (cell_y * heatmap_size + cell_x) * valid, valid


def heatmaps_to_keypoints(heatmaps: Tensor, boxes: Tensor) -> tuple[Tensor, Tensor]:
    """Keypoints (N x K x 2) and scores (N x K) of heatmap logits (N x K x H x W) of boxes (N x 4).

    Detectron2's ``heatmaps_to_keypoints``: each RoI's heatmaps are resized (bicubic) to the box
    size in pixels and the argmax pixel's centre is mapped to image coordinates. The score is the
    softmax at that pixel, normalised over the H x W heatmap rather than the resized one so that
    scores of large and small boxes compare.
    """
    num_rois, num_keypoints = heatmaps.shape[:2]
    keypoints = heatmaps.new_zeros(num_rois, num_keypoints, 2)
    scores = heatmaps.new_zeros(num_rois, num_keypoints)
    widths = (boxes[:, 2] - boxes[:, 0]).clamp(min=1)
    heights = (boxes[:, 3] - boxes[:, 1]).clamp(min=1)
    for i in range(num_rois):
        out_h, out_w = int(heights[i].ceil()), int(widths[i].ceil())
        roi_map = F.interpolate(heatmaps[i:i + 1], size=(out_h, out_w), mode="bicubic", align_corners=False)[0]
        best, pos = roi_map.flatten(1).max(1)
        scores[i] = 1 / (heatmaps[i] - best[:, None, None]).exp().sum((1, 2))
        keypoints[i, :, 0] = boxes[i, 0] + ((pos % out_w).float() + 0.5) * widths[i] / out_w
        keypoints[i, :, 1] = boxes[i, 1] + ((pos // out_w).float() + 0.5) * heights[i] / out_h
    return keypoints, scores


def keypoints_inside_boxes(keypoints: Tensor, boxes: Tensor) -> Tensor:
    """Whether each box (N x 4) holds at least one labelled keypoint of its instance (N x K x 3)."""
    x, y = keypoints[..., 0], keypoints[..., 1]
    inside = (x >= boxes[:, 0, None]) & (x <= boxes[:, 2, None]) & (y >= boxes[:, 1, None]) & (y <= boxes[:, 3, None])
    return (inside & (keypoints[..., 2] > 0)).any(1)


@MODELS.register_module()
class KeypointRCNNHead(BaseModule):
    """``num_convs`` 3x3 conv + ReLU layers, a stride-2 transposed conv to one heatmap per
    keypoint and a 2x bilinear upsampling: RoI features of ``roi_feat_size`` give heatmaps of
    ``4 * roi_feat_size`` (14 -> 56). The paper's head: 8 convs of 512 channels."""

    def __init__(self, num_keypoints: int = 17, in_channels: int = 256, num_convs: int = 8,
                 conv_out_channels: int = 512, roi_feat_size: int = 14, up_scale: int = 2,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None, loss_weight: float = 1.0,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_keypoints = num_keypoints
        self.up_scale = up_scale
        self.heatmap_size = roi_feat_size * 2 * up_scale
        self.loss_weight = loss_weight
        # ConvModule initialises as Detectron2 does: Kaiming normal (fan_out, ReLU), zero bias.
        self.convs = nn.ModuleList(
            ConvModule(in_channels if i == 0 else conv_out_channels, conv_out_channels, 3, padding=1,
                       conv_cfg=conv_cfg, norm_cfg=norm_cfg)
            for i in range(num_convs))
        last = conv_out_channels if num_convs else in_channels
        self.deconv = nn.ConvTranspose2d(last, num_keypoints, 4, stride=2, padding=1)
        nn.init.kaiming_normal_(self.deconv.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(self.deconv.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Heatmap logits (N x K x heatmap_size x heatmap_size) of RoI features (N x C x S x S)."""
        for conv in self.convs:
            x = conv(x)
        return F.interpolate(self.deconv(x), scale_factor=self.up_scale, mode="bilinear", align_corners=False)

    def loss_and_target(self, heatmaps: Tensor, boxes: Tensor, gt_keypoints: Tensor) -> dict:
        """``loss_kpt``: cross-entropy over the cells of each heatmap, averaged over the keypoints
        that have a target (Detectron2's ``keypoint_rcnn_loss``, normalised by visible keypoints)."""
        num_rois, num_keypoints, height, width = heatmaps.shape
        targets, valid = keypoints_to_heatmap(gt_keypoints, boxes, height)
        valid = valid.flatten()
        if not valid.any():  # keep the head in the graph: every parameter gets a (zero) gradient
            return dict(loss_kpt=heatmaps.sum() * 0)
        logits = heatmaps.reshape(num_rois * num_keypoints, height * width)[valid]
        loss = F.cross_entropy(logits, targets.flatten()[valid], reduction="sum") / valid.sum()
        return dict(loss_kpt=self.loss_weight * loss)

    def predict_by_feat(self, heatmaps: Tensor, boxes: Tensor) -> tuple[Tensor, Tensor]:
        """Keypoints (N x K x 2) in the boxes' coordinates and their scores (N x K)."""
        return heatmaps_to_keypoints(heatmaps, boxes)


@MODELS.register_module()
class KeypointRoIHead(StandardRoIHead):
    """``StandardRoIHead`` plus a keypoint branch (``keypoint_roi_extractor`` + ``keypoint_head``),
    built and run like the mask branch: trained on the positive RoIs whose ground truth has a
    labelled keypoint inside the RoI, applied at test time to the final detections."""

    def __init__(self, keypoint_roi_extractor: dict | None = None, keypoint_head: dict | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if keypoint_head is not None:
            self.keypoint_roi_extractor = (self.bbox_roi_extractor if keypoint_roi_extractor is None
                                           else MODELS.build(keypoint_roi_extractor))
            self.keypoint_head = MODELS.build(keypoint_head)

    @property
    def with_keypoint(self) -> bool:
        return getattr(self, "keypoint_head", None) is not None

    def _keypoint_forward(self, x: tuple[Tensor], rois: Tensor) -> Tensor:
        feats = self.keypoint_roi_extractor(x[:self.keypoint_roi_extractor.num_inputs], rois)
        if self.with_shared_head:
            feats = self.shared_head(feats)
        return self.keypoint_head(feats)

    def forward(self, x: tuple[Tensor], rpn_results_list, batch_data_samples=None) -> tuple:
        results = super().forward(x, rpn_results_list, batch_data_samples)
        if self.with_keypoint:
            rois = bbox2roi([res.bboxes for res in rpn_results_list])[:100]
            results = results + (self._keypoint_forward(x, rois),)
        return results

    def loss(self, x: tuple[Tensor], rpn_results_list, batch_data_samples) -> dict:
        # StandardRoIHead.loss keeps its sampling results to itself; the keypoint loss needs them,
        # so this is its assign/sample loop followed by the box, mask and keypoint losses.
        batch_gt_instances, batch_gt_instances_ignore, _ = unpack_gt_instances(batch_data_samples)
        sampling_results = []
        for i, rpn_results in enumerate(rpn_results_list):
            rpn_results.priors = rpn_results.pop("bboxes")
            assign_result = self.bbox_assigner.assign(rpn_results, batch_gt_instances[i], batch_gt_instances_ignore[i])
            sampling_results.append(self.bbox_sampler.sample(
                assign_result, rpn_results, batch_gt_instances[i], feats=[lvl_feat[i][None] for lvl_feat in x]))
        losses = {}
        bbox_results = self.bbox_loss(x, sampling_results)
        losses.update(bbox_results["loss_bbox"])
        if self.with_mask:
            losses.update(self.mask_loss(x, sampling_results, bbox_results["bbox_feats"],
                                         batch_gt_instances)["loss_mask"])
        if self.with_keypoint:
            losses.update(self.keypoint_loss(x, sampling_results, batch_gt_instances))
        return losses

    def keypoint_loss(self, x: tuple[Tensor], sampling_results, batch_gt_instances) -> dict:
        """``loss_kpt`` of the positive RoIs with a labelled keypoint of their ground truth inside."""
        boxes, gt_keypoints = [], []
        for res, gt in zip(sampling_results, batch_gt_instances):
            if "keypoints" not in gt:
                raise KeyError("the keypoint head needs gt_instances.keypoints: load them with "
                               "LoadKeypointAnnotations and pack them with PackKeypointDetInputs")
            priors = get_box_tensor(res.pos_priors)
            keypoints = gt.keypoints[res.pos_assigned_gt_inds]
            keep = keypoints_inside_boxes(keypoints, priors)
            boxes.append(priors[keep])
            gt_keypoints.append(keypoints[keep])
        heatmaps = self._keypoint_forward(x, bbox2roi(boxes))
        return self.keypoint_head.loss_and_target(heatmaps, torch.cat(boxes), torch.cat(gt_keypoints))

    def predict(self, x: tuple[Tensor], rpn_results_list, batch_data_samples, rescale: bool = False):
        results_list = super().predict(x, rpn_results_list, batch_data_samples, rescale=rescale)
        if self.with_keypoint:
            batch_img_metas = [sample.metainfo for sample in batch_data_samples]
            results_list = self.predict_keypoints(x, batch_img_metas, results_list, rescale=rescale)
        return results_list

    def predict_keypoints(self, x: tuple[Tensor], batch_img_metas: list[dict], results_list, rescale: bool = False):
        """Add ``keypoints`` (N x K x 2) and ``keypoint_scores`` (N x K) to each image's results,
        in the coordinates of its ``bboxes`` (the original image's when ``rescale``)."""
        boxes = [get_box_tensor(res.bboxes) for res in results_list]
        # Heatmaps are decoded on the boxes the network saw, then mapped back as the boxes were.
        scales = [boxes[0].new_tensor(meta["scale_factor"] if rescale else (1.0, 1.0)) for meta in batch_img_metas]
        input_boxes = [b * s.repeat(2) for b, s in zip(boxes, scales)]
        heatmaps = self._keypoint_forward(x, bbox2roi(input_boxes)).split([len(b) for b in boxes])
        for res, maps, b, scale in zip(results_list, heatmaps, input_boxes, scales):
            keypoints, scores = self.keypoint_head.predict_by_feat(maps, b)
            res.keypoints = keypoints / scale
            res.keypoint_scores = scores
        return results_list
