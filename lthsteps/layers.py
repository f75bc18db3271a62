"""Model parts registered into MMDetection's registry."""
from __future__ import annotations

from mmdet.models.backbones import ResNet
from mmdet.models.layers import ResLayer as ResStage
from mmdet.models.roi_heads.shared_heads import ResLayer
from mmdet.registry import MODELS
from mmengine.model import BaseModule


@MODELS.register_module()
class WidthResLayer(ResLayer):
    """MMDetection's C4 shared head (one ResNet stage run on RoI features) with a settable width.

    mmdet's ``ResLayer`` fixes the width of a standard ResNet (64 * 2**stage); after a backbone
    built with ``base_channels=b`` the stage must be ``b * 2**stage`` wide. Parameter names,
    forward and train() are ResLayer's, so masks and checkpoints are interchangeable with it.
    """

    def __init__(self, depth: int, stage: int = 3, base_channels: int = 64, stride: int = 2, dilation: int = 1,
                 style: str = "pytorch", norm_cfg: dict | None = None, norm_eval: bool = True,
                 with_cp: bool = False, init_cfg=None) -> None:
        BaseModule.__init__(self, init_cfg or [
            dict(type="Kaiming", layer="Conv2d"),
            dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm"]),
        ])
        self.norm_cfg = norm_cfg or dict(type="BN", requires_grad=True)
        self.norm_eval = norm_eval
        self.stage = stage
        block, stage_blocks = ResNet.arch_settings[depth]
        stage_layer = ResStage(
            block,
            base_channels * 2 ** (stage - 1) * block.expansion,
            base_channels * 2**stage,
            stage_blocks[stage],
            stride=stride, dilation=dilation, style=style, with_cp=with_cp, norm_cfg=self.norm_cfg)
        self.add_module(f"layer{stage + 1}", stage_layer)
