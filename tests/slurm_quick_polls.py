"""``python tests/slurm_quick_polls.py ARGS`` runs ``snakemake ARGS`` with the SLURM executor asking
squeue about its jobs every second.

The plugin (snakemake-executor-plugin-slurm 2.8.0) adds 10 s to its wait after every status check
that finds no job finished, up to 180 s: kind to a cluster whose jobs run for hours, but the tests'
jobs run for seconds, so most of their time went into waits of 11, 21, 31 s. Here the wait stays at
one second; everything else is the plugin as the profile runs it.
"""
import sys

from snakemake_interface_executor_plugins.executors.remote import RemoteExecutor

POLL_SECONDS = 1


def _set_next_wait(executor, seconds):
    executor._next_seconds_between_status_checks = min(seconds, POLL_SECONDS)


RemoteExecutor.next_seconds_between_status_checks = RemoteExecutor.next_seconds_between_status_checks.setter(
    _set_next_wait)

if __name__ == "__main__":
    from snakemake.cli import main

    sys.exit(main())
