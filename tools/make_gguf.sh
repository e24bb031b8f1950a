#!/usr/bin/env bash
# Converts a lastrank/jina checkpoint dir to GGUF for the llama.cpp peer benchmark:
#   tools/make_gguf.sh MODEL_DIR OUT.gguf [bf16|f16|q8_0]
# llama.cpp has no JinaForRanking: we convert a temporary copy whose config says Qwen3ForCausalLM and
# whose safetensors leave out projector.* (docs/peers.md), with Debian sid's
# convert_hf_to_gguf.py in the reference chroot. MODEL_DIR and OUT's folder are bind-mounted into the
# chroot at the same paths. Needs `tools/bench_peer_llamacpp.sh setup` first.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${LASTRANK_SID_ROOT:-/var/cache/lastrank/sid}
[ $# -ge 2 ] || { echo "usage: $0 MODEL_DIR OUT.gguf [bf16|f16|q8_0]" >&2; exit 2; }
MODEL=$(realpath "$1"); OUT=$(realpath -m "$2"); TYPE=${3:-bf16}
[ -f "$MODEL/config.json" ] || { echo "make_gguf: $MODEL/config.json not found" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
expose() {  # bind-mount a host folder into the chroot at the same path
  mkdir -p "$ROOT$1"
  mountpoint -q "$ROOT$1" || mount --bind "$1" "$ROOT$1"
}
expose "$MODEL"; expose "$(dirname "$OUT")"
TMP="$(dirname "$OUT")/.gguf-src.$$"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP"
for f in tokenizer.json tokenizer_config.json special_tokens_map.json vocab.json merges.txt; do
  [ -f "$MODEL/$f" ] && cp "$MODEL/$f" "$TMP/"
done
"$REPO/tools/ref_env.sh" run python3 - "$MODEL" "$TMP" <<'PY'
import json, sys
from safetensors.torch import load_file, save_file
src, dst = sys.argv[1], sys.argv[2]
cfg = json.load(open(f"{src}/config.json"))
cfg["architectures"] = ["Qwen3ForCausalLM"]
cfg.pop("auto_map", None)
json.dump(cfg, open(f"{dst}/config.json", "w"), indent=1)
import glob
tensors = {}
for f in sorted(glob.glob(f"{src}/*.safetensors")):
    tensors.update(load_file(f))
kept = {k: v for k, v in tensors.items() if not k.startswith("projector.")}
print(f"make_gguf: {len(tensors)} tensors, {len(tensors) - len(kept)} projector tensors dropped", file=sys.stderr)
save_file(kept, f"{dst}/model.safetensors", metadata={"format": "pt"})
PY
# The converter's log (and tqdm bars) go to OUT.log; its tail is shown on failure.
if ! "$REPO/tools/ref_env.sh" run python3 /usr/share/doc/llama.cpp-tools/scripts/convert_hf_to_gguf.py \
  --outtype "$TYPE" --outfile "$OUT" "$TMP" >"$OUT.log" 2>&1; then
  tail -n 20 "$OUT.log" >&2
  echo "make_gguf: conversion failed (full log: $OUT.log)" >&2
  exit 1
fi
grep -E "n_tensors|successfully" "$OUT.log" >&2 || true
ls -l "$OUT"
