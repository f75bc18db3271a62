# The embedded-default analog of mask-rcnn_r18-fpn_coco.py: the same FPN Mask R-CNN structure and
# parameter names at 1/4 of the channel width, trained from scratch on the generated COCO-format data
# at their own 160 px (measured at 400 iterations: bbox mAP 0.152 at 160 px, 0.105 upscaled to 224 px,
# and 18% less time per iteration) so that a pruning sweep runs on 2 CPU cores.
_base_ = ['./mask-rcnn_r18-fpn_coco.py', './_base_/tiny_schedule.py']
# AutocastHook is lthsteps' (lthsteps.autocast), registered by importing lthsteps.modules.
custom_imports = dict(imports=['lthsteps.modules'], allow_failed_imports=False)
# bfloat16 forward and backward passes of the convolutional parts (lthsteps.autocast); the box
# regressing heads (RPN, box head) stay float32. Measured time and dense mAP:
# docs/studies/default-cost.md.
custom_hooks = [dict(type='AutocastHook', modules=['backbone', 'neck', 'roi_head.mask_head']),
                # the stem's max pooling in channels-last layout: the same result, faster on CPU
                # (lthsteps.channels_last_pool)
                dict(type='ChannelsLastPoolHook', modules=['backbone.maxpool'])]

width = 16  # ResNet base width (64 in ResNet-18): stages give 16, 32, 64, 128 channels
fpn = 64
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(base_channels=width, frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[width, width * 2, width * 4, width * 8], out_channels=fpn),
    rpn_head=dict(
        in_channels=fpn, feat_channels=fpn,
        # 16 and 32 px anchors at stride 4: the generated small objects are 13-30 px.
        anchor_generator=dict(scales=[4, 8])),
    # RoIAlign with 2x2 samples per bin instead of adaptive (which grows with the RoI), computed as
    # one sparse matrix product (lthsteps.roi_align: mmcv's RoIAlign, a third of its CPU time).
    roi_head=dict(
        bbox_roi_extractor=dict(type='SparseRoIExtractor', out_channels=fpn, roi_layer=dict(type='SparseRoIAlign', sampling_ratio=2)),
        bbox_head=dict(in_channels=fpn, fc_out_channels=256),
        mask_roi_extractor=dict(type='SparseRoIExtractor', out_channels=fpn, roi_layer=dict(type='SparseRoIAlign', sampling_ratio=2)),
        mask_head=dict(in_channels=fpn, conv_out_channels=fpn)),
    # 300 proposals per FPN level before NMS (MMDetection: 2000): NMS over ~4000 boxes per image was
    # 18% of an iteration on CPU, 4% now.
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
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, batch_sampler=None,
                        dataset=dict(pipeline=train_pipeline, filter_cfg=dict(min_size=4)))
test_dataloader = dict(batch_size=8, num_workers=0, dataset=dict(pipeline=test_pipeline))

# ~2.7 epochs of the 600 training images at batch 4, SGD with a 10x decay at 80% (_base_/tiny_schedule.py):
# the default sweeps of both tasks and backbones fit in 10 minutes on 2 cores (README).
max_iters = 400
# LR 0.02 as the Keypoint R-CNN (400 iterations, seed 0: R18 bbox mAP 0.191 at 0.02, 0.152 at 0.04;
# R50 diverged at 0.04, 0.166 at 0.02).
train_cfg, optim_wrapper, param_scheduler, default_hooks = _base_.pop('tiny_schedule').make(max_iters, lr=0.02)
# The schedule's LR is for this batch as it is: no scaling to the paper-scale base config's total batch.
auto_scale_lr = dict(enable=False, base_batch_size=4)
