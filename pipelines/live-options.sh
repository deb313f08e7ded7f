# Sourced by webcam.sh and virtual-camera.sh: the options both take, and their checks.
size=1280x720; fps=30; props=(); print=0

live_options_usage() {
  cat <<USAGE
  --size WxH             frame size (default 1280x720)
  --fps N                frame rate (default 30)
  --model PATH           ONNX generator (default: the model embedded in the plugin)
  --view V               stylized | original | split (default stylized)
  --policy P             realtime-policy: auto | latest | drop | every-frame (default auto, which
                         is latest for a camera: every frame leaves on time, inference runs on
                         the newest frame)
  --print                print the gst-launch pipeline instead of running it
USAGE
}

# Takes one shared option from "$@" and sets `consumed` to the number of words it used;
# returns 1 when "$1" is not a shared option.
live_option() {
  case "$1" in
    --size) size="${2-}"; consumed=2 ;;
    --fps) fps="${2-}"; consumed=2 ;;
    --model) props+=("model=${2-}"); consumed=2 ;;
    --view) props+=("view=${2-}"); consumed=2 ;;
    --policy) props+=("realtime-policy=${2-}"); consumed=2 ;;
    --print) print=1; consumed=1 ;;
    *) return 1 ;;
  esac
}

# Checks the shared options and sets `width` and `height`.
check_live_options() {
  [[ "$size" =~ ^[0-9]+x[0-9]+$ ]] || { echo "error: --size must look like 1280x720, not '$size'" >&2; exit 2; }
  [[ "$fps" =~ ^[0-9]+$ ]] || { echo "error: --fps must be a whole number, not '$fps'" >&2; exit 2; }
  width=${size%x*}; height=${size#*x}
}
