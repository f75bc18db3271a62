"""The paper configs reproduce every structural number of the paper within 0.1 point, from parameter
counts alone (lthsteps.fidelity; the table: docs/studies/paper-fidelity.md)."""
from __future__ import annotations

import pytest

from lthsteps.fidelity import cells, ours

CELLS = cells()


@pytest.mark.parametrize("cell", [c for c in CELLS if not c.note], ids=lambda c: c.item)
def test_paper_cell_from_parameter_counts(cell):
    assert ours(cell) == pytest.approx(cell.paper, abs=0.1)


def test_every_table_and_figure_with_structural_numbers_is_covered():
    items = {c.item.split(",")[0] for c in CELLS}
    assert items == {"Table 1", "Table 2", "Table 3", "Table 4", "Table 5", "Fig 2a"}
    assert sum(c.item.startswith("Table 3") for c in CELLS) == 30  # 15 rows x (Param %, network sparsity)
    # The two cells that cannot follow from counts are named, with why.
    assert [c.item for c in CELLS if c.note] == ["Table 4, 50%, COCO detection / segmentation",
                                                 "Table 4, 50%, COCO keypoint"]
