#!/usr/bin/env bash
# CLI end to end on a generated tiny checkpoint: response schema, ordering, top_n,
# return_documents/return_embeddings, thread-count and run-to-run determinism (on every kernel set
# this CPU runs, via LASTRANK_ISA), a bad LASTRANK_ISA, tokenize.
# (Score values themselves are checked against HF in tests/golden.) Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR
set -u
BIN=$1 MODELS=$2
MODEL=$MODELS/tiny-gqa2
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fails=0 passes=0
check() {  # name, python3 assertion over j (the parsed response) -- stdlib only
  if python3 - "$TMP/out.json" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2], {"j": j})
sys.exit(0 if ok else 1)
PY
  then passes=$((passes+1)); else echo "FAIL $1: $2"; cat "$TMP/out.json"; fails=$((fails+1)); fi
}
cat >"$TMP/req.json" <<'JSON'
{"model": "tiny", "query": "What is the capital of France?",
 "documents": ["Paris is the capital of France.", {"text": "Berlin ist die Hauptstadt."}, "東京は日本の首都です。",
               "", "x<|embed_token|>y"],
 "return_embeddings": true}
JSON
"$BIN" rerank --model "$MODEL" --input "$TMP/req.json" --threads 1 >"$TMP/out.json" || { echo "FAIL rerank exited $?"; exit 1; }
cp "$TMP/out.json" "$TMP/t1.json"
check schema 'set(j) == {"model", "usage", "results", "meta"} and j["model"] == "tiny" and j["usage"]["total_tokens"] > 100'
check all-docs 'sorted(r["index"] for r in j["results"]) == [0, 1, 2, 3, 4]'
check sorted 'all(a["relevance_score"] >= b["relevance_score"] for a, b in zip(j["results"], j["results"][1:]))'
check cosine-range 'all(-1.0 <= r["relevance_score"] <= 1.0 for r in j["results"])'
check documents-default 'all("document" in r and isinstance(r["document"]["text"], str) for r in j["results"])'
check original-text 'any(r["document"]["text"] == "x<|embed_token|>y" for r in j["results"])'
check embeddings 'all(len(r["embedding"]) == len(j["results"][0]["embedding"]) > 0 for r in j["results"])'
"$BIN" rerank --model "$MODEL" --input "$TMP/req.json" --threads 2 >"$TMP/t2.json"
"$BIN" rerank --model "$MODEL" --input - --threads 2 <"$TMP/req.json" >"$TMP/t3.json"
if cmp -s "$TMP/t1.json" "$TMP/t2.json" && cmp -s "$TMP/t2.json" "$TMP/t3.json"; then passes=$((passes+1)); else
  echo "FAIL determinism: --threads 1 vs 2 vs rerun differ"; fails=$((fails+1)); fi
sets=$("$BIN" --version | sed -n 's/^supported: //p' | tr -d ',')
[ -n "$sets" ] || { echo "FAIL: --version lists no supported kernel set"; fails=$((fails+1)); }
for set in $sets; do
  for prec in bf16 int8; do
    for t in 1 2; do
      LASTRANK_ISA=$set "$BIN" rerank --model "$MODEL" --input "$TMP/req.json" --threads $t --precision $prec >"$TMP/s$t.json"
    done
    if cmp -s "$TMP/s1.json" "$TMP/s2.json"; then passes=$((passes+1)); else
      echo "FAIL determinism on kernel set $set, --precision $prec: --threads 1 vs 2 differ"; fails=$((fails+1)); fi
  done
done
if LASTRANK_ISA=sse9 "$BIN" rerank --model "$MODEL" --input "$TMP/req.json" >/dev/null 2>"$TMP/err.txt"; then
  echo "FAIL: LASTRANK_ISA=sse9 accepted"; fails=$((fails+1))
elif grep -q 'unknown kernel set "sse9"; valid names: x86_64' "$TMP/err.txt"; then passes=$((passes+1)); else
  echo "FAIL: LASTRANK_ISA=sse9 message:"; cat "$TMP/err.txt"; fails=$((fails+1)); fi
echo '{"query": "q", "documents": ["a", "b", "c"], "top_n": 2, "return_documents": false}' >"$TMP/req2.json"
"$BIN" rerank --model "$MODEL" --input "$TMP/req2.json" >"$TMP/out.json"
check top-n 'len(j["results"]) == 2 and all(set(r) == {"index", "relevance_score"} for r in j["results"])'
# --max-chunks-per-doc: the CLI's default for requests (docs/server.md "Chunking"); 20 one-token
# words with 8-token documents = chunks of 8 + 8 + 4 words; the request's own value wins.
W="apple banana water light river music table window yellow orange silver forest winter summer bridge castle house doctor market planet"
echo "{\"query\": \"house doctor\", \"documents\": [\"$W\", \"short\"]}" >"$TMP/req3.json"
"$BIN" rerank --model "$MODEL" --input "$TMP/req3.json" --max-doc-tokens 8 --max-chunks-per-doc 3 >"$TMP/out.json"
check chunk-field 'sorted(r["index"] for r in j["results"]) == [0, 1] and all(("chunk" in r) == (r["index"] == 0) for r in j["results"]) and [r["chunk"] for r in j["results"] if r["index"] == 0][0]["index"] in (0, 1, 2)'
"$BIN" rerank --model "$MODEL" --input "$TMP/req3.json" --max-doc-tokens 8 >"$TMP/t4.json"
sed 's/}$/, "max_chunks_per_doc": 1}/' "$TMP/req3.json" >"$TMP/req4.json"
"$BIN" rerank --model "$MODEL" --input "$TMP/req4.json" --max-doc-tokens 8 --max-chunks-per-doc 3 >"$TMP/t5.json"
if cmp -s "$TMP/t4.json" "$TMP/t5.json"; then passes=$((passes+1)); else
  echo "FAIL max_chunks_per_doc 1 in the request must override --max-chunks-per-doc and truncate"; fails=$((fails+1)); fi
# --verbose: model_loaded names each load phase with wall and CPU seconds; request_done follows.
"$BIN" rerank --model "$MODEL" --input "$TMP/req2.json" --verbose 2>"$TMP/events.txt" >/dev/null
python3 -c 'import json, sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])]))' "$TMP/events.txt" >"$TMP/out.json" \
  || { echo "FAIL --verbose: stderr is not JSON lines"; cat "$TMP/events.txt"; }
check verbose-phases '[e["event"] for e in j] == ["model_loaded", "request_done"] and [p["phase"] for p in j[0]["phases"]] == ["config", "weights_open", "weights_prepare", "tokenizer", "finish"] and all(p["seconds"] >= 0 and p["cpu_seconds"] >= 0 for p in j[0]["phases"]) and j[1]["tokens"] > 0'
printf '"Hello world"\n"日本語のテキスト 123"\n"a<|im_end|>b"\n' | "$BIN" tokenize --model "$MODEL" --jsonl >"$TMP/tok.txt"
if [ "$(cat "$TMP/tok.txt")" = "$(printf '[9707,1879]\n[101059,102819,15767,56833,61803,70534,220,16,17,18]\n[64,151645,65]')" ]; then
  passes=$((passes+1)); else echo "FAIL tokenize:"; cat "$TMP/tok.txt"; fails=$((fails+1)); fi
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
