#!/usr/bin/env python3
"""Chooses the clip-art subset of Debian openclipart-png that scripts/fetch-data.sh installs.

Usage: select-clipart.py ROOT [N] > scripts/clipart-subset.txt
  ROOT: the extracted package's usr/share/openclipart/png folder (dpkg-deb -x).

Standard library only (no PIL): sizes come from the PNG IHDR chunk, pixels from a small
zlib + PNG-unfilter decoder. The rule, deterministic for a given package version:

 1. candidates: regular files (not symlinks) in the illustration categories below (logos,
    flags/signs, shapes, computer icons, maps and "unsorted" are left out), colour type RGB,
    palette or RGBA (grey ones are never coloured), 8-bit (palette: any depth), not
    interlaced, short side >= 128 px and at most 4 Mpx (some are 170 Mpx);
 2. order: by SHA-1 of the relative path (a stable shuffle, so the subset spreads over all
    categories instead of taking the first folders);
 3. keep a candidate if it is "flat colours + dark outlines" clip art: at least 15 % of the
    image is opaque (no thin line drawings), at least 25 % of the opaque pixels are coloured
    (max - min channel > 40: not monochrome) and at least 1 % of them are dark (luma < 64:
    outlines), counted on every 2nd pixel of every 2nd row;
 4. stop after N kept (default 200).

Output: one line per kept file, "PATH<TAB>SHA256<TAB>WxH", in the order of step 2.
"""

import hashlib
import os
import struct
import sys
import zlib

CATEGORIES = {
    "animals", "buildings", "containers", "decorations", "education", "electronics", "food",
    "office", "people", "plants", "recreation", "science", "tools", "transportation",
}
MIN_SHORT_SIDE = 128
MAX_PIXELS = 4_000_000
MIN_OPAQUE = 0.15
MIN_COLOURED = 0.25
MIN_DARK = 0.01
SAMPLE_STEP = 2  # every 2nd pixel of every 2nd row is counted (all rows are decoded)


def chunks(data):
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        yield kind, data[pos + 8:pos + 8 + length]
        pos += 12 + length


def header(path):
    with open(path, "rb") as f:
        head = f.read(33)
    if len(head) < 33 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">IIBBBBB", head[16:29])  # w, h, depth, colour type, comp, filter, interlace


def unfilter(raw, width_bytes, height, bpp):
    """PNG filters 0-4, row by row; returns the rows (bytearrays)."""
    rows = []
    prev = bytearray(width_bytes)
    stride = width_bytes + 1
    for y in range(height):
        ft = raw[y * stride]
        line = bytearray(raw[y * stride + 1:(y + 1) * stride])
        if ft == 1:
            for i in range(bpp, width_bytes):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ft == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif ft == 3:
            for i in range(width_bytes):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif ft == 4:
            for i in range(width_bytes):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        elif ft != 0:
            raise ValueError(f"bad filter type {ft}")
        rows.append(line)
        prev = line
    return rows


def stats(path):
    """(opaque fraction, coloured fraction of opaque, dark fraction of opaque) of sampled pixels."""
    with open(path, "rb") as f:
        data = f.read()
    w, h, depth, ct, _, _, _ = struct.unpack(">IIBBBBB", data[16:29])
    idat = bytearray()
    palette, trns = None, None
    for kind, body in chunks(data):
        if kind == b"IDAT":
            idat += body
        elif kind == b"PLTE":
            palette = [tuple(body[i:i + 3]) for i in range(0, len(body) - 2, 3)]
        elif kind == b"tRNS":
            trns = body
    raw = zlib.decompress(bytes(idat))
    channels = {2: 3, 3: 1, 6: 4}[ct]
    width_bytes = (w * channels * depth + 7) // 8
    rows = unfilter(raw, width_bytes, h, max(1, channels * depth // 8))
    n = opaque = coloured = dark = 0
    for y in range(0, h, SAMPLE_STEP):
        row = rows[y]
        for x in range(0, w, SAMPLE_STEP):
            if ct == 3:
                bit = x * depth
                idx = (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1)
                r, g, b = palette[idx]
                a = trns[idx] if trns is not None and idx < len(trns) else 255
            elif ct == 2:
                r, g, b = row[3 * x:3 * x + 3]
                a = 255
            else:
                r, g, b, a = row[4 * x:4 * x + 4]
            n += 1
            if a <= 128:
                continue
            opaque += 1
            if max(r, g, b) - min(r, g, b) > 40:
                coloured += 1
            if 0.299 * r + 0.587 * g + 0.114 * b < 64:
                dark += 1
    if opaque == 0:
        return 0.0, 0.0, 0.0
    return opaque / n, coloured / opaque, dark / opaque


def candidates(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if not name.endswith(".png") or os.path.islink(path) or rel.split(os.sep)[0] not in CATEGORIES:
                continue
            hd = header(path)
            if hd is None:
                continue
            w, h, depth, ct, _, _, interlace = hd
            if ct not in (2, 3, 6) or (ct != 3 and depth != 8) or interlace:
                continue
            if min(w, h) < MIN_SHORT_SIDE or w * h > MAX_PIXELS:
                continue
            out.append((hashlib.sha1(rel.encode()).hexdigest(), rel, w, h))
    out.sort()
    return out


def main():
    root = sys.argv[1]
    want = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    kept = 0
    for _, rel, w, h in candidates(root):
        path = os.path.join(root, rel)
        try:
            opaque, coloured, dark = stats(path)
        except (ValueError, zlib.error, KeyError, IndexError, TypeError) as e:
            print(f"select-clipart: skipping {rel}: {e}", file=sys.stderr)
            continue
        if opaque < MIN_OPAQUE or coloured < MIN_COLOURED or dark < MIN_DARK:
            continue
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print(f"{rel}\t{digest}\t{w}x{h}", flush=True)
        kept += 1
        if kept >= want:
            break
    if kept < want:
        print(f"select-clipart: only {kept} of {want} found", file=sys.stderr)


if __name__ == "__main__":
    main()
