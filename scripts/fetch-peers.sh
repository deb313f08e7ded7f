#!/usr/bin/env bash
# fetch-peers.sh — the comparison peers: three AnimeGANv3 models, converted to ONNX.
#
# The models are AnimeGANv3 by Xin Chen (https://github.com/TachibanaYoshino/AnimeGANv3), under a
# NON-COMMERCIAL licence, as packaged in `resources/` of github.com/tuanmjnh/AnimeGANv3_Video.
# They are kept in the git-ignored peers/ folder for local comparison only: never committed,
# never needed by CI or tests, and never trained on or distilled from (neither their weights
# nor their outputs).
#
#   scripts/fetch-peers.sh PATH_TO_AnimeGANv3_Video_CHECKOUT_OR_BARE_GIT_DIR
#
# The argument is a work tree holding resources/ or a (bare) git directory, read with `git show`.
# The conversion runs in a throwaway venv, ${PEERS_VENV:-/var/tmp/peers-venv}, made if missing:
# tensorflow-cpu 2.15.1, tf2onnx 1.16.1 (opset 13), onnx 1.17.0, numpy 1.26.4, protobuf 3.20.3,
# and onnxruntime 1.31.1 installed with --no-deps (it declares protobuf>=4.25.8, tf2onnx 1.16.1
# pins protobuf~=3.20; ONNX Runtime's inference does not use protobuf, so the two run together).
# Outputs, each written as peers/.NAME.tmp, checked with ONNX Runtime, then moved into place:
#   peers/animeganv3-tiny-cute.onnx  resources/AnimeGANv3_tiny_Cute.onnx, copied as it is
#   peers/animeganv3-shinkai.onnx    resources/AnimeGANv3_Shinkai_37.pb (TF frozen graph)
#   peers/animeganv3-hayao.onnx      resources/AnimeGANv3_Hayao_36_QUANTIZED_fp16.tflite; its fp16
#                                    quantisation flushed the norms' epsilon (1e-5) to 0, which gives
#                                    NaN on any flat frame (a black frame), so 1e-5 is put back
# All take NHWC RGB float32 in [-1, 1] (x/127.5 - 1) and give the same back; see peers/README.md.
set -euo pipefail

usage="usage: scripts/fetch-peers.sh PATH_TO_AnimeGANv3_Video_CHECKOUT_OR_BARE_GIT_DIR"
[ "$#" -eq 1 ] || { echo "$usage" >&2; exit 2; }
SRC="$1"
[ -d "$SRC" ] || { echo "fetch-peers: $SRC is not a folder; $usage" >&2; exit 2; }
SRC="$(cd "$SRC" && pwd)"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/peers"
VENV="${PEERS_VENV:-/var/tmp/peers-venv}"
PY="$VENV/bin/python"

mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fetch-peers.XXXXXX")"
cleanup() {
  rm -rf "$WORK"
  rm -f "$OUT"/.animeganv3-*.onnx.tmp
}
trap cleanup EXIT

log() { echo "fetch-peers: $*" >&2; }
die() { log "$*"; exit 1; }

# extract NAME SHA256: resources/NAME from the work tree or the git directory into $WORK/NAME.
extract() {
  local name="$1" want="$2" got
  if [ -f "$SRC/resources/$name" ]; then
    cp "$SRC/resources/$name" "$WORK/$name"
  elif git --git-dir="$SRC" cat-file -e "HEAD:resources/$name" 2>/dev/null; then
    git --git-dir="$SRC" show "HEAD:resources/$name" >"$WORK/$name" \
      || die "git could not read resources/$name from $SRC (a blob missing from a partial clone?)"
  else
    die "$SRC holds neither resources/$name nor a git repository with it; $usage"
  fi
  if head -c 200 "$WORK/$name" | grep -q "git-lfs.github.com"; then
    die "resources/$name is a Git LFS pointer, not the model: run 'git lfs pull' in the checkout"
  fi
  got="$(sha256sum "$WORK/$name" | cut -d' ' -f1)"
  if [ "$got" != "$want" ]; then
    log "warning: resources/$name has sha256 $got, not the $want this script was made with"
  fi
}

# The venv: made (or completed) only when it cannot import the pinned set.
venv_ok() {
  [ -x "$PY" ] && "$PY" - <<'EOF' 2>/dev/null
import importlib.metadata as md
want = {"tensorflow-cpu": "2.15.1", "tf2onnx": "1.16.1", "onnx": "1.17.0", "numpy": "1.26.4",
        "protobuf": "3.20.3", "onnxruntime": "1.31.1"}
assert all(md.version(k) == v for k, v in want.items())
import tensorflow, tf2onnx, onnx, onnxruntime  # noqa: E401,F401
EOF
}
if ! venv_ok; then
  log "making the conversion venv in $VENV (tensorflow-cpu, about 600 MB) ..."
  [ -x "$PY" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    tensorflow-cpu==2.15.1 tf2onnx==1.16.1 onnx==1.17.0 numpy==1.26.4 protobuf==3.20.3 pillow
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps onnxruntime==1.31.1
  venv_ok || die "the venv in $VENV still lacks the pinned packages; remove it and run again"
fi

# tf2onnx ARGS... LOG: runs the converter quietly, showing its log only when it fails.
tf2onnx() {
  local logf="${*: -1}"
  set -- "${@:1:$(($# - 1))}"
  TF_CPP_MIN_LOG_LEVEL=2 "$PY" -m tf2onnx.convert "$@" --opset 13 >"$logf" 2>&1 \
    || { tail -30 "$logf" >&2; die "tf2onnx failed (log above)"; }
}

# fix_hayao TMP: puts back the epsilon (1e-5) of the 26 instance/layer norms, Sqrt(var + eps),
# that the fp16 TFLite export flushed to 0 (the Shinkai graph of the same generator keeps 1e-5).
fix_hayao() {
  "$PY" - "$1" <<'EOF'
import sys
import numpy as np
import onnx
from onnx import numpy_helper

path = sys.argv[1]
m = onnx.load(path)
g = m.graph
inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
producer = {o: n for n in g.node for o in n.output}
eps_name = "restored_norm_epsilon"
fixed = 0
for n in g.node:
    if n.op_type != "Sqrt" or n.input[0] not in producer:
        continue
    add = producer[n.input[0]]
    if add.op_type != "Add":
        continue
    for k, name in enumerate(add.input):
        v = inits.get(name)
        if v is not None and v.size == 1 and float(v.ravel()[0]) == 0.0:
            if fixed == 0:
                g.initializer.append(numpy_helper.from_array(np.full(v.shape, 1e-5, np.float32), eps_name))
            add.input[k] = eps_name
            fixed += 1
if fixed != 26:
    sys.exit(f"fix_hayao: expected 26 norms with a zero epsilon, found {fixed}")
used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
for init in [i for i in g.initializer if i.name not in used]:
    g.initializer.remove(init)
onnx.checker.check_model(m)
onnx.save(m, path)
EOF
}

# publish TMP NAME SIDE: lowers the IR version where it is above 13 (the most ONNX Runtime 1.31.1
# loads), loads TMP with ONNX Runtime, runs a zero frame (SIDE×SIDE where H and W are free, the
# model's own size where fixed), insists on a finite output of the input's shape, then moves TMP
# to peers/NAME and prints one line about it.
publish() {
  local tmp="$1" name="$2" side="$3" line
  line="$("$PY" - "$tmp" "$name" "$side" <<'EOF'
import os, sys, time
import numpy as np
import onnx
import onnxruntime as ort

path, name, side = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = onnx.load(path)
if m.ir_version > 13:
    m.ir_version = 8
    onnx.save(m, path)
s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
i, o = s.get_inputs()[0], s.get_outputs()[0]
assert i.type == "tensor(float)" and i.shape[-1] == 3, (i.type, i.shape)
dynamic = not all(isinstance(d, int) for d in i.shape[1:3])
shape = [1, side, side, 3] if dynamic else [1] + list(i.shape[1:])
x = np.zeros(shape, np.float32)
t = time.perf_counter()
y = s.run(None, {i.name: x})[0]
ms = (time.perf_counter() - t) * 1000
assert list(y.shape) == shape, (y.shape, shape)
assert np.isfinite(y).all() and np.abs(y).max() <= 1.0, "non-finite or out-of-range output"
def dims(shape):
    return "x".join(str(d) if isinstance(d, int) else "?" for d in shape)
kib = os.path.getsize(path) // 1024
print(f"{name}: {kib} KiB, IR {m.ir_version}, in {i.name} {dims(i.shape)} -> out {o.name} "
      f"{dims(o.shape)}, {'H,W dynamic' if dynamic else 'fixed size'}; "
      f"zero {dims(shape)} frame ok in {ms:.0f} ms")
EOF
)" || die "$tmp failed its check with ONNX Runtime"
  mv -f "$tmp" "$OUT/$name"
  echo "$line"
}

extract AnimeGANv3_tiny_Cute.onnx 3ef02d6b2939a0e81621abc5beb0e741bb58654570033cd0e97f6b6ef37c1171
extract AnimeGANv3_Shinkai_37.pb ecae7b7dc212e2dcb5f484ac50946740cd6b5e630233989799a35526f611a0a9
extract AnimeGANv3_Hayao_36_QUANTIZED_fp16.tflite \
  53daf9b8da8350ac6e1c1171efdbb7bad55f7221c7d213925125841f83e52f35

cp "$WORK/AnimeGANv3_tiny_Cute.onnx" "$OUT/.animeganv3-tiny-cute.onnx.tmp"
publish "$OUT/.animeganv3-tiny-cute.onnx.tmp" animeganv3-tiny-cute.onnx 256

tf2onnx --graphdef "$WORK/AnimeGANv3_Shinkai_37.pb" --inputs AnimeGANv3_input:0 \
  --outputs generator_1/main/out_layer:0 --output "$OUT/.animeganv3-shinkai.onnx.tmp" \
  "$WORK/shinkai.log"
publish "$OUT/.animeganv3-shinkai.onnx.tmp" animeganv3-shinkai.onnx 256

tf2onnx --tflite "$WORK/AnimeGANv3_Hayao_36_QUANTIZED_fp16.tflite" \
  --output "$OUT/.animeganv3-hayao.onnx.tmp" "$WORK/hayao.log"
fix_hayao "$OUT/.animeganv3-hayao.onnx.tmp"
publish "$OUT/.animeganv3-hayao.onnx.tmp" animeganv3-hayao.onnx 512

log "done: NON-COMMERCIAL models in $OUT, for local comparison only (see the header)"
