#!/usr/bin/env bash
# Snakemake runs this once after creating the conda env, with the env active and the workflow's
# working directory (the repository root) as current directory.
set -euo pipefail
LTH_VENV="$CONDA_PREFIX" bash envs/install.sh
