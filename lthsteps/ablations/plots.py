"""Figure helpers shared by the ablations and the §4.4 analyses: seaborn whitegrid on the Agg backend,
lines with ±1 std bands over seeds, the dense model as a dashed line, PNGs written atomically at 120
dpi, and the table-and-figure outputs of their command lines."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from lthsteps.files import atomic_write
from lthsteps.ablations.common import prune_label


def new_figure(cols: int = 1, width: float = 5.0, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")  # no display on cluster nodes
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, cols, figsize=(width * cols, height), squeeze=False)
    return fig, list(axes.flat)


def dense_line(ax, dense: pd.DataFrame, metric: str) -> None:
    """The dense model as a dashed line, ±1 std band over seeds."""
    if not len(dense):
        return
    mean = dense[metric].mean()
    ax.axhline(mean, color="k", ls="--", label=f"dense ({mean:.2f})")
    if len(dense) > 1:
        ax.axhspan(mean - dense[metric].std(), mean + dense[metric].std(), color="k", alpha=0.1)


def write_outputs(table: pd.DataFrame, text: str, fig, csv: Path, markdown: Path, figure: Path) -> None:
    """A summary's figure, CSV and Markdown, each written whole or not at all; the Markdown printed."""
    save_figure(fig, figure)
    atomic_write(csv, lambda tmp: table.to_csv(tmp, index=False, float_format="%.4f"))
    atomic_write(markdown, lambda tmp: Path(tmp).write_text(text))
    print(text)


def save_figure(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)


def lines(ax, frame: pd.DataFrame, x: str, y: str, hue: str = "prune_percent") -> None:
    """Mean over seeds with a ±1 std band, one line per ``hue`` (prune percent by default)."""
    import seaborn as sns

    labels = frame[hue].map(prune_label) if hue == "prune_percent" else frame[hue]
    order = [prune_label(p) for p in sorted(set(frame[hue]))] if hue == "prune_percent" else list(dict.fromkeys(labels))
    sns.lineplot(x=frame[x].values, y=frame[y].values, hue=labels.values, hue_order=order, marker="o",
                 errorbar="sd", ax=ax)
