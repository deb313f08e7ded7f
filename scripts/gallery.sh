#!/usr/bin/env bash
# Makes docs/gallery.png and the evaluate report in docs/evaluate/: the held-out photos and two
# stills of real footage (vtest.avi, never trained on) at 1280x720 through the element, as
# users get them. Rows: images; columns: input | before cel shading (the default with
# cel-shading=0: the look before issue #25's cel stage) | new default (default properties) |
# second style (style=painted), whole frames on the left and 1:1 crops of each image's busiest
# region (a face, fine structure) on the right.
#
# When the git-ignored peers/ folder holds the AnimeGANv3 peers (scripts/fetch-peers.sh), a
# second report with them beside ours goes to peers/evaluate/ (never committed: their licence
# is non-commercial; commit their figures, not their pictures), with every frame saved for
# blind panels (scripts/blind-panel.py).
#
#   bash scripts/gallery.sh [OUT_DIR]     (default docs/evaluate; the gallery goes to docs/gallery.png)
#   PEERS=0 bash scripts/gallery.sh       (skip the peers report even when peers/ exists)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-docs/evaluate}"
VTEST=/usr/share/doc/opencv-doc/examples/data/vtest.avi

bash scripts/fetch-data.sh >/dev/null
bash scripts/fetch-vgg16.sh >/dev/null
cargo build --release --locked -q -p animestyle-train
train=target/release/animestyle-train
[ -n "${CARGO_TARGET_DIR:-}" ] && train="$CARGO_TARGET_DIR/release/animestyle-train"
ours=(--model "new default=embedded"
  --model "second style (painted)=embedded" --set-for "second style (painted):style=painted")
measures=(--photos data/held-out --style data/style-held-out --perceptual data/weights/vgg16.safetensors
  --probe-photos data/photos --probe-drawings data/style --video "$VTEST")
"$train" evaluate \
  --model "before cel shading=embedded" --set-for "before cel shading:cel-shading=0" \
  "${ours[@]}" "${measures[@]}" --out "$OUT"
[ "$OUT" = docs/evaluate ] && cp docs/evaluate/gallery.png docs/gallery.png
echo "gallery: $OUT/gallery.png, report $OUT/report.md"

# The peers, with their own look (no animestyle metadata: no ink, full-frame inference) and
# measured on the stills only: at full frame size they take seconds a frame.
peers=()
for p in "tiny-cute:AnimeGANv3 tiny" "shinkai:AnimeGANv3 Shinkai" "hayao:AnimeGANv3 Hayao"; do
  f="peers/animeganv3-${p%%:*}.onnx"
  [ -f "$f" ] && peers+=(--model "${p#*:}=$f" --stills-only "${p#*:}")
done
if [ ${#peers[@]} -gt 0 ] && [ "${PEERS:-1}" != 0 ]; then
  "$train" evaluate "${ours[@]}" "${peers[@]}" "${measures[@]}" --temporal-frames 0 --save-frames \
    --out peers/evaluate
  echo "gallery: ours beside the peers in peers/evaluate/report.md (local only)"
fi
