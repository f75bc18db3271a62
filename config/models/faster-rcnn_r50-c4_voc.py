# Faster R-CNN, ResNet-50, C4 style, on Pascal VOC 2007 — the VOC columns of the paper's Tables 2
# and 4 (ImageNet ticket and mask transfer, ResNet-50). The ResNet-18 model with a ResNet-50
# backbone (stem..layer3, 1024 channels at C4) and layer4 (2048 channels) as the shared RoI head; the
# RPN's 3x3 conv has 512 channels, as in the official release's faster-rcnn.pytorch ResNet-50. With
# these, 90 / 80 / 50% of the backbone's convs (1x1 shortcuts dense) are 65.41 / 58.14 / 36.34% of
# the network (paper: 65.37 / 58.11 / 36.32%; docs/studies/paper-fidelity.md).
_base_ = './faster-rcnn_r18-c4_voc.py'

pretrained = 'torchvision://resnet50'
model = dict(
    backbone=dict(depth=50, init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    rpn_head=dict(in_channels=1024, feat_channels=512),
    roi_head=dict(
        shared_head=dict(depth=50, init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
        bbox_roi_extractor=dict(out_channels=1024),
        bbox_head=dict(in_channels=2048)))
