#!/usr/bin/env bash
# Full-size parity check (not part of ctest: ~1 minute of both cores, 1.2 GB checkpoint):
# generates the seeded random Qwen3-0.6B-shaped jina checkpoint (1.19 GB, bf16) into
# <build>/fullsize-model, reranks one ~1,700-token multilingual request with the HF fp32
# reference (tools/make_golden.py in the reference chroot) and with `lastrank rerank
# --precision fp32`, and reports max |score diff| (target <= 1e-3) and wall times.
#   tools/check_fullsize.sh [BUILD_DIR (relative to the repo, default build)] [PRECISION (fp32)]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
BUILD=${1:-build}
PRECISION=${2:-fp32}
case "$BUILD" in /*) echo "BUILD_DIR must be relative to the repo (the reference chroot sees the repo at /repo)" >&2; exit 2 ;; esac
MODEL=$BUILD/fullsize-model
REQ=$BUILD/fullsize-request.json
FLAGS="--hidden 1024 --layers 28 --heads 16 --kv-heads 8 --head-dim 128 --inter 3072 --proj-hidden 512 --proj-out 512 --dtype bf16 --seed 0"

cmake --build "$BUILD" --target make_checkpoint lastrank >/dev/null
if [ ! -f "$MODEL/.stamp" ] || [ "$(cat "$MODEL/.stamp")" != "$FLAGS" ]; then
  rm -rf "$MODEL"
  start=$(date +%s.%N)
  "$BUILD/make_checkpoint" --out "$MODEL" $FLAGS --tokenizer-dir .deps/tokenizer
  printf '%s' "$FLAGS" >"$MODEL/.stamp"
  echo "checkpoint: $(du -sh "$MODEL" | cut -f1) in $(echo "$(date +%s.%N) - $start" | bc) s"
fi

python3 - "$REQ" <<'EOF'
import json, sys
S = [
    "Green tea contains catechins, antioxidants that may lower the risk of heart disease and support metabolism.",
    "Der Rhein ist einer der längsten Flüsse Europas und fließt durch die Schweiz, Deutschland und die Niederlande.",
    "東京は日本の首都であり、世界最大級の都市圏を持つ。多くの企業や大学が集まっている。",
    "La tour Eiffel a été construite pour l'Exposition universelle de 1889 et mesure environ 330 mètres.",
    "Москва — столица России, крупнейший по численности населения город страны и её экономический центр.",
    "绿茶含有丰富的茶多酚，有助于降低胆固醇，并且在中国有数千年的饮用历史。",
    "El aceite de oliva es la base de la dieta mediterránea y se produce sobre todo en España, Italia y Grecia.",
    "मानसून भारत में जून से सितंबर तक बारिश लाता है और खेती के लिए बहुत महत्वपूर्ण है।",
    "القهوة مشروب شائع في جميع أنحاء العالم العربي وتقدم عادة للضيوف كرمز للكرم.",
    "Python is a programming language that emphasizes readability; version 3.12 was released in October 2023.",
    "Το Αιγαίο Πέλαγος βρίσκεται ανάμεσα στην Ελλάδα και την Τουρκία και έχει χιλιάδες νησιά.",
    "한국의 김치는 배추와 고춧가루로 만든 발효 음식으로 유네스코 무형문화유산이다.",
]
docs = [" ".join(S[(i + k) % len(S)] for k in range(5)) for i in range(12)]
req = {"model": "jina-reranker-v3", "query": "Which drinks are good for health? 健康に良い飲み物は？ Welche Getränke sind gesund?",
       "documents": docs, "return_documents": False}
json.dump(req, open(sys.argv[1], "w", encoding="utf-8"), ensure_ascii=False)
EOF

echo "== HF transformers fp32 reference (reference chroot)"
tools/ref_env.sh run python3 tools/make_golden.py --rerank-model "$MODEL" --request "$REQ" --result "$BUILD/fullsize-ref.json" 2>&1 | grep -v -e "LOAD REPORT" -e "^Key" -e "^---" -e "projector" -e "^Notes" -e "UNEXPECTED" -e "Loading weights" || true

echo "== lastrank rerank --precision $PRECISION"
start=$(date +%s.%N)
"$BUILD/lastrank" rerank --model "$MODEL" --precision "$PRECISION" --input "$REQ" >"$BUILD/fullsize-lastrank.json"
secs=$(echo "$(date +%s.%N) - $start" | bc)
echo "lastrank: ${secs} s wall (load + tokenize + forward)"

python3 - "$BUILD/fullsize-ref.json" "$BUILD/fullsize-lastrank.json" <<'EOF'
import json, sys
ref = json.load(open(sys.argv[1]))
got = json.load(open(sys.argv[2]))
ours = {r["index"]: r["relevance_score"] for r in got["results"]}
diffs = [abs(ours[i] - s) for i, s in enumerate(ref["scores"])]
order_ok = [r["index"] for r in got["results"]] == ref["order"]
print(f"documents {len(diffs)}, reference total_tokens {ref['total_tokens']}, lastrank total_tokens {got['usage']['total_tokens']}")
print(f"max |score diff| {max(diffs):.3e} (target <= 1e-3); same order: {order_ok}")
print(f"reference rerank {ref['rerank_seconds']} s with {ref['torch_threads']} torch threads")
sys.exit(0 if max(diffs) <= 1e-3 else 1)
EOF
