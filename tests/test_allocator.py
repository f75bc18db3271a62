"""lthsteps.allocator: with ``keep_freed_memory`` a process that allocates, touches and frees the same
blocks over and over stops faulting their pages in again; without it glibc faults every page of every
pass (the constructed contrast that shows the setting is what changes it)."""
from __future__ import annotations

import platform
import resource
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")

BLOCK_MIB, BLOCKS, PASSES = 8, 4, 10
PAGES_TOUCHED = PASSES * BLOCKS * BLOCK_MIB * 1024 * 1024 // resource.getpagesize()

# Four 8 MiB blocks: above glibc's default mmap threshold (128 KiB), and freed together they leave a
# heap top above its default trim threshold, so both of glibc's give-backs are exercised.
PROGRAM = textwrap.dedent(f"""
    import ctypes, ctypes.util, resource, sys
    from lthsteps.allocator import keep_freed_memory
    if sys.argv[1] == "keep":
        assert keep_freed_memory()
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    size = {BLOCK_MIB} * 1024 * 1024
    def one_pass():
        blocks = [libc.malloc(size) for _ in range({BLOCKS})]
        for block in blocks:
            ctypes.memset(block, 1, size)
        for block in blocks:
            libc.free(block)
    one_pass()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range({PASSES}):
        one_pass()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def _page_faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_freed_blocks_stay_mapped():
    assert _page_faults("default") > PAGES_TOUCHED // 2
    assert _page_faults("keep") < PAGES_TOUCHED // 100
