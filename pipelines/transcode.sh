#!/usr/bin/env bash
# Stylizes a video file into an H.264 MP4.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") [options] INPUT OUTPUT.mp4

Decodes INPUT (any file GStreamer can decode), stylizes every frame with animestyle and
writes an H.264 MP4. Every frame is kept, with its timestamp. The first audio stream, if
any, is kept too (re-encoded to AAC, timing untouched).

options:
  --model PATH           ONNX generator (default: the model embedded in the plugin)
  --inference-size N     longest side the network sees (default: the model's choice)
  --strength S           0..1 blend of stylized over original (default 1)
  --quiet                no progress display
  -h, --help             this help
USAGE
}

props=()
progress="progressreport update-freq=2 !"
while [ $# -gt 0 ]; do
  case "$1" in
    --model) props+=("model=$2"); shift 2 ;;
    --inference-size) props+=("inference-size=$2"); shift 2 ;;
    --strength) props+=("strength=$2"); shift 2 ;;
    --quiet) progress=""; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { usage >&2; exit 2; }
in="$1"; out="$2"
[ -r "$in" ] || { echo "error: cannot read input '$in'" >&2; exit 1; }
outdir=$(dirname -- "$out")
[ -d "$outdir" ] && [ -w "$outdir" ] || { echo "error: cannot write to '$outdir' (for '$out')" >&2; exit 1; }

source "$(dirname "$0")/common.sh"

# What the input holds (gst-discoverer-1.0, from gstreamer1.0-plugins-base-apps).
if ! command -v gst-discoverer-1.0 >/dev/null; then
  echo "error: gst-discoverer-1.0 not found; install gstreamer1.0-plugins-base-apps (make setup does)" >&2
  exit 1
fi
streams=$(gst-discoverer-1.0 "$in" 2>&1 || true)
if ! grep -qE '^ +video #' <<<"$streams"; then
  echo "error: '$in' has no video stream GStreamer can decode:" >&2
  grep -iE 'error|missing|container|audio' <<<"$streams" | head -5 >&2
  exit 1
fi
audio_branch=""
if grep -qE '^ +audio #' <<<"$streams"; then
  audio_branch="d. ! audio/x-raw ! queue max-size-time=3000000000 ! audioconvert ! audioresample ! \
avenc_aac ! aacparse ! queue ! mux."
fi

# shellcheck disable=SC2086
gst-launch-1.0 -e -q filesrc location="$in" ! decodebin name=d \
  d. ! video/x-raw ! queue ! videoconvert ! animestyle "${props[@]}" ! $progress videoconvert ! \
  video/x-raw,format=I420 ! x264enc speed-preset=veryfast ! h264parse ! queue ! mux. \
  $audio_branch \
  mp4mux name=mux ! filesink location="$out"
