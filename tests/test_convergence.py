"""Convergence table and curves from constructed ValLossHook files; the CLI's outputs and bad inputs."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from lthsteps.convergence import ConvergenceError, convergence_table, curves, main, markdown, records


def _curve(tmp_path, name, points, max_iters=100):
    """A run folder with its ValLossHook file: (iteration, total) pairs, split 3:1 into loss_cls and loss_bbox."""
    run = tmp_path / name
    run.mkdir(exist_ok=True)
    (run / "val_loss.json").write_text(json.dumps([{"iter": i, "max_iters": max_iters, "images": 6, "seconds": 0.1, "loss": total,
                                 "losses": {"loss_cls": 0.75 * total, "loss_bbox": 0.25 * total}, "other": {}}
                                for i, total in points]))
    return run


@pytest.fixture
def runs(tmp_path):
    # Dense: 0, 50, 100. Seed 0 is within 5% of its final 2.0 at 50 (|2.08 - 2| = 0.08 <= 0.1), seed 1
    # only at the end (|3 - 2| > 0.1). The ticket starts at its rewind iteration 20 (late resetting).
    return [(0, 0, _curve(tmp_path, "d0", [(0, 4.0), (50, 2.08), (100, 2.0)])),
            (0, 1, _curve(tmp_path, "d1", [(0, 4.0), (50, 3.0), (100, 2.0)])),
            (80, 0, _curve(tmp_path, "t0", [(20, 3.0), (50, 2.45), (100, 2.4)])),
            (80, 1, _curve(tmp_path, "t1", [(20, 3.0), (50, 2.7), (100, 2.6)]))]


def test_table_numbers_are_exact(runs):
    table = convergence_table(records(runs)).set_index("run")
    assert list(table.index) == ["dense", "ticket 80%"] and list(table.seeds) == [2, 2]
    dense, ticket = table.loc["dense"], table.loc["ticket 80%"]
    assert dense.final_loss_mean == pytest.approx(2.0) and dense.final_loss_std == pytest.approx(0.0)
    assert dense.converged_iter_mean == 75 and dense.converged_iter_std == pytest.approx(35.35534, abs=1e-5)
    assert dense.converged_progress_mean == pytest.approx(75.0)
    assert ticket.final_loss_mean == pytest.approx(2.5) and ticket.final_loss_std == pytest.approx(0.141421, abs=1e-6)
    assert ticket["final_loss_cls_mean"] == pytest.approx(1.875)
    assert ticket["final_loss_bbox_mean"] == pytest.approx(0.625)
    assert ticket.converged_iter_mean == 50 and ticket.converged_iter_std == 0
    assert ticket.converged_trained_iters_mean == 30 and dense.converged_trained_iters_mean == 75
    text = markdown(convergence_table(records(runs)), "demo")
    assert text.startswith("### demo\n") and "| ticket 80% |" in text and "2.5000 ± 0.1414" in text
    assert "75.0 ± 35.4" in text and "Within 5% of final" in text


def test_tolerance_moves_the_convergence_point(runs):
    table = convergence_table(records(runs), tolerance=0.5).set_index("run")
    assert table.loc["dense", "converged_iter_mean"] == 50  # |3 - 2| <= 1 too


def test_ticket_is_placed_at_its_real_iterations(runs):
    table = curves(records(runs))
    ticket = table[table.run == "ticket 80%"]
    assert list(ticket["iter"]) == [20, 50, 100] and list(ticket.progress) == [20.0, 50.0, 100.0]
    dense_50 = table[(table.run == "dense") & (table["iter"] == 50)].iloc[0]
    assert dense_50.loss_mean == pytest.approx(2.54) and dense_50.loss_cls_mean == pytest.approx(0.75 * 2.54)
    assert dense_50.seeds == 2


def test_cli_writes_csv_markdown_and_figure(runs, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--name", "tiny", "--paper", "Fig 10",
            *[a for p, s, f in runs for a in (["--dense", f"{s}:{f}"] if p == 0 else ["--run", f"{p}:{s}:{f}"])],
            "--csv", str(out / "c.csv"), "--markdown", str(out / "c.md"), "--figure", str(out / "c.png")]
    assert main(argv) == 0
    csv = pd.read_csv(out / "c.csv")
    assert len(csv) == 6 and {"loss_mean", "loss_std", "loss_cls_mean", "loss_bbox_std", "progress"} <= set(csv)
    assert (out / "c.md").read_text().startswith("### tiny: validation loss against training progress "
                                                 "(analog of the paper's Fig 10)")
    assert (out / "c.png").read_bytes()[:4] == b"\x89PNG"


def _nan(tmp_path):
    return ["--dense", f"0:{_curve(tmp_path, 'nan', [(0, 4.0), (100, float('nan'))])}"]


def _unfinished(tmp_path):
    return ["--dense", f"0:{_curve(tmp_path, 'short', [(0, 4.0), (50, 3.0)])}"]


def _bad_spec(tmp_path):
    return ["--dense", f"0:{_curve(tmp_path, 'd', [(0, 4.0), (100, 2.0)])}", "--run", "eighty:0:x"]


def _duplicate(tmp_path):
    path = _curve(tmp_path, "d", [(0, 4.0), (100, 2.0)])
    return ["--dense", f"0:{path}", "--dense", f"0:{path}"]


def _missing(tmp_path):
    return ["--dense", f"0:{tmp_path / 'absent'}"]


def _other_model(tmp_path):
    other = tmp_path / "mask"
    other.mkdir()
    (other / "val_loss.json").write_text(json.dumps([{"iter": 100, "max_iters": 100, "loss": 1.0,
                                                      "losses": {"loss_mask": 1.0}}]))
    return ["--dense", f"0:{_curve(tmp_path, 'd', [(0, 4.0), (100, 2.0)])}", "--run", f"80:0:{other}"]


def _backwards(tmp_path):
    return ["--dense", f"0:{_curve(tmp_path, 'b', [(50, 4.0), (20, 3.0), (100, 2.0)])}"]


def _not_a_list(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/val_loss.json").write_text('{"iter": 0}')
    return ["--dense", f"0:{tmp_path / 'bad'}"]


@pytest.mark.parametrize("make, message", [
    (_nan, "non-finite"), (_unfinished, "has not finished"), (_bad_spec, "is not PRUNE:SEED:DIR"),
    (_duplicate, "given twice"), (_missing, "does not exist"), (_other_model, "compare runs of one model"),
    (_backwards, "does not follow"), (_not_a_list, "non-empty list")])
def test_bad_input_exits_2_with_one_error_line_and_writes_nothing(make, message, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--name", "x", *make(tmp_path), "--csv", str(out / "c.csv"), "--markdown", str(out / "c.md"),
                 "--figure", str(out / "c.png")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and message in err[0], err
    assert not out.exists()


def test_records_needs_a_dense_run(tmp_path):
    with pytest.raises(ConvergenceError, match="no dense run"):
        records([(80, 0, _curve(tmp_path, "t", [(20, 3.0), (100, 2.0)]))])
