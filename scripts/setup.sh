#!/usr/bin/env bash
# Installs everything animestyle needs on Debian 12: GStreamer (apt), a project-local
# ONNX Runtime (pip, into .venv) and the sample footage (opencv-doc). Idempotent: each
# step is skipped when what it installs is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION="${ORT_VERSION:-1.31.1}"
GPU="${GPU:-0}"

APT_PACKAGES=(
  pkg-config
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  gstreamer1.0-plugins-base-apps opencv-doc python3-venv unzip
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Project-local ONNX Runtime. The wheel ships only libonnxruntime.so.<version>; the element
# finds it in .venv by itself (see src/ort_loader.rs), so no symlink or env var is needed.
pkg="onnxruntime"
[ "$GPU" = "1" ] && pkg="onnxruntime-gpu"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import importlib.metadata as m; assert m.version('$pkg') == '$ORT_VERSION'" 2>/dev/null; then
  echo "setup: installing $pkg==$ORT_VERSION into .venv"
  .venv/bin/pip install -q --disable-pip-version-check "$pkg==$ORT_VERSION"
fi
lib=$(ls .venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so* 2>/dev/null | head -n1)
if [ -z "$lib" ]; then
  echo "setup: ONNX Runtime library not found in .venv after install" >&2
  exit 1
fi
echo "setup: ONNX Runtime library: $lib"
