# Sourced by the pipeline scripts: finds the plugin built in this source tree when the user
# has not installed it, and ONNX Runtime from the tree's `make setup`.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${GST_PLUGIN_PATH:-}" ]; then
  for d in "$here/target/release" "${CARGO_TARGET_DIR:-/nonexistent}/release"; do
    if [ -f "$d/libgstanimestyle.so" ]; then export GST_PLUGIN_PATH="$d"; break; fi
  done
fi
if [ -z "${ORT_DYLIB_PATH:-}" ]; then
  lib=$(ls "$here"/.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so* 2>/dev/null | head -n1 || true)
  [ -n "$lib" ] && export ORT_DYLIB_PATH="$lib"
fi
if ! gst-inspect-1.0 animestyle >/dev/null 2>&1; then
  echo "error: the animestyle GStreamer element was not found. Build it with 'make build' (or" >&2
  echo "'cargo build --release') and set GST_PLUGIN_PATH to the folder holding libgstanimestyle.so." >&2
  exit 1
fi
