# Keypoint R-CNN (Mask R-CNN paper §5), ResNet-18 FPN, at the scale of the embedded generated
# dataset: mmdet's Mask R-CNN FPN model with the mask branch replaced by a keypoint branch
# (lthsteps.keypoint_head), 1/4 of ResNet-18's width, 64-channel neck and heads, trained from
# scratch on the person category (the only one with keypoints). A plain MMDetection config: the
# workflow binds the dataset paths, seed, work_dir and the lottery-ticket hooks.
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['lthsteps.modules'], allow_failed_imports=False)

width = 16  # ResNet base width (64 in ResNet-18)
channels = 64  # FPN and head width (256 in the paper's models)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='TwoStageDetector',
    data_preprocessor=dict(pad_mask=False),
    backbone=dict(depth=18, base_channels=width, frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False,
                  init_cfg=None),
    neck=dict(in_channels=[width, width * 2, width * 4, width * 8], out_channels=channels),
    # Anchors of 16..256 px (mmdet: 32..512): the objects here are 13..~200 px after upscaling.
    rpn_head=dict(in_channels=channels, feat_channels=channels, anchor_generator=dict(scales=[4])),
    roi_head=dict(
        type='KeypointRoIHead',
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(in_channels=channels, fc_out_channels=256, num_classes=1),
        mask_roi_extractor=None,
        mask_head=None,
        keypoint_roi_extractor=dict(
            type='SingleRoIExtractor', roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=channels, featmap_strides=[4, 8, 16, 32]),
        # The paper's head has 8 convs of 512 channels; 14x14 RoIs -> 56x56 heatmaps as there.
        keypoint_head=dict(type='KeypointRCNNHead', num_keypoints=17, in_channels=channels, num_convs=4,
                           conv_out_channels=channels, roi_feat_size=14, loss_weight=1.0)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=128)),
        rpn_proposal=dict(nms_pre=1000, max_per_img=200),
        rcnn=dict(sampler=dict(num=64))),
    # COCO's keypoint AP counts the top 20 detections per image.
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=100), rcnn=dict(max_per_img=20)))

# The generated images are 160 px; upscaled to 224 px as in faster-rcnn_r18-c4_tiny.py.
image_size = (224, 224)
dataset_type = 'CocoKeypointDataset'
metainfo = dict(classes=('person',))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadKeypointAnnotations'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ResizeFlipKeypoints'),  # after Resize and RandomFlip, which leave keypoints alone
    dict(type='PackKeypointDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(type=dataset_type, data_root='', ann_file='annotations/instances_train.json',
                 data_prefix=dict(img='train/'), metainfo=metainfo,
                 # Images without a labelled person keypoint teach the keypoint head nothing.
                 filter_cfg=dict(filter_empty_gt=True, min_size=4, min_keypoints=1), pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root='', ann_file='annotations/instances_val.json',
                 data_prefix=dict(img='val/'), metainfo=metainfo, test_mode=True, pipeline=test_pipeline))

max_iters = 1200
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
val_cfg = val_dataloader = val_evaluator = None
test_cfg = dict(type='TestLoop')
# mmdet's CocoMetric has no keypoint metric: lthsteps.evaluate replaces this evaluator.
test_evaluator = dict(type='CocoMetric', metric='bbox', ann_file='annotations/instances_val.json')
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
                     clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    # No `end`: it would freeze max_iters at parse time and ignore a later override of it.
    dict(type='MultiStepLR', by_epoch=False, begin=0, milestones=[960], gamma=0.1),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
