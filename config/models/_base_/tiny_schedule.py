# The schedule of the embedded-default ("tiny") models, for their length and learning rate: the
# paper config's SGD, a 50-iteration linear warm-up from 1% of the LR, a 10x decay at 80% of
# training, gradients clipped at norm 35, a log line every 100 iterations and a checkpoint every
# quarter of training (a killed job resumes from the last one: lthsteps.resume).
#
# A tiny config lists this file after its paper config and takes the schedule out of it:
#
#     _base_ = ['./mask-rcnn_r18-fpn_coco.py', './_base_/tiny_schedule.py']
#     max_iters = 400
#     train_cfg, optim_wrapper, param_scheduler, default_hooks = _base_.pop('tiny_schedule').make(max_iters, lr=0.02)
#
# Why this shape: MMEngine refuses a key that two bases both define, and the paper configs define
# train_cfg and the rest, so this file defines the one key `tiny_schedule`; MMEngine drops functions
# at the top level of a config, hence the dict around `make`; and the tiny config pops the key from
# `_base_` so that it does not reach the resolved config.


def _make(max_iters, lr):
    train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
    optim_wrapper = dict(optimizer=dict(lr=lr), clip_grad=dict(max_norm=35, norm_type=2))
    param_scheduler = [
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
        dict(type='MultiStepLR', by_epoch=False, begin=0, milestones=[max_iters * 4 // 5], gamma=0.1),
    ]
    default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=max_iters // 4))
    return train_cfg, optim_wrapper, param_scheduler, default_hooks


tiny_schedule = dict(make=_make)
