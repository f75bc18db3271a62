"""Atomic writes: ordinary permissions, nothing left behind on failure."""
from __future__ import annotations

import os
import stat

import pytest

from lthsteps.files import atomic_write, umask


def test_atomic_write_follows_the_umask_not_mkstemps_0600(tmp_path):
    old = os.umask(0o027)
    try:
        assert umask() == 0o027 and umask() == 0o027  # reading it leaves it as it was
        atomic_write(tmp_path / "sub" / "out.txt", lambda tmp: open(tmp, "w").write("ok"))
    finally:
        os.umask(old)
    assert (tmp_path / "sub" / "out.txt").read_text() == "ok"
    assert stat.S_IMODE((tmp_path / "sub" / "out.txt").stat().st_mode) == 0o640


def test_failed_write_leaves_no_file(tmp_path):
    def broken(tmp):
        open(tmp, "w").write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "out.json", broken)
    assert list(tmp_path.iterdir()) == []
