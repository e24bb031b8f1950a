#!/usr/bin/env bash
# The ONNX Runtime peer's graph builder (tools/onnx_qwen3.py) on a tiny fixture checkpoint: its
# last_hidden_state matches transformers Qwen3Model fp32 (int8 is ORT's quantizer: run_bench.sh checks it).
# Runs only where the reference chroot (tools/ref_env.sh setup, with onnxruntime) exists and we are
# root; otherwise it prints why and skips (77). The lastrank binary is not used.
# Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR
set -u
MODELS=$2 SRC=$3
ROOT=${LASTRANK_SID_ROOT:-/var/cache/lastrank/sid}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chroot)"; exit 77; }
[ -f "$ROOT/.lastrank-ready" ] || { echo "SKIP: no reference chroot at $ROOT (tools/ref_env.sh setup)"; exit 77; }
chroot "$ROOT" python3 -c 'import onnx, onnxruntime' 2>/dev/null ||
  { echo "SKIP: the reference chroot has no onnx/onnxruntime (rerun tools/ref_env.sh setup)"; exit 77; }
REL=$(realpath --relative-to="$SRC" "$MODELS")
case "$REL" in ..*) echo "SKIP: $MODELS is outside the repo, the chroot cannot see it"; exit 77 ;; esac
[ -f "$MODELS/tiny-gqa2/model.safetensors" ] || { echo "FAIL: $MODELS/tiny-gqa2 missing"; exit 1; }
OUT=$REL/.onnx-builder-test
trap 'rm -rf "$SRC/$OUT"' EXIT
ref() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bash "$SRC/tools/ref_env.sh" run "$@"; }
ref python3 tools/onnx_qwen3.py build --model "$REL/tiny-gqa2" --out "$OUT/fp32/model.onnx" --max-len 512 || exit 1
ref python3 tools/onnx_qwen3.py check --model "$REL/tiny-gqa2" --onnx "$OUT/fp32/model.onnx" --tokens 300 \
  --max-abs 2e-5 --min-cos 0.999999 || { echo "FAIL: fp32 graph differs from transformers"; exit 1; }
echo "PASS onnx_builder"
