#!/usr/bin/env bash
# Installs everything the workflow and its tests need into a virtual environment.
# Idempotent: a second run only checks what is there. The mmcv wheel (C++ ops, ~15 min to
# build on 2 cores) is built once into a cache folder outside the clone and reused afterwards.
#
#   envs/install.sh            # -> .venv with lthsteps installed (editable) + test extras
#
# Environment knobs:
#   LTH_VENV         where the venv goes                  (default: <repo>/.venv)
#   LTH_WHEEL_CACHE  where built wheels are kept           (default: ~/.cache/lth-object-recognition/wheels)
#   PYTHON           interpreter used to create the venv   (default: python3.11, else python3)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${LTH_VENV:-$ROOT/.venv}
CACHE=${LTH_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lth-object-recognition/wheels}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0

log() { printf '[install] %s\n' "$*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv at $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

"${PIP[@]}" install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
# mmcv's setup.py imports pkg_resources, removed in setuptools 81; torch pulls a newer one, so pin after it.
"${PIP[@]}" install -q "setuptools<81" wheel

# The wheel's C++ ops are compiled against one torch ABI (and with or without CUDA):
# the cache key says which.
if command -v nvcc >/dev/null && "$PY" -c 'import torch,sys; sys.exit(not torch.cuda.is_available())'; then
  FLAVOUR=cuda
else
  FLAVOUR=cpu
fi
WHEEL_DIR="$CACHE/mmcv-$MMCV_VERSION-torch-$TORCH_VERSION-$FLAVOUR"

build_mmcv() {
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  log "building mmcv $MMCV_VERSION ($FLAVOUR ops) into $WHEEL_DIR — about 15 min on 2 cores, once"
  "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$work"
  tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work"
  # torch >= 2.14 headers require C++20; mmcv 2.1.0 hard-codes -std=c++17.
  sed -i 's/-std=c++17/-std=c++20/g' "$work/mmcv-$MMCV_VERSION/setup.py"
  local extra=()
  if [ "$FLAVOUR" = cuda ]; then
    extra=(FORCE_CUDA=1 "TORCH_CUDA_ARCH_LIST=$("$PY" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())')")
  fi
  (cd "$work/mmcv-$MMCV_VERSION" &&
    env MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" "${extra[@]}" \
      "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$work/dist" .)
  mkdir -p "$WHEEL_DIR"
  # Move into place only when complete, so an interrupted build never leaves a broken cache.
  mv "$work"/dist/mmcv-*.whl "$WHEEL_DIR/"
}

if ! "$PY" -c "import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null; then
  ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1 || build_mmcv
  "${PIP[@]}" install -q --no-deps "$WHEEL_DIR"/mmcv-*.whl
fi

"${PIP[@]}" install -q -e "$ROOT[test]"
"$PY" -c 'import mmdet, mmcv.ops, lthsteps; print("environment ok: mmdet", mmdet.__version__)'
