# Faster R-CNN, ResNet-18, C4 style, on Pascal VOC 2007 — the paper's model for §4.3 (Fig 2, Table 3).
# base = backbone stem..layer3; top = layer4, used as the shared RoI head (roi_head.shared_head);
# RPN on C4 features; box + cls FC head. A plain MMDetection config: the workflow only binds the
# dataset (paths, classes -> num_classes), seed, work_dir and the lottery-ticket hooks.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50-caffe-c4.py',
    'mmdet::_base_/default_runtime.py',
]

# ImageNet ResNet-18 (torchvision layout: conv1, bn1, layer1..4 — mmdet's ResNet uses the same names).
pretrained = 'torchvision://resnet18'
norm_cfg = dict(type='BN', requires_grad=False)
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(depth=18, style='pytorch', norm_cfg=norm_cfg,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    # RPN as in the official release's ResNet-18 Faster R-CNN (faster-rcnn.pytorch): a 512-channel 3x3
    # conv on the 256-channel C4 map, 9 anchors (scales 8, 16, 32 x ratios 0.5, 1, 2 at stride 16) and
    # a softmax objectness (2 outputs per anchor). Table 3's module sizes come out exactly with these
    # (docs/studies/paper-fidelity.md).
    rpn_head=dict(in_channels=256, feat_channels=512,
                  anchor_generator=dict(scales=[8, 16, 32], ratios=[0.5, 1.0, 2.0]),
                  loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    roi_head=dict(
        shared_head=dict(depth=18, style='pytorch', norm_cfg=norm_cfg,
                         init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
        bbox_roi_extractor=dict(out_channels=256),
        bbox_head=dict(in_channels=512, num_classes=20)))

# Data: COCO-format annotations (the workflow converts VOC XML once); paths and classes are bound
# by the workflow from the dataset descriptor.
dataset_type = 'CocoDataset'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1000, 600), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1000, 600), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=12, num_workers=4, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(type=dataset_type, data_root='', ann_file='train.json', data_prefix=dict(img=''),
                 filter_cfg=dict(filter_empty_gt=True, min_size=8), pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root='', ann_file='val.json', data_prefix=dict(img=''),
                 test_mode=True, pipeline=test_pipeline))

# Schedule of the official release (prune_voc, faster-rcnn.pytorch; docs/studies/paper-fidelity.md):
# total batch 12, 12 epochs of the flip-doubled trainval set (835 iterations each: 10,020), LR 0.01
# decayed 10x once after epoch 10 (iteration 8,350: the paper's "sharp drop after 8k" of Fig 2b),
# 600 warm-up iterations. batch_size is per GPU: with N GPUs (resources.train.gpu) give 12 / N, or
# set auto_scale_lr.enable to scale the LR to the total batch instead.
max_iters = 10020
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
val_cfg = val_dataloader = val_evaluator = None
test_cfg = dict(type='TestLoop')
# lthsteps.evaluate replaces this to dump raw detections and computes COCO + VOC metrics itself.
test_evaluator = dict(type='CocoMetric', metric='bbox', ann_file='val.json')
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
                     clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=600),
    # No `end`: it would freeze max_iters at parse time and ignore a later override of it.
    dict(type='MultiStepLR', by_epoch=False, begin=0, milestones=[8350], gamma=0.1),
]
auto_scale_lr = dict(enable=False, base_batch_size=12)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
