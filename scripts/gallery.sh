#!/usr/bin/env bash
# Makes docs/gallery.png and prints the quality table (PSNR/SSIM vs the teacher, edge
# sharpness of guided vs bilinear upsampling) for a model on the held-out photos and two
# frames of real footage (vtest.avi, never trained on).
#
#   bash scripts/gallery.sh [MODEL.onnx] [OUT.png]     (defaults: the embedded model, docs/gallery.png)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-}"
OUT="${2:-docs/gallery.png}"
VTEST=/usr/share/doc/opencv-doc/examples/data/vtest.avi

bash scripts/fetch-data.sh >/dev/null
frames=data/held-out-frames
if [ ! -f "$frames/vtest-0004.png" ]; then
  mkdir -p "$frames"
  # One frame every 10 s of the 79 s clip; frames 1 and 4 go into the gallery.
  gst-launch-1.0 -q filesrc location="$VTEST" ! decodebin ! videoconvert ! videorate ! \
    video/x-raw,framerate=1/10 ! pngenc ! multifilesink location="$frames/vtest-%04d.png"
fi
args=(--out "$OUT")
[ -n "$MODEL" ] && args+=(--model "$MODEL")
cargo run --release --locked -q -p animestyle-train --example gallery -- "${args[@]}" \
  data/held-out/astronaut.png data/held-out/building.jpg data/held-out/fruits.jpg \
  data/held-out/leuvenB.jpg data/held-out/squirrel_cls.jpg "$frames/vtest-0001.png" "$frames/vtest-0004.png"
