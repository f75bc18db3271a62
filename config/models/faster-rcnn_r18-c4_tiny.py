# The embedded-default analog of faster-rcnn_r18-c4_voc.py: the same C4 structure and parameter
# names (base = stem..layer3, top = layer4 as shared RoI head), 1/4 of the channel width, trained from
# scratch on the generated 160 px dataset so that a whole pruning sweep runs on 2 CPU cores.
_base_ = ['./faster-rcnn_r18-c4_voc.py', './_base_/tiny_schedule.py']
# WidthResLayer below is lthsteps' (lthsteps.layers): importing lthsteps.modules registers it, so that
# MMDetection's own tools build this model too.
custom_imports = dict(imports=['lthsteps.modules'], allow_failed_imports=False)
# bfloat16 forward and backward passes of the convolutional parts (lthsteps.autocast); the box
# regressing heads (RPN, box head) stay float32. Measured time and dense mAP:
# docs/studies/default-cost.md.
custom_hooks = [dict(type='AutocastHook', modules=['backbone', 'roi_head.shared_head']),
                # the stem's max pooling in channels-last layout: the same result, faster on CPU
                # (lthsteps.channels_last_pool)
                dict(type='ChannelsLastPoolHook', modules=['backbone.maxpool'])]

width = 16  # ResNet base width (64 in ResNet-18)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(base_channels=width, frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False, init_cfg=None),
    rpn_head=dict(
        in_channels=width * 4, feat_channels=width * 8,
        anchor_generator=dict(scales=[1, 2, 4, 8], ratios=[0.5, 1.0, 2.0], strides=[16]),
        # Sigmoid objectness, as MMDetection's C4 model (the paper-scale VOC model uses the official
        # release's softmax; this analog keeps the model its measurements were made with).
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    roi_head=dict(
        shared_head=dict(type='WidthResLayer', base_channels=width, norm_cfg=norm_cfg, norm_eval=False,
                         init_cfg=None),
        # 8x8 RoI features (4x4 after layer4's stride 2) instead of 14x14: the shared head is most
        # of the compute of a C4 model, and the objects here are at most 160 px. RoIAlign as one
        # sparse matrix product (lthsteps.roi_align: mmcv's RoIAlign, a third of its CPU time).
        bbox_roi_extractor=dict(type='SparseRoIExtractor', out_channels=width * 4, roi_layer=dict(type='SparseRoIAlign', output_size=8)),
        bbox_head=dict(in_channels=width * 8, roi_feat_size=4)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=128)),
        rpn_proposal=dict(nms_pre=1000, max_per_img=200),
        # 48 RoIs per image (MMDetection: 512): the shared layer4 head runs once per RoI and is most
        # of an iteration's cost; 48 instead of 64 pays for the larger input below at equal mAP.
        rcnn=dict(sampler=dict(num=48))),
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=100)))

# The generated images are 160 px; upscaled to 224 px (as COCO images are to 1333x800) so that small
# objects (13-30 px) span more than one cell of the stride-16 C4 map. Measured on the default data
# (seed 0, 1200 iterations): bbox mAP 0.27 at 160 px, 0.33 at 224 px.
image_size = (224, 224)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline, filter_cfg=dict(min_size=4)))
test_dataloader = dict(batch_size=8, num_workers=0, dataset=dict(pipeline=test_pipeline))

# ~8 epochs of the 600 training images at batch 4, SGD with a 10x decay at 80% (_base_/tiny_schedule.py).
max_iters = 1200
train_cfg, optim_wrapper, param_scheduler, default_hooks = _base_.pop('tiny_schedule').make(max_iters, lr=0.04)
# The schedule's LR is for this batch as it is: no scaling to the paper-scale base config's total batch.
auto_scale_lr = dict(enable=False, base_batch_size=4)
