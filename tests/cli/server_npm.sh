#!/usr/bin/env bash
# A real client against `lastrank serve`: the npm cohere-ai SDK (pinned by
# tests/server/npm/package-lock.json, installed with `npm ci` into <build>/npm-server-client)
# must get the same results as curl on /v1/rerank and /v2/rerank, and a 401 for a wrong key.
# Needs node + npm (registry access the first time). Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR
set -euo pipefail
BIN=$1 MODELS=$2 SRC=$3
MODEL=$MODELS/tiny-gqa2
NPM_DIR=$(dirname "$BIN")/npm-server-client
TMP=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

mkdir -p "$NPM_DIR"
if ! cmp -s "$SRC/tests/server/npm/package-lock.json" "$NPM_DIR/package-lock.json" || [ ! -d "$NPM_DIR/node_modules/cohere-ai" ]; then
  cp "$SRC/tests/server/npm/package.json" "$SRC/tests/server/npm/package-lock.json" "$NPM_DIR/"
  (cd "$NPM_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || { echo "FAIL npm ci"; exit 1; }
fi
cp "$SRC/tests/server/npm/client.mjs" "$NPM_DIR/client.mjs"

KEY=npm-test-key
"$BIN" serve --model "$MODEL" --host 127.0.0.1 --port 0 --port-file "$TMP/port" --api-key "$KEY" 2>"$TMP/server.log" &
PID=$!
for _ in $(seq 500); do [ -s "$TMP/port" ] && break; sleep 0.01; done
PORT=$(cat "$TMP/port")
BASE=http://127.0.0.1:$PORT

cat >"$TMP/req.json" <<'JSON'
{"query": "What is the capital of France?",
 "documents": ["Paris is the capital of France.", "Berlin ist die Hauptstadt.", "東京は日本の首都です。",
               "The Eiffel Tower is in Paris.", ""]}
JSON
node "$NPM_DIR/client.mjs" "$BASE" "$KEY" "$TMP/req.json" >"$TMP/sdk.json" || { echo "FAIL node client"; cat "$TMP/server.log"; exit 1; }
python3 - "$TMP/req.json" >"$TMP/v1_body.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"model": "jina-reranker-v3", "query": r["query"], "rank_fields": ["text"], "return_documents": True,
                  "top_n": len(r["documents"]), "documents": [{"text": t, "id": str(i)} for i, t in enumerate(r["documents"])]}))
PY
python3 - "$TMP/req.json" >"$TMP/v2_body.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"model": "jina-reranker-v3", "query": r["query"], "documents": r["documents"], "top_n": 3, "max_tokens_per_doc": 4096}))
PY
curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary @"$TMP/v1_body.json" "$BASE/v1/rerank" >"$TMP/curl_v1.json"
curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary @"$TMP/v2_body.json" "$BASE/v2/rerank" >"$TMP/curl_v2.json"

python3 - "$TMP/sdk.json" "$TMP/curl_v1.json" "$TMP/curl_v2.json" <<'PY'
import json, sys
sdk = json.load(open(sys.argv[1]))
c1, c2 = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
fails = []
def pairs(results):  # the SDK hands back camelCase (relevanceScore); curl sees the wire format
    return [(r["index"], r["relevanceScore"] if "relevanceScore" in r else r["relevance_score"]) for r in results]
if pairs(sdk["v1"]["results"]) != pairs(c1["results"]): fails.append(f"v1 results differ: {sdk['v1']['results']} vs {c1['results']}")
if len(sdk["v1"]["results"]) != 5: fails.append("v1: expected 5 results")
if [r["document"]["id"] for r in sdk["v1"]["results"]] != [r["document"]["id"] for r in c1["results"]]: fails.append("v1 documents differ")
if pairs(sdk["v2"]["results"]) != pairs(c2["results"]) or len(c2["results"]) != 3: fails.append(f"v2 results differ: {sdk['v2']} vs {c2}")
if sdk["v2"].get("meta", {}).get("apiVersion", {}).get("version") != "2": fails.append("v2 meta.api_version missing in SDK result")
if sdk["unauthorized"] != 401: fails.append(f"wrong key: expected 401 from the SDK, got {sdk['unauthorized']}")
for f in fails: print("FAIL", f)
print(f"cohere-ai SDK vs curl: {'ok' if not fails else 'MISMATCH'}")
sys.exit(1 if fails else 0)
PY
kill -TERM "$PID"
wait "$PID"; rc=$?
PID=
[ $rc -eq 0 ] || { echo "FAIL server exit status $rc after SIGTERM"; exit 1; }
echo "server_npm: passed"
