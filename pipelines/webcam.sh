#!/usr/bin/env bash
# Live webcam → animestyle → a window.
set -euo pipefail
source "$(dirname "$0")/live-options.sh"

usage() {
  cat <<USAGE
usage: $(basename "$0") [options]

Shows a V4L2 camera stylized by animestyle in a window.

options:
  --device PATH          camera device (default /dev/video0)
$(live_options_usage)
  -h, --help             this help
USAGE
}

device=/dev/video0
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) if live_option "$@"; then shift "$consumed"; else
         echo "error: unknown option $1" >&2; usage >&2; exit 2; fi ;;
  esac
done
check_live_options

# The camera's raw format (YUY2, NV12, I420, …) goes through scaling and animestyle as it is; the
# first videoconvert only acts for formats animestyle does not take (e.g. GRAY8), the last only
# for a window that needs another format.
pipeline="v4l2src device=$device ! videoconvert ! videoscale ! video/x-raw,width=$width,height=$height ! \
videorate ! video/x-raw,framerate=$fps/1 ! animestyle ${props[*]} ! videoconvert ! autovideosink sync=false"
if [ "$print" = 1 ]; then echo "$pipeline"; exit 0; fi
[ -e "$device" ] || { echo "error: no camera at $device; pass --device /dev/videoN (see 'ls /dev/video*')" >&2; exit 1; }

source "$(dirname "$0")/common.sh"
# shellcheck disable=SC2086
exec gst-launch-1.0 -e $pipeline
