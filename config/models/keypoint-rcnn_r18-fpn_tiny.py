# The embedded-default analog of keypoint-rcnn_r18-fpn_coco.py: the same Keypoint R-CNN structure
# and parameter names as mask-rcnn_r18-fpn_tiny.py's backbone/neck/RPN/box head (1/4 width, 64-channel
# FPN), a keypoint head of 4 convs of 64 channels (the paper's: 8 of 512), trained from scratch on the
# person category (the only one with keypoints) of the generated data at its own 160 px.
_base_ = ['./keypoint-rcnn_r18-fpn_coco.py', './_base_/tiny_schedule.py']
# AutocastHook is lthsteps' (lthsteps.autocast), registered by importing lthsteps.modules.
custom_imports = dict(imports=['lthsteps.modules'], allow_failed_imports=False)
# bfloat16 forward and backward passes of the convolutional parts (lthsteps.autocast); the box
# regressing heads (RPN, box head) stay float32. Measured time and dense mAP:
# docs/studies/default-cost.md.
custom_hooks = [dict(type='AutocastHook', modules=['backbone', 'neck', 'roi_head.keypoint_head']),
                # the stem's max pooling in channels-last layout: the same result, faster on CPU
                # (lthsteps.channels_last_pool)
                dict(type='ChannelsLastPoolHook', modules=['backbone.maxpool'])]

width = 16  # ResNet base width (64 in ResNet-18)
channels = 64  # FPN and head width (256 in the paper's models)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(base_channels=width, frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[width, width * 2, width * 4, width * 8], out_channels=channels),
    # 16 and 32 px anchors at stride 4, as mask-rcnn_r18-fpn_tiny.py (same RPN shapes, so tickets
    # transfer between the two): the objects here are 13..~140 px.
    rpn_head=dict(in_channels=channels, feat_channels=channels, anchor_generator=dict(scales=[4, 8])),
    # Fixed 2x2 RoIAlign samples (as one sparse matrix product) and 300 proposals per level before
    # NMS: CPU cost, as in mask-rcnn_r18-fpn_tiny.py.
    roi_head=dict(
        bbox_roi_extractor=dict(type='SparseRoIExtractor', out_channels=channels, roi_layer=dict(type='SparseRoIAlign', sampling_ratio=2)),
        bbox_head=dict(in_channels=channels, fc_out_channels=256),
        keypoint_roi_extractor=dict(type='SparseRoIExtractor', out_channels=channels,
                                    roi_layer=dict(type='SparseRoIAlign', sampling_ratio=2)),
        keypoint_head=dict(in_channels=channels, num_convs=4, conv_out_channels=channels)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=128)),
        rpn_proposal=dict(nms_pre=300, max_per_img=100),
        rcnn=dict(sampler=dict(num=48))),
    # At most 50 detections per image (MMDetection: 100): a generated image holds at most ~12 objects,
    # COCOeval scores the top 100 boxes/masks (20 keypoint instances); fewer masks to paste is faster.
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100), rcnn=dict(max_per_img=50)))

image_size = (160, 160)  # the generated images' own size
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadKeypointAnnotations'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ResizeFlipKeypoints'),
    dict(type='PackKeypointDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, batch_sampler=None,
                        dataset=dict(pipeline=train_pipeline,
                                     filter_cfg=dict(filter_empty_gt=True, min_size=4, min_keypoints=1)))
test_dataloader = dict(batch_size=8, num_workers=0, dataset=dict(pipeline=test_pipeline))

# ~2.7 epochs of the generated training images at batch 4, SGD with a 10x decay at 80%
# (_base_/tiny_schedule.py): the default sweeps of both tasks and backbones fit in 10 minutes on 2 cores (README).
max_iters = 400
train_cfg, optim_wrapper, param_scheduler, default_hooks = _base_.pop('tiny_schedule').make(max_iters, lr=0.02)
# The schedule's LR is for this batch as it is: no scaling to the paper-scale base config's total batch.
auto_scale_lr = dict(enable=False, base_batch_size=4)
