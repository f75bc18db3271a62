"""Tables and figures of the paper's §4.3 ablations, from run folders already on disk.

    python -m lthsteps.ablations SETTING --name NAME --paper "Table 3" --dense SEED:DIR ... \\
        --run VALUE:PRUNE:SEED:DIR ... --csv t.csv --markdown t.md --figure f.png

One module per setting (``SETTINGS``), each with ``parse_value`` (the meaning of VALUE), ``load``
(run folders -> one record per run), ``table`` (the CSV: mean and std over seeds), ``markdown``
(the paper-style table, ``mean ± std``) and ``figure`` (a seaborn figure):

* ``modules`` -- Table 3, pruning each Faster R-CNN module and their combinations;
* ``rewind_iter`` -- Fig 2b, late resetting; ``layer_sparsity`` -- Fig 2c, pruned % per backbone
  layer; ``rounds`` -- Fig 2d, iterative vs one-shot; ``scope`` -- Fig 2e, layer-wise vs global;
  ``early_bird`` -- Fig 2f, masks drawn early and their IoU with the final mask;
* ``controls`` -- the random-mask and re-initialisation checks of a winning ticket.

Numbers are in percent (metrics and sparsities), as in :mod:`lthsteps.summary`; the headline metric
is VOC mAP when the runs have it, else bbox mAP.
"""
from lthsteps.ablations import controls, early_bird, layer_sparsity, modules, rewind_iter, rounds, scope

SETTINGS = {
    "modules": modules, "rewind_iter": rewind_iter, "layer_sparsity": layer_sparsity, "rounds": rounds,
    "scope": scope, "early_bird": early_bird, "controls": controls,
}

__all__ = ["SETTINGS"]
