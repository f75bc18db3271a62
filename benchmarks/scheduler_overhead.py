"""CPU that Snakemake's own process spends while its jobs run, with and without a job rate limit window.

    .venv/bin/python benchmarks/scheduler_overhead.py [--jobs 200] [--seconds 1] [--cores 2]

Runs a generated workflow of ``--jobs`` independent jobs that each sleep ``--seconds`` (so the jobs
themselves take no CPU), once with Snakemake's default ``--max-jobs-per-timespan 100/1s`` and once
with the window ``profiles/default`` sets, and prints for each: wall time, the CPU time of the
Snakemake process itself (utime + stime from ``/proc/PID/stat``, its jobs excluded) and the most
threads it had at once.

Why: every pass of Snakemake 9's scheduling loop starts a ``threading.Timer`` that wakes the loop
again one rate-limit window later (1 s by default), and every finished job starts a pass, so the
number of timers that wake it grows by one per finished job; late in the default's 225 jobs the
loop ran over a hundred times a second. A longer window makes the wake-ups rarer (job completions
still wake the loop), but Python waits for the last timer at exit, so Snakemake ends up to one window
after its last job: that is the trade the wall column shows. Not a test: it prints its figures. Linux
only (``/proc``).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_WINDOW = "100/1s"  # Snakemake's own default
SNAKEFILE = """
rule all:
    input: expand("done/{{i}}", i=range({jobs}))

rule one:
    output: "done/{{i}}"
    log: "logs/{{i}}.log"
    shell: "sleep {seconds} && touch {{output}} 2> {{log}}"
"""


def profile_window() -> str:
    """The ``max-jobs-per-timespan`` of ``profiles/default/config.yaml``."""
    import yaml

    return yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())["max-jobs-per-timespan"]


def run(jobs: int, seconds: float, cores: int, window: str) -> dict:
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    with tempfile.TemporaryDirectory(prefix="scheduler-overhead-") as tmp:
        Path(tmp, "Snakefile").write_text(SNAKEFILE.format(jobs=jobs, seconds=seconds))
        cmd = [str(Path(sys.executable).parent / "snakemake"), "--cores", str(cores), "--workflow-profile", "none",
               "--max-jobs-per-timespan", window, "--quiet"]
        start = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        cpu_ticks, threads = 0, 0
        while process.poll() is None:
            try:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                break
            cpu_ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
            threads = max(threads, int(fields[17]))  # num_threads (field 20)
            time.sleep(0.2)
        wall = time.perf_counter() - start
        if process.wait():
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{process.stderr.read()[-3000:]}")
    return {"window": window, "wall_s": wall, "snakemake_cpu_s": cpu_ticks / ticks_per_second, "threads": threads}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="independent sleeping jobs (default 200)")
    parser.add_argument("--seconds", type=float, default=1.0, help="each job's sleep (default 1)")
    parser.add_argument("--cores", type=int, default=2, help="snakemake --cores (default 2)")
    parser.add_argument("--windows", nargs="+", help=f"--max-jobs-per-timespan values to run (default: "
                        f"Snakemake's {DEFAULT_WINDOW} and profiles/default's)")
    args = parser.parse_args(argv)
    print(f"{args.jobs} jobs of {args.seconds} s sleep, --cores {args.cores}", flush=True)
    print(f"{'max-jobs-per-timespan':>22} {'wall s':>8} {'snakemake CPU s':>16} {'most threads':>13}", flush=True)
    for window in args.windows or (DEFAULT_WINDOW, profile_window()):
        row = run(args.jobs, args.seconds, args.cores, window)
        print(f"{row['window']:>22} {row['wall_s']:8.1f} {row['snakemake_cpu_s']:16.1f} {row['threads']:13d}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
