#!/usr/bin/env bash
# Stylizes a video file into an H.264 MP4.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") [options] INPUT OUTPUT.mp4

Decodes INPUT (any file GStreamer can decode), stylizes every frame with animestyle and
writes an H.264 MP4. Every frame is kept, with its timestamp; when the decoder leaves some
frames without a usable one (e.g. an AVI with B-frames), the video is restamped at its frame
rate. The first audio stream, if any, is kept too (re-encoded to AAC, in sync; audiorate
makes its timestamps contiguous, filling gaps over 40 ms with silence).

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
audiorate ! avenc_aac ! aacparse ! queue ! mux."
fi

# Timestamps (issue #14). AVI stores no presentation times, so for MPEG-4 ASP with B-frames
# (Megamind.avi: packed B-frames, 7-byte N-VOPs) the decoder guesses them and gives some
# frames the previous frame's time (or 1 ns more). x264enc passed those on and h264parse
# (GstBaseParse) read a repeated PTS as "no timestamp": "mp4mux: Buffer has no PTS". So the
# decoded times are checked first (one extra decode, cheap next to stylizing): if any frame
# has none or comes less than a quarter frame after the previous one, the video is restamped
# at its frame rate from 0 (identity datarate = bytes per frame x fps); otherwise every time
# is kept, variable rates included. x264enc's avc/au output needs no h264parse for mp4mux.
probe_timestamps() {
  gst-launch-1.0 -v filesrc location="$in" ! decodebin caps=video/x-raw ! video/x-raw ! videoconvert ! \
    video/x-raw,format=I420 ! fakesink silent=false 2>&1 | awk '
    function ns(t,  a) { split(t, a, ":"); return ((a[1] * 60 + a[2]) * 60 + a[3]) * 1e9 }
    /GstFakeSink.*GstPad:sink: caps = / && match($0, /framerate=\(fraction\)[0-9]+\/[0-9]+/) {
      split(substr($0, RSTART + 20, RLENGTH - 20), f, "/"); fps_n = f[1]; fps_d = f[2]
    }
    /last-message = chain/ {
      frames++
      if (match($0, /\([0-9]+ bytes/)) { b = substr($0, RSTART + 1, RLENGTH - 7) + 0; if (bytes && b != bytes) resized = 1; bytes = b }
      if (!match($0, /pts: [^,]+/) || substr($0, RSTART + 5, RLENGTH - 5) == "none") { bad++; next }
      t = ns(substr($0, RSTART + 5, RLENGTH - 5))
      if (!timed) first = t
      if (timed && t - last < (fps_n > 0 ? 0.25e9 * fps_d / fps_n : 1e6)) bad++
      timed++; last = t
    }
    END {
      fps = fps_n > 0 ? fps_n / fps_d : (timed > 1 && last > first ? (timed - 1) * 1e9 / (last - first) : 0)
      if (fps == 0) { fps = 25; assumed = 1 }
      printf "%d %d %d %.0f %d\n", frames, bad, resized, bytes * fps, assumed
    }'
}
read -r frames mistimed resized datarate assumed <<<"$(probe_timestamps)"
restamp=""
if [ "${mistimed:-0}" -gt 0 ]; then
  if [ "$resized" -eq 0 ] && [ "$datarate" -gt 0 ] && [ "$datarate" -le 2147483647 ]; then
    restamp="identity single-segment=true ! identity datarate=$datarate !"
    if [ "$assumed" -eq 1 ]; then
      echo "warning: '$in' states no frame rate and its frames have no timestamps; assuming 25 fps" >&2
    elif [ -n "$progress" ]; then
      echo "note: $mistimed of the $frames decoded frames of '$in' have no usable timestamp; restamping the video at its frame rate" >&2
    fi
  else
    echo "warning: $mistimed of the $frames decoded frames of '$in' have no usable timestamp and the video cannot be restamped; the MP4's timing may be off" >&2
  fi
fi

# The encoder's I420 is what animestyle stylizes (in its own planes): a decoder's I420 passes
# the videoconvert untouched, and nothing is converted after the element.
# shellcheck disable=SC2086
gst-launch-1.0 -e -q filesrc location="$in" ! decodebin name=d \
  d. ! video/x-raw ! queue ! videoconvert ! video/x-raw,format=I420 ! animestyle "${props[@]}" ! $progress \
  $restamp x264enc speed-preset=veryfast ! queue ! mux. \
  $audio_branch \
  mp4mux name=mux ! filesink location="$out"
