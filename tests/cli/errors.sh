#!/usr/bin/env bash
# CLI error handling: every bad input gives a non-zero exit and exactly one line on stderr
# (never a crash, never a stack trace). Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR
set -u
BIN=$1 MODELS=$2
MODEL=$MODELS/tiny-gqa2
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fails=0 passes=0
expect_error() {  # name, expected substring, command...
  local name=$1 want=$2; shift 2
  "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
  local lines; lines=$(wc -l <"$TMP/err")
  if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -q -- "$want" "$TMP/err"; then
    passes=$((passes+1))
  else
    echo "FAIL $name: rc=$rc, stderr ($lines lines):"; cat "$TMP/err"; fails=$((fails+1))
  fi
}
echo '{"query":"q","documents":["a"]}' >"$TMP/ok.json"
expect_error missing-model-dir "config.json" "$BIN" rerank --model "$TMP/nope" --input "$TMP/ok.json"
expect_error missing-input "cannot open" "$BIN" rerank --model "$MODEL" --input "$TMP/nope.json"
echo '{"query": "q", "documents": [' >"$TMP/bad.json"
expect_error bad-json "not valid JSON" "$BIN" rerank --model "$MODEL" --input "$TMP/bad.json"
echo '{"query":"q","documents":[]}' >"$TMP/empty.json"
expect_error empty-docs "must not be empty" "$BIN" rerank --model "$MODEL" --input "$TMP/empty.json"
echo '{"documents":["a"]}' >"$TMP/noq.json"
expect_error missing-query "query" "$BIN" rerank --model "$MODEL" --input "$TMP/noq.json"
printf '{"query":"q","documents":["\xff\xfe"]}' >"$TMP/utf8.json"
expect_error invalid-utf8 "not valid JSON" "$BIN" rerank --model "$MODEL" --input "$TMP/utf8.json"
# A model directory whose config.json is not a qwen3 config.
mkdir -p "$TMP/m"; cp "$MODEL"/* "$TMP/m/" 2>/dev/null
sed -i 's/"qwen3"/"llama"/' "$TMP/m/config.json"
expect_error unknown-model-type "model_type" "$BIN" rerank --model "$TMP/m" --input "$TMP/ok.json"
# A truncated safetensors file.
mkdir -p "$TMP/t"; cp "$MODEL"/* "$TMP/t/" 2>/dev/null
truncate -s 1000 "$TMP/t/model.safetensors"
expect_error truncated-safetensors "safetensors" "$BIN" rerank --model "$TMP/t" --input "$TMP/ok.json"
printf '"ok"\nnot json\n' >"$TMP/lines.txt"
expect_error tokenize-bad-line "line 2" "$BIN" tokenize --model "$MODEL" --jsonl <"$TMP/lines.txt"
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
