#!/usr/bin/env bash
# Stylizes a real clip with the embedded model: an MP4 and a before/after PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
input="${1:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}"
outdir="${2:-demo}"
mkdir -p "$outdir"
name=$(basename "${input%.*}")
start=$(date +%s.%N)
bash pipelines/transcode.sh "$input" "$outdir/$name-anime.mp4"
end=$(date +%s.%N)
cargo run --release --locked -q -p gst-plugin-animestyle --example before_after -- "$input" "$outdir/$name-before-after.png"
echo
echo "demo: wrote $outdir/$name-anime.mp4 ($(awk "BEGIN{printf \"%.1f\", $end-$start}") s) and $outdir/$name-before-after.png"
