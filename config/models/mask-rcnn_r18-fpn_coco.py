# Mask R-CNN, ResNet-18 FPN, COCO 2017: the paper's ResNet-18 Mask R-CNN (Fig 1 top, Table 1).
# Only the backbone differs from the ResNet-50 model: BasicBlocks give 64..512 channels to the FPN.
_base_ = './mask-rcnn_r50-fpn_coco.py'

model = dict(
    backbone=dict(depth=18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
