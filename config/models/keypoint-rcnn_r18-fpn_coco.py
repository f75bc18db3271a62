# Keypoint R-CNN, ResNet-18 FPN, COCO 2017 person keypoints: the paper's ResNet-18 keypoint model
# (Fig 1 top, Table 1). Only the backbone differs from the ResNet-50 model.
_base_ = './keypoint-rcnn_r50-fpn_coco.py'

model = dict(
    backbone=dict(depth=18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
