#!/usr/bin/env bash
# Webcam → animestyle → a v4l2loopback device that OBS, Zoom and browsers see as a camera.
set -euo pipefail
source "$(dirname "$0")/live-options.sh"

usage() {
  cat <<USAGE
usage: $(basename "$0") [options]

Stylizes a V4L2 camera and writes it to a v4l2loopback virtual camera.

One-time set-up (Debian: apt install v4l2loopback-dkms; needs root):
  sudo modprobe v4l2loopback devices=1 video_nr=10 card_label="animestyle" exclusive_caps=1
exclusive_caps=1 makes Chrome/Zoom list the device; OBS lists it either way (add a
"Video Capture Device" source and pick "animestyle").

options:
  --device PATH          real camera (default /dev/video0)
  --output PATH          v4l2loopback device (default /dev/video10)
  --test-source          use a test pattern instead of a camera (no camera needed)
  -h, --help             this help

The output is YUY2 (4:2:2), the format browsers, Zoom and OBS all accept from a camera.
USAGE
}

device=/dev/video0; output=/dev/video10; test_source=0
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    --test-source) test_source=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) if live_option "$@"; then shift "$consumed"; else
         echo "error: unknown option $1" >&2; usage >&2; exit 2; fi ;;
  esac
done
check_live_options

if [ "$test_source" = 1 ]; then
  source_part="videotestsrc is-live=true pattern=ball"
else
  source_part="v4l2src device=$device"
fi
# YUY2 from the source to the loopback device: a YUY2 camera is stylized in its own format and
# the videoconverts pass it through; they convert only for a camera with another format.
pipeline="$source_part ! videoconvert ! video/x-raw,format=YUY2 ! videoscale ! videorate ! \
video/x-raw,width=$width,height=$height,framerate=$fps/1 ! animestyle ${props[*]} ! \
videoconvert ! video/x-raw,format=YUY2 ! v4l2sink device=$output sync=false"
if [ "$print" = 1 ]; then echo "$pipeline"; exit 0; fi
if [ "$test_source" = 0 ] && [ ! -e "$device" ]; then
  echo "error: no camera at $device; pass --device /dev/videoN (see 'ls /dev/video*'), or --test-source" >&2
  exit 1
fi
if [ ! -e "$output" ]; then
  echo "error: no v4l2loopback device at $output. Load the module first:" >&2
  echo "  sudo modprobe v4l2loopback devices=1 video_nr=${output#/dev/video} card_label=animestyle exclusive_caps=1" >&2
  exit 1
fi

source "$(dirname "$0")/common.sh"
# shellcheck disable=SC2086
exec gst-launch-1.0 -e $pipeline
