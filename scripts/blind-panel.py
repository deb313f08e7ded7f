#!/usr/bin/env python3
"""A blind panel of 1:1 crops: one row per crop (a face, fur, a building, an object), the photo
on the left as a reference, then every model's crop in an order shuffled per row and labelled
only A, B, C, … — for viewers who rank the columns without knowing which model made which.

    python3 scripts/blind-panel.py FRAMES_DIR OUT_DIR --crop IMAGE:X,Y [--crop …] [--size 256] [--seed 25]

FRAMES_DIR is what `animestyle-train evaluate --save-frames` writes (`OUT/frames`): one folder
per model (`00-input` is the photo), one PNG per image. X,Y is the crop's top-left corner in
the frame. Writes OUT_DIR/panel.png (what viewers see) and OUT_DIR/key.json (row → letter →
model; never shown to viewers). Each viewer's ranks go in a file RANKS.json,
{"1": ["C", "A", … best to worst], "2": […], …}; then
`python3 scripts/blind-panel.py --score OUT_DIR/key.json RANKS.json …` prints each model's mean
rank over rows and viewers.

Needs Pillow (`pip install pillow`). Local only when peers are in it: never commit the panel.
"""
import argparse
import json
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw


def make(frames, out, crops, size, seed):
    models = sorted(p for p in Path(frames).iterdir() if p.is_dir())
    reference = [m for m in models if m.name.endswith("-input")]
    if not reference:
        sys.exit(f"blind-panel: {frames} has no *-input folder; run evaluate with --save-frames")
    reference = reference[0]
    candidates = [m for m in models if m != reference]
    rng = random.Random(seed)
    pad, label_h = 8, 22
    cols = 1 + len(candidates)
    sheet = Image.new("RGB", (cols * (size + pad) + pad + 40, len(crops) * (size + pad + label_h) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    key = {}
    for r, (image, (x, y)) in enumerate(crops):
        order = candidates[:]
        rng.shuffle(order)
        row = str(r + 1)
        key[row] = {"image": image, "crop": [x, y, size], "columns": {}}
        top = pad + r * (size + pad + label_h)
        draw.text((4, top + label_h + size // 2), row, fill="black")
        for c, folder in enumerate([reference] + order):
            path = folder / f"{image}.png"
            if not path.exists():
                sys.exit(f"blind-panel: {path} is missing")
            tile = Image.open(path).convert("RGB").crop((x, y, x + size, y + size))
            left = 40 + pad + c * (size + pad)
            sheet.paste(tile, (left, top + label_h))
            name = "photo" if c == 0 else chr(ord("A") + c - 1)
            draw.text((left + 4, top + 4), name, fill="black")
            if c > 0:
                key[row]["columns"][name] = folder.name.split("-", 1)[1]
    Path(out).mkdir(parents=True, exist_ok=True)
    sheet.save(Path(out) / "panel.png")
    (Path(out) / "key.json").write_text(json.dumps(key, indent=1))
    print(f"blind-panel: {Path(out) / 'panel.png'} ({len(crops)} rows × {len(candidates)} models), key in key.json")


def score(key_path, rank_paths):
    key = json.loads(Path(key_path).read_text())
    totals, counts = {}, {}
    for rp in rank_paths:
        ranks = json.loads(Path(rp).read_text())
        for row, letters in ranks.items():
            columns = key[row]["columns"]
            if sorted(letters) != sorted(columns):
                sys.exit(f"blind-panel: {rp} row {row} ranks {letters}, expected each of {sorted(columns)} once")
            for rank, letter in enumerate(letters, 1):
                model = columns[letter]
                totals[model] = totals.get(model, 0) + rank
                counts[model] = counts.get(model, 0) + 1
    print("| model | mean rank | rankings |")
    print("|---|---|---|")
    for model in sorted(totals, key=lambda m: totals[m] / counts[m]):
        print(f"| {model} | {totals[model] / counts[model]:.2f} | {counts[model]} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("frames", nargs="?")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--crop", action="append", default=[], metavar="IMAGE:X,Y")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=25)
    ap.add_argument("--score", nargs="+", metavar="FILE", help="KEY.json RANKS.json [RANKS.json …]")
    a = ap.parse_args()
    if a.score:
        if len(a.score) < 2:
            sys.exit("blind-panel: --score KEY.json RANKS.json [RANKS.json …]")
        return score(a.score[0], a.score[1:])
    if not a.frames or not a.out or not a.crop:
        sys.exit("blind-panel: give FRAMES_DIR OUT_DIR and at least one --crop IMAGE:X,Y")
    crops = []
    for c in a.crop:
        try:
            image, xy = c.rsplit(":", 1)
            x, y = (int(v) for v in xy.split(","))
        except ValueError:
            sys.exit(f"blind-panel: --crop {c}: expected IMAGE:X,Y, e.g. astronaut:520,60")
        crops.append((image, (x, y)))
    make(a.frames, a.out, crops, a.size, a.seed)


if __name__ == "__main__":
    main()
