# COCO 2017 instances (boxes + masks), the official release's schedule (Detectron2's 1x, prune_coco;
# docs/studies/paper-fidelity.md): 90k iterations at a total batch of 16 (2 images x 8 GPUs:
# resources.train.gpu 8), LR 0.02 decayed 10x at 60k and 80k, 2,000 warm-up iterations from a factor
# of 5e-4, multi-scale training (shorter side 640..800). Iterations, not epochs: late resetting names
# an iteration, and a round resumes the schedule there. With fewer GPUs, auto_scale_lr scales the LR
# to the total batch (linear rule); the iterations stay, so fewer images are seen.
# Paths and classes are bound by the workflow from the dataset descriptor.
_base_ = 'mmdet::_base_/default_runtime.py'

dataset_type = 'CocoDataset'
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize', keep_ratio=True,
         scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768), (1333, 800)]),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=2, num_workers=4, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(type=dataset_type, data_root='', ann_file='train.json', data_prefix=dict(img=''),
                 filter_cfg=dict(filter_empty_gt=True, min_size=32), pipeline=train_pipeline,
                 backend_args=backend_args))
test_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root='', ann_file='val.json', data_prefix=dict(img=''),
                 test_mode=True, pipeline=test_pipeline, backend_args=backend_args))

max_iters = 90000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
val_cfg = val_dataloader = val_evaluator = None
test_cfg = dict(type='TestLoop')
# lthsteps.evaluate replaces this to dump raw results and computes the COCO metrics itself.
test_evaluator = dict(type='CocoMetric', metric=['bbox', 'segm'], ann_file='val.json')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=5e-4, by_epoch=False, begin=0, end=2000),
    # No `end`: it would freeze max_iters at parse time and ignore a later override of it.
    dict(type='MultiStepLR', by_epoch=False, begin=0, milestones=[60000, 80000], gamma=0.1),
]
auto_scale_lr = dict(enable=True, base_batch_size=16)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=5000, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
