#!/usr/bin/env bash
# Live webcam → animestyle → a window.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") [options]

Shows a V4L2 camera stylized by animestyle in a window.

options:
  --device PATH          camera device (default /dev/video0)
  --size WxH             capture size (default 1280x720)
  --fps N                capture frame rate (default 30)
  --model PATH           ONNX generator (default: the model embedded in the plugin)
  --view V               stylized | original | split (default stylized)
  --print                print the gst-launch pipeline instead of running it
  -h, --help             this help
USAGE
}

device=/dev/video0; size=1280x720; fps=30; props=(); print=0
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --fps) fps="$2"; shift 2 ;;
    --model) props+=("model=$2"); shift 2 ;;
    --view) props+=("view=$2"); shift 2 ;;
    --print) print=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$size" =~ ^[0-9]+x[0-9]+$ ]] || { echo "error: --size must look like 1280x720, not '$size'" >&2; exit 2; }
[[ "$fps" =~ ^[0-9]+$ ]] || { echo "error: --fps must be a whole number, not '$fps'" >&2; exit 2; }
width=${size%x*}; height=${size#*x}

pipeline="v4l2src device=$device ! videoconvert ! videoscale ! video/x-raw,width=$width,height=$height ! \
videorate ! video/x-raw,framerate=$fps/1 ! videoconvert ! animestyle ${props[*]} ! videoconvert ! autovideosink sync=false"
if [ "$print" = 1 ]; then echo "$pipeline"; exit 0; fi
[ -e "$device" ] || { echo "error: no camera at $device; pass --device /dev/videoN (see 'ls /dev/video*')" >&2; exit 1; }

source "$(dirname "$0")/common.sh"
# shellcheck disable=SC2086
exec gst-launch-1.0 -e $pipeline
