# Mask R-CNN, ResNet-50 FPN, COCO 2017 (detection + instance segmentation), the paper's §4.2-4.4 model
# (Fig 1, 3, Tables 2, 4). MMDetection's model as it is; ImageNet-pretrained backbone; 1x schedule.
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    './_base_/coco-instance_1x-iter.py',
]
