"""``CLAIMS``: every qualitative claim the paper makes that a run can test, in the paper's order."""
from __future__ import annotations

from lthsteps.claims import ablations, appendix, direct, imagenet, properties

CLAIMS = (
    imagenet.imagenet_tickets_coco_vs_voc,       # §4.2, Tables 1-2
    direct.direct_pruning_80,                    # §4.3, Fig 2a, Fig 1
    imagenet.direct_beats_imagenet,              # §4.3, Fig 1 (and Appendix A)
    ablations.late_resetting_not_needed,         # §4.3, Fig 2b
    ablations.prune_heads_not_backbone_top,      # §4.3, Table 3
    ablations.early_bird_masks,                  # §4.3, Fig 2f
    ablations.one_shot_beats_iterative,          # §4.3, Fig 2d
    ablations.global_beats_layerwise,            # §4.3, Fig 2e
    direct.resnet50_holds_resnet18_gains,        # §4.4, Fig 3
    properties.small_and_rare_lose_most,         # §4.4, Figs 4, 5a
    properties.hard_categories_lose_most,        # §4.4, Figs 5b, 5c
    imagenet.mask_transfer_like_ticket,          # Appendix A, Fig 6, Table 4
    appendix.keypoint_transfer_direction,        # Appendix B, Table 5
    appendix.error_types_alike,                  # Appendix C, Figs 7-9
    appendix.segm_fewer_loc_more_bkg,            # Appendix C.1, Fig 8
    appendix.tickets_converge_faster,            # Appendix D, Fig 10
)

BY_ID = {c.id: c for c in CLAIMS}
assert len(BY_ID) == len(CLAIMS), "claim ids must be unique"
