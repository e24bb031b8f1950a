#!/usr/bin/env bash
# Demo rerank. With LASTRANK_MODEL=/path/to/jina-reranker-v3 (the Hugging Face download) it ranks
# examples/request.json with the real model. Without it, it generates a small seeded random-weight
# checkpoint of the same architecture (scores are then meaningless, the pipeline is the real one).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
MODEL=${LASTRANK_MODEL:-}
if [ -z "$MODEL" ]; then
  MODEL="$REPO/build/demo-model"
  if [ ! -f "$MODEL/model.safetensors" ]; then
    "$REPO/build/make_checkpoint" --out "$MODEL" --hidden 256 --layers 4 --heads 8 --kv-heads 4 --head-dim 64 \
      --inter 768 --proj-hidden 128 --proj-out 128 --seed 7 --tokenizer-dir "$REPO/.deps/tokenizer"
  fi
  echo "(random-weight demo model at $MODEL; set LASTRANK_MODEL to use the real checkpoint)" >&2
fi
"$REPO/build/lastrank" rerank --model "$MODEL" --input "$REPO/examples/request.json" "$@"
