"""No weights file runs code: every loader of the workflow refuses a pickle with a side effect, and
truncated or foreign files get a message naming the file and what is accepted."""
from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest
import torch

from conftest import REPO
from lthsteps.checkpoints import WeightsFileError, load_checkpoint, load_state_dict


class _Touch:
    """Unpickling this runs code: it creates ``marker``."""

    def __init__(self, marker):
        self.marker = pathlib.Path(marker)

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


@pytest.fixture
def evil(tmp_path):
    """A weights file whose unpickling would create tmp_path/ran: tensors plus one side effect."""
    path = tmp_path / "evil.pth"
    torch.save({"backbone.conv1.weight": torch.zeros(2, 3, 3, 3), "x": _Touch(tmp_path / "ran")}, path)
    torch.save({"state_dict": {"w": torch.zeros(1)}, "meta": {}, "message_hub": _Touch(tmp_path / "ran")},
               tmp_path / "evil_mmengine.pth")
    return path


@pytest.mark.parametrize("name", ["evil.pth", "evil_mmengine.pth"])
@pytest.mark.parametrize("loader", [load_state_dict, load_checkpoint])
def test_a_pickle_with_a_side_effect_is_refused_and_never_runs(loader, name, evil):
    with pytest.raises(WeightsFileError) as err:
        loader(evil.parent / name)
    message = str(err.value)
    assert str(evil.parent / name) in message and "nothing in it ran" in message and "accepts a dict of tensors" in message
    assert "weights_only=False" not in message  # torch's advice to load it unsafely is not passed on
    assert not (evil.parent / "ran").exists()


def test_truncated_and_foreign_files_name_the_file_and_the_fix(tmp_path):
    good = tmp_path / "good.pth"
    torch.save({"w": torch.ones(1000)}, good)
    (tmp_path / "truncated.pth").write_bytes(good.read_bytes()[:300])
    (tmp_path / "text.pth").write_text("not weights\n")
    for name in ("truncated.pth", "text.pth"):
        with pytest.raises(WeightsFileError, match=rf"{re.escape(str(tmp_path / name))} is not a readable PyTorch "
                                                   r"weights file .*copy or make it again"):
            load_state_dict(tmp_path / name)
    torch.save([torch.ones(1)], tmp_path / "list.pth")
    with pytest.raises(WeightsFileError, match=r"list.pth is not a weights file: it holds a list"):
        load_state_dict(tmp_path / "list.pth")


def test_only_the_checkpoints_module_calls_torch_load():
    """Every loader goes through lthsteps.checkpoints, so the tests above cover them all."""
    callers = [str(path.relative_to(REPO)) for path in (REPO / "lthsteps").rglob("*.py")
               if "torch.load(" in path.read_text()]
    assert callers == ["lthsteps/checkpoints.py"]


def test_the_training_cli_refuses_it_before_any_work(evil, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lthsteps.train", "--config",
                           str(REPO / "config/models/faster-rcnn_r18-c4_tiny.py"), "--dataset", str(tmp_path / "d.json"),
                           "--work-dir", str(tmp_path / "work"), "--init", str(evil), "--out", str(tmp_path / "w.pth"),
                           "--report", str(tmp_path / "r.json")],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and not (tmp_path / "ran").exists() and not (tmp_path / "w.pth").exists()
    assert "Traceback" not in proc.stderr
