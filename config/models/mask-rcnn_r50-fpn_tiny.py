# ResNet-50 analog of mask-rcnn_r18-fpn_tiny.py (the embedded side of the paper's Fig 3): the same
# model with Bottleneck blocks at 1/4 width (stages give 64, 128, 256, 512 channels to the FPN).
_base_ = './mask-rcnn_r18-fpn_tiny.py'

model = dict(backbone=dict(depth=50), neck=dict(in_channels=[64, 128, 256, 512]))
