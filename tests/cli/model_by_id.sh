#!/usr/bin/env bash
# `--model <repo id>` read offline from a hand-made Hugging Face cache (tests/make_hf_cache.sh):
# rerank, tokenize and serve give the same results as `--model DIR`; HF_HUB_CACHE / HF_HOME / HOME
# choose the cache; --revision takes a ref or a sha; LASTRANK_MODEL / LASTRANK_PORT configure serve;
# a missing model or a hostile revision is one clear error line. Loopback only, no network.
# Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR
set -u
BIN=$1 MODELS=$2 SRC=$3
MODEL=$MODELS/tiny-gqa2
ID=jinaai/jina-reranker-v3
TMP=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
[ -f "$MODEL/tokenizer.json" ] || { echo "SKIP: $MODEL has no tokenizer (run scripts/setup.sh)"; exit 77; }
fails=0 passes=0
pass() { passes=$((passes+1)); }
fail() { echo "FAIL $*"; fails=$((fails+1)); }
# Strips what legitimately differs between runs (the model's display name), keeps scores and usage.
scores() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(json.dumps([j.get("usage"), [(r["index"], r["relevance_score"]) for r in j["results"]]]))' "$1"; }

SNAP=$(bash "$SRC/tests/make_hf_cache.sh" "$MODEL" "$TMP/home/.cache/huggingface/hub" "$ID") || { echo "FAIL make_hf_cache"; exit 1; }
SHA=$(basename "$SNAP")
HUB=$TMP/home/.cache/huggingface/hub
# No cache variable from the caller's environment may leak in.
unset HF_HUB_CACHE HF_HOME XDG_CACHE_HOME HUGGINGFACE_HUB_CACHE LASTRANK_MODEL LASTRANK_PORT LASTRANK_HOST LASTRANK_REVISION

cat >"$TMP/req.json" <<'JSON'
{"query": "What is the capital of France?",
 "documents": ["Paris is the capital of France.", {"text": "Berlin ist die Hauptstadt."}, "東京は日本の首都です。", ""]}
JSON
"$BIN" rerank --model "$MODEL" --input "$TMP/req.json" >"$TMP/dir.json" || { echo "FAIL rerank --model DIR"; exit 1; }
scores "$TMP/dir.json" >"$TMP/dir.scores"

run_id() {  # name, env assignments..., then -- and extra args
  local name=$1; shift
  local envs=(); while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  if env "${envs[@]}" "$BIN" rerank --model "$ID" --input "$TMP/req.json" "$@" >"$TMP/id.json" 2>"$TMP/err" &&
     [ "$(scores "$TMP/id.json")" = "$(cat "$TMP/dir.scores")" ] &&
     python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["model"] != "jina-reranker-v3")' "$TMP/id.json"; then
    pass; else fail "$name: rerank by id differs from by directory"; cat "$TMP/err" "$TMP/id.json" 2>/dev/null; fi
}
run_id hf-hub-cache "HF_HUB_CACHE=$HUB" --
run_id hf-home "HF_HOME=$TMP/home/.cache/huggingface" --
run_id xdg "XDG_CACHE_HOME=$TMP/home/.cache" --
run_id home "HOME=$TMP/home" --
run_id revision-main "HF_HUB_CACHE=$HUB" -- --revision main
run_id revision-sha "HF_HUB_CACHE=$HUB" -- --revision "$SHA"

printf '"Hello world"\n"a<|im_end|>b"\n' >"$TMP/lines"
if [ "$(HF_HUB_CACHE=$HUB "$BIN" tokenize --model "$ID" --jsonl <"$TMP/lines")" = "$("$BIN" tokenize --model "$MODEL" --jsonl <"$TMP/lines")" ]; then
  pass; else fail "tokenize by id differs"; fi

expect_error() {  # name, expected substring..., then -- and the command
  local name=$1; shift
  local wants=(); while [ "$1" != "--" ]; do wants+=("$1"); shift; done; shift
  "$@" >"$TMP/out" 2>"$TMP/err" </dev/null; local rc=$?
  local ok=1; [ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] || ok=0
  for w in "${wants[@]}"; do grep -qF -- "$w" "$TMP/err" || ok=0; done
  if [ $ok -eq 1 ]; then pass; else fail "$name: rc=$rc, stderr:"; cat "$TMP/err"; fi
}
expect_error missing-model "huggingface-cli download jinaai/not-here" "$HUB/models--jinaai--not-here" "does not exist" \
  -- env HF_HUB_CACHE="$HUB" "$BIN" rerank --model jinaai/not-here --input "$TMP/req.json"
expect_error missing-revision "no revision 'v7'" "--revision v7" \
  -- env HF_HUB_CACHE="$HUB" "$BIN" rerank --model "$ID" --revision v7 --input "$TMP/req.json"
expect_error traversal-revision "is not a branch/tag name" \
  -- env HF_HUB_CACHE="$HUB" "$BIN" rerank --model "$ID" --revision ../../x --input "$TMP/req.json"
expect_error serve-missing-model "huggingface-cli download jinaai/not-here" \
  -- env HF_HUB_CACHE="$HUB" "$BIN" serve --model jinaai/not-here --port 0 --quiet
# An interrupted download: the weights' blob is gone.
rm "$(readlink -f "$SNAP/model.safetensors")"
expect_error dangling-blob "model.safetensors" "broken symlink" \
  -- env HF_HUB_CACHE="$HUB" "$BIN" rerank --model "$ID" --input "$TMP/req.json"
SNAP=$(bash "$SRC/tests/make_hf_cache.sh" "$MODEL" "$HUB" "$ID")

# serve by id, configured only by environment variables (LASTRANK_MODEL, LASTRANK_PORT).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HF_HUB_CACHE=$HUB LASTRANK_MODEL=$ID LASTRANK_PORT=$PORT "$BIN" serve --host 127.0.0.1 --port-file "$TMP/port" --quiet \
  2>"$TMP/server.log" &
PID=$!
for _ in $(seq 1000); do [ -s "$TMP/port" ] && break; kill -0 $PID 2>/dev/null || break; sleep 0.01; done
if [ "$(cat "$TMP/port" 2>/dev/null)" = "$PORT" ]; then pass; else fail "serve did not listen on LASTRANK_PORT=$PORT"; cat "$TMP/server.log"; fi
curl -sf "http://127.0.0.1:$PORT/v1/rerank" --data-binary @"$TMP/req.json" >"$TMP/srv.json"
if [ "$(scores "$TMP/srv.json" 2>/dev/null | python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())[1]))')" = \
     "$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[1]))' "$TMP/dir.scores")" ]; then
  pass; else fail "serve by id: scores differ from rerank --model DIR"; cat "$TMP/srv.json"; fi
if curl -sf "http://127.0.0.1:$PORT/info" | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["model"] != "jina-reranker-v3")'; then
  pass; else fail "serve by id: /info model is not the repo name"; fi
kill -TERM $PID; wait $PID; rc=$?; PID=
if [ $rc -eq 0 ]; then pass; else fail "serve exit code after SIGTERM: $rc"; fi

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
