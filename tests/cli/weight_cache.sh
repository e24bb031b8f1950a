#!/usr/bin/env bash
# The packed-weight cache through the CLI (docs/model-files.md, "Start-up: the packed-weight
# cache"): --weight-cache DIR writes, then hits (packed weights, the prefix K/V, and tokenizer.json's
# parse: one file for all precisions), with responses byte-identical to --no-weight-cache for each
# precision; LASTRANK_WEIGHT_CACHE picks the directory and "off" turns it off; a corrupt file is
# reported on stderr and rebuilt; an unusable directory only disables it.
# Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR
set -u
BIN=$1 MODELS=$2
MODEL=$MODELS/tiny-gqa3
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fails=0 passes=0
ok() { passes=$((passes+1)); }
bad() { echo "FAIL $1"; fails=$((fails+1)); }
cat >"$TMP/req.json" <<'JSON'
{"model": "tiny", "query": "What is the capital of France?",
 "documents": ["Paris is the capital of France.", "Berlin ist die Hauptstadt.", "東京は日本の首都です。"],
 "return_embeddings": true}
JSON
# statuses of the cache file kind $2 (default packed; or prefix, tokenizer) in the --verbose model_loaded
# event of $1, comma-joined
statuses() {
  python3 - "$1" "${2:-packed}" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "model_loaded":
        w = e["weight_cache"]
        print(w if isinstance(w, str) else ",".join(s["status"] for s in w if s["file"] == sys.argv[2]))
PY
}
run() {  # out-name, extra args...
  local out=$1; shift
  "$BIN" rerank --model "$MODEL" --input "$TMP/req.json" --threads 2 --verbose "$@" >"$TMP/$out.json" 2>"$TMP/$out.err" \
    || { bad "rerank $* exited $?"; cat "$TMP/$out.err"; }
}

# int8 keeps its first 8 layers in bf16 (model/qwen3.h): on this 3-layer model it packs exactly
# as bf16 does, so the key (formats, not the precision's name) is bf16's and its first run hits.
for p in fp32 bf16 int8; do
  run "ref-$p" --precision "$p" --no-weight-cache
  [ "$(statuses "$TMP/ref-$p.err")" = off ] && ok || bad "$p --no-weight-cache: weight_cache is not off"
  run "w-$p" --precision "$p" --weight-cache "$TMP/cache"
  first=written; [ "$p" = int8 ] && first=hit
  [ "$(statuses "$TMP/w-$p.err")" = "$first" ] && ok || { bad "$p first run: not $first"; cat "$TMP/w-$p.err"; }
  run "h-$p" --precision "$p" --weight-cache "$TMP/cache"
  [ "$(statuses "$TMP/h-$p.err")" = hit ] && ok || { bad "$p second run: not a hit"; cat "$TMP/h-$p.err"; }
  # The shared prefix's K/V: their own file per precision, written by the first run.
  [ "$(statuses "$TMP/w-$p.err" prefix)" = written ] && [ "$(statuses "$TMP/h-$p.err" prefix)" = hit ] && ok \
    || { bad "$p prefix K/V: not written, then hit"; cat "$TMP/w-$p.err" "$TMP/h-$p.err"; }
  # tokenizer.json's parse: one file for every precision, written by the first run.
  tfirst=hit; [ "$p" = fp32 ] && tfirst=written
  [ "$(statuses "$TMP/w-$p.err" tokenizer)" = "$tfirst" ] && [ "$(statuses "$TMP/h-$p.err" tokenizer)" = hit ] && ok \
    || { bad "$p tokenizer: not $tfirst, then hit"; cat "$TMP/w-$p.err" "$TMP/h-$p.err"; }
  cmp -s "$TMP/ref-$p.json" "$TMP/w-$p.json" && cmp -s "$TMP/ref-$p.json" "$TMP/h-$p.json" && ok \
    || bad "$p: responses with the cache differ from --no-weight-cache"
done
[ "$(find "$TMP/cache" -name 'packed-*.lrwc' | wc -l)" -eq 2 ] && ok || bad "expected one cache file per packing (fp32, bf16)"
[ "$(find "$TMP/cache" -name 'prefix-*.lrwc' | wc -l)" -eq 3 ] && ok || bad "expected one prefix file per precision"
[ "$(find "$TMP/cache" -name 'tokenizer-*.lrwc' | wc -l)" -eq 1 ] && ok || bad "expected one tokenizer file"

# The environment variable: a directory, or off.
LASTRANK_WEIGHT_CACHE="$TMP/env" run env1
LASTRANK_WEIGHT_CACHE="$TMP/env" run env2
[ "$(statuses "$TMP/env2.err")" = hit ] && [ -n "$(ls "$TMP/env")" ] && ok || bad "LASTRANK_WEIGHT_CACHE=dir not used"
LASTRANK_WEIGHT_CACHE=off run env3
[ "$(statuses "$TMP/env3.err")" = off ] && ok || bad "LASTRANK_WEIGHT_CACHE=off did not turn it off"

# One flipped byte near the end (payload): reported on stderr, rebuilt, same response.
f=$(find "$TMP/env" -name 'packed-*.lrwc' | head -1)
size=$(stat -c %s "$f")
printf '\x5a' | dd of="$f" bs=1 seek=$((size - 2)) conv=notrunc status=none
LASTRANK_WEIGHT_CACHE="$TMP/env" "$BIN" rerank --model "$MODEL" --input "$TMP/req.json" --threads 2 >"$TMP/c.json" 2>"$TMP/c.err"
grep -q 'weight cache ignored: .*checksum mismatch' "$TMP/c.err" && ok || { bad "corrupt cache: no stderr line"; cat "$TMP/c.err"; }
cmp -s "$TMP/c.json" "$TMP/ref-bf16.json" && ok || bad "corrupt cache: response differs"
LASTRANK_WEIGHT_CACHE="$TMP/env" run env4
[ "$(statuses "$TMP/env4.err")" = hit ] && ok || bad "corrupt cache was not rebuilt"

# An unusable directory (below a regular file): one stderr line, the right response, exit 0.
touch "$TMP/file"
"$BIN" rerank --model "$MODEL" --input "$TMP/req.json" --threads 2 --weight-cache "$TMP/file/cache" >"$TMP/u.json" 2>"$TMP/u.err" \
  && grep -q 'weight cache disabled' "$TMP/u.err" && cmp -s "$TMP/u.json" "$TMP/ref-bf16.json" && ok \
  || { bad "unusable directory"; cat "$TMP/u.err"; }

echo "weight_cache.sh: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
