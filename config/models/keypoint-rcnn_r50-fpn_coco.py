# Keypoint R-CNN, ResNet-50 FPN, COCO 2017 person keypoints (Mask R-CNN paper §5, Detectron2's
# keypoint_rcnn_R_50_FPN_1x): the paper's keypoint model (Fig 1, 3, Tables 2, 4, 5). mmdet 3.3.0
# has no keypoint branch: it is lthsteps' KeypointRoIHead / KeypointRCNNHead (8 convs of 512
# channels, 14x14 RoIs -> 56x56 heatmaps) in place of the mask branch; same 1x schedule.
_base_ = './mask-rcnn_r50-fpn_coco.py'
# The keypoint head, dataset and transforms below are lthsteps' (lthsteps.keypoint_head, .keypoint_data):
# importing lthsteps.modules registers them, so that MMDetection's own tools build this model too.
custom_imports = dict(imports=['lthsteps.modules'], allow_failed_imports=False)

model = dict(
    type='TwoStageDetector',
    data_preprocessor=dict(pad_mask=False),
    roi_head=dict(
        type='KeypointRoIHead',
        bbox_head=dict(num_classes=1),
        mask_roi_extractor=None,
        mask_head=None,
        keypoint_roi_extractor=dict(
            type='SingleRoIExtractor', roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=256, featmap_strides=[4, 8, 16, 32]),
        keypoint_head=dict(type='KeypointRCNNHead', num_keypoints=17, in_channels=256, num_convs=8,
                           conv_out_channels=512, roi_feat_size=14)),
    # COCO's keypoint AP counts the top 20 detections per image.
    test_cfg=dict(rcnn=dict(max_per_img=20)))
# The official release's keypoint commands train at LR 0.015 (total batch 16).
optim_wrapper = dict(optimizer=dict(lr=0.015))

dataset_type = 'CocoKeypointDataset'
metainfo = dict(classes=('person',))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadKeypointAnnotations'),
    dict(type='RandomChoiceResize', keep_ratio=True,  # multi-scale, as the Mask R-CNN's (_base_)
         scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768), (1333, 800)]),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ResizeFlipKeypoints'),  # after the resize and RandomFlip, which leave keypoints alone
    dict(type='PackKeypointDetInputs'),
]
train_dataloader = dict(dataset=dict(
    type=dataset_type, metainfo=metainfo, pipeline=train_pipeline,
    # Images without a labelled person keypoint teach the keypoint head nothing (Detectron2: 1).
    filter_cfg=dict(filter_empty_gt=True, min_size=32, min_keypoints=1)))
test_dataloader = dict(dataset=dict(type=dataset_type, metainfo=metainfo))
# mmdet's CocoMetric has no keypoint metric: lthsteps.evaluate dumps and scores keypoints itself.
test_evaluator = dict(metric='bbox')
