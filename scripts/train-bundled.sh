#!/usr/bin/env bash
# Reproduces the bundled models, models/animestyle-cel.onnx (style=cel, the default) and
# models/animestyle-painted.onnx (style=painted), with one command:
#
#   bash scripts/train-bundled.sh [RUN_DIR]      (default runs/cel; the painted runs go beside it)
#   ONLY=cel bash scripts/train-bundled.sh       (or ONLY=painted: one of the two)
#
# Installs the open-licence photos (scripts/fetch-data.sh), builds the trainer, trains in
# `teacher` mode, fine-tunes with the temporal stability loss, exactly as recorded in
# models/MODELS.md, and exports with the metadata the element reads. Training is deterministic
# for a given seed and step count; on 2 CPU cores the cel model takes about 40 minutes, the
# painted one about 1 h 45 min (three stages). Ctrl-C saves a
# checkpoint; run the script again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN_DIR="${1:-runs/cel}"
STEPS="${STEPS:-3500}"
STABLE_STEPS="${STABLE_STEPS:-800}"
OUT="${OUT:-models/animestyle-cel.onnx}"
# The generator the element runs at inference-size 384 (long side): space-to-depth ×4, 64
# channels, 6 blocks (see the size sweeps in models/MODELS.md). The teacher draws no lines
# (xdog_phi=0): the element draws them at the frame's size (line-strength), so the network
# learns flat regions and their borders only, and no dark rims around small bright objects.
# Its regions are small enough to keep eyes, teeth and lettering at the network's scale (an
# eye at 216 lines is ~40 px: segments of at least 12 px at scale 40, not 60 at 120) and its
# edge-preserving smoothing is narrow (guided filter radius 2, eps 0.003): a teacher the small
# network can follow, instead of one whose large, unpredictable segments it learnt as blur.
TEACHER=(--teacher-param xdog_phi=0 --teacher-param segment_min_size=12 --teacher-param segment_scale=40
         --teacher-param guided_radius=2 --teacher-param guided_eps=0.003)
COMMON=(--mode teacher --photos data/photos/opencv --photos data/photos/skimage --photos data/photos/sklearn
        --photos data/photos/people --photos data/photos/lomiri --batch 4 --crop 128
        --space-to-depth 4 --c1 16 --c2 32 --c3 64 --blocks 6 --expand 2 --held-out 3 --checkpoint-every 100
        "${TEACHER[@]}")
TRAIN_ARGS=("${COMMON[@]}" --steps "$STEPS" --seed 1 --sample-every 250)
# Fine-tune from the trained networks: the same losses plus the temporal stability term.
STABLE_ARGS=("${COMMON[@]}" --steps "$STABLE_STEPS" --seed 2 --init-from "$RUN_DIR" --stability 10
             --warmup 0 --sample-every 100)

bash scripts/fetch-data.sh
cargo build --release --locked -p animestyle-train
train=target/release/animestyle-train
[ -n "${CARGO_TARGET_DIR:-}" ] && train="$CARGO_TARGET_DIR/release/animestyle-train"

# train_or_resume DIR ARGS...: a run that was interrupted continues exactly where it stopped.
train_or_resume() {
  local dir=$1
  shift
  if [ -f "$dir/config.json" ]; then
    "$train" train --out "$dir" --resume "$@"
  else
    "$train" train --out "$dir" "$@"
  fi
}
if [ "${ONLY:-cel}" = cel ] || [ -z "${ONLY:-}" ]; then
  train_or_resume "$RUN_DIR" "${TRAIN_ARGS[@]}"
  train_or_resume "$RUN_DIR-stable" "${STABLE_ARGS[@]}"
  "$train" export --run "$RUN_DIR-stable" --out "$OUT" --style cel --inference-size 384 --cel-shading 1
fi

# style=painted: anime mode against the Ren'Py drawings with the teacher's lines, two stages,
# as recorded for checkpoints/anime2-base and checkpoints/anime2 in models/MODELS.md (those
# runs were stopped at steps 590 and 810; the learning rate is constant, so --steps gives the
# same networks). Needs the VGG16 weights (scripts/fetch-vgg16.sh, `make weights`).
if [ "${ONLY:-painted}" = painted ] || [ -z "${ONLY:-}" ]; then
  bash scripts/fetch-vgg16.sh
  PAINTED_DIR="$(dirname "$RUN_DIR")/painted"
  PAINTED_COMMON=(--mode anime --photos data/photos --style data/style/renpy --perceptual data/weights/vgg16.safetensors
                  --batch 4 --crop 128 --c1 16 --c2 32 --c3 64 --blocks 6 --expand 2 --held-out 3 --sample-every 100
                  --checkpoint-every 50 --eval-style data/style-held-out --eval-photos data/held-out)
  train_or_resume "$PAINTED_DIR-base" "${PAINTED_COMMON[@]}" --steps 590 --seed 1 --warmup 100 \
    --weight color=2 --weight teacher_l1=5
  train_or_resume "$PAINTED_DIR" "${PAINTED_COMMON[@]}" --steps 810 --seed 3 --warmup 0 --init-from "$PAINTED_DIR-base" \
    --weight teacher_l1=10 --weight content=0.5 --weight color=0 --weight adversarial=2
  # Stage 3: the YUV colour term back at 1 and the cel model's line-free, small-region teacher:
  # fewer colour fringes along dark borders (the element draws the lines), faces keep more.
  train_or_resume "$PAINTED_DIR-v2" "${PAINTED_COMMON[@]}" --steps 400 --seed 4 --warmup 0 --init-from "$PAINTED_DIR" \
    --weight teacher_l1=10 --weight content=0.5 --weight color=1 --weight adversarial=2 "${TEACHER[@]}"
  "$train" export --run "$PAINTED_DIR-v2" --out "${PAINTED_OUT:-models/animestyle-painted.onnx}" --style anime --inference-size 384 --cel-shading 1 --line-strength 1.5
fi
