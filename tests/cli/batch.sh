#!/usr/bin/env bash
# `lastrank rerank --jsonl` on the tiny checkpoint: 1,000 small requests, a blank line and a
# malformed line in the middle. Checks: one output line per non-blank input line, in order; the
# malformed line's {"error": {...}} carries its line number and the one-shot CLI's message; exit
# 1 because a line failed (0 when none did); the model is loaded once (the --verbose
# model_loaded event, and where strace works, model.safetensors opened as often as by ONE
# one-shot run); 20 sampled lines equal one-shot runs byte for byte; --threads 1 vs 2 and
# --output vs stdout give identical files; no progress line unless stderr is a terminal.
# Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR
set -u
BIN=$1 MODELS=$2
MODEL=$MODELS/tiny-gqa2
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fails=0 passes=0
ok() { passes=$((passes+1)); }
bad() { echo "FAIL $*"; fails=$((fails+1)); }

# 1,000 deterministic requests (1-4 short documents, some top_n / return_documents / object
# documents), a blank line after request 100 and a malformed line after request 500.
python3 - "$TMP/req.jsonl" <<'PY'
import json, random, sys
rng = random.Random(7)
words = "paris france capital berlin germany tokyo japan river tower bridge music art".split()
lines = []
for i in range(1000):
    docs = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(1, 4))]
    if i % 7 == 0:
        docs[0] = {"text": docs[0], "id": i}
    req = {"query": " ".join(rng.choice(words) for _ in range(rng.randint(1, 3))) + f" #{i}", "documents": docs}
    if i % 5 == 0:
        req["top_n"] = rng.randint(1, 4)
    if i % 11 == 0:
        req["return_documents"] = False
    lines.append(json.dumps(req, ensure_ascii=False))
    if i == 99:
        lines.append("   ")
    if i == 499:
        lines.append('{"query": "q", "documents": [')
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
BAD_LINE=502  # physical line of the malformed request (after 500 requests and the blank line)

# Run 1: --threads 1, --input/--output, --verbose; under strace when it works (open count).
STRACE=()
if strace -f --seccomp-bpf -e trace=openat -o "$TMP/probe.trace" true 2>/dev/null; then
  # LeakSanitizer cannot run under ptrace: leak checks stay on for the untraced runs only.
  STRACE=(env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f --seccomp-bpf -e trace=openat -o "$TMP/batch.trace")
fi
start=$(date +%s)
"${STRACE[@]}" "$BIN" rerank --model "$MODEL" --jsonl --input "$TMP/req.jsonl" --output "$TMP/out1.jsonl" \
  --threads 1 --verbose 2>"$TMP/err1"
rc=$?
echo "batch of 1,001 lines: $(( $(date +%s) - start )) s"
[ $rc -eq 1 ] && ok || bad "exit code $rc with one failed line (want 1)"
n=$(wc -l <"$TMP/out1.jsonl")
[ "$n" -eq 1001 ] && ok || bad "output has $n lines (want 1001: blank line skipped)"
[ "$(grep -c '"event":"model_loaded"' "$TMP/err1")" -eq 1 ] && ok || { bad "model_loaded events != 1"; cat "$TMP/err1"; }
grep -q '"event":"batch_done".*"failed":1.*"requests":1001' "$TMP/err1" && ok || { bad "batch_done totals"; cat "$TMP/err1"; }
[ "$(grep -vc '^{"event"' "$TMP/err1")" -eq 0 ] && ok || { bad "stderr (not a terminal) has non-event lines"; cat "$TMP/err1"; }

python3 - "$TMP/out1.jsonl" "$BAD_LINE" <<'PY' && ok || bad "output line shapes"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
bad_line = int(sys.argv[2])
errors = [i for i, j in enumerate(lines) if "error" in j]
assert errors == [500], errors                       # the 501st request's answer
e = lines[500]["error"]
assert e["line"] == bad_line and e["type"] == "invalid_json" and e["code"] == 400, e
assert e["message"].startswith("request is not valid JSON"), e
for i, j in enumerate(lines):
    if i == 500: continue
    assert set(j) == {"model", "usage", "results", "meta"}, j
    assert all(a["relevance_score"] >= b["relevance_score"] for a, b in zip(j["results"], j["results"][1:]))
PY

# The malformed line's message is the one-shot CLI's (for the same bytes: no newline added).
printf '%s' "$(sed -n "${BAD_LINE}p" "$TMP/req.jsonl")" >"$TMP/bad.json"
"$BIN" rerank --model "$MODEL" --input "$TMP/bad.json" 2>"$TMP/bad.err" >/dev/null
want=$(python3 -c 'import json,sys; print("lastrank: " + json.loads(open(sys.argv[1]).readlines()[500])["error"]["message"])' "$TMP/out1.jsonl")
[ "$(cat "$TMP/bad.err")" = "$want" ] && ok || bad "one-shot message '$(cat "$TMP/bad.err")' != batch '$want'"

# One model load: model.safetensors is opened by the batch exactly as often as by one one-shot run.
if [ ${#STRACE[@]} -gt 0 ]; then
  sed -n 1p "$TMP/req.jsonl" >"$TMP/first.json"
  env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f --seccomp-bpf -e trace=openat -o "$TMP/one.trace" "$BIN" rerank --model "$MODEL" --input "$TMP/first.json" >/dev/null
  b=$(grep -c 'model.safetensors"' "$TMP/batch.trace"); o=$(grep -c 'model.safetensors"' "$TMP/one.trace")
  [ "$b" -eq "$o" ] && [ "$o" -ge 1 ] && ok || bad "batch opened model.safetensors $b times, one-shot $o"
else
  echo "SKIP strace open count: strace cannot trace here (the model_loaded event count still ran)"
fi

# Run 2: --threads 2, stdin -> stdout: identical bytes.
"$BIN" rerank --model "$MODEL" --jsonl --threads 2 <"$TMP/req.jsonl" >"$TMP/out2.jsonl" 2>/dev/null
cmp -s "$TMP/out1.jsonl" "$TMP/out2.jsonl" && ok || bad "--threads 1 (--output) and --threads 2 (stdout) differ"

# 20 sampled requests: the one-shot CLI's output equals the batch line byte for byte.
grep -v '^ *$' "$TMP/req.jsonl" >"$TMP/nonblank.jsonl"
mismatch=0
for k in $(seq 1 50 1001); do
  [ "$k" -eq 501 ] && continue
  sed -n "${k}p" "$TMP/nonblank.jsonl" >"$TMP/one.json"
  "$BIN" rerank --model "$MODEL" --input "$TMP/one.json" --threads 1 >"$TMP/one.out" 2>"$TMP/one.err" || mismatch=1
  [ "$(cat "$TMP/one.out")" = "$(sed -n "${k}p" "$TMP/out1.jsonl")" ] || { mismatch=1; echo "line $k differs"; }
done
[ $mismatch -eq 0 ] && ok || bad "one-shot vs batch sample"

# All lines good -> exit 0; empty input -> exit 0 and no output.
head -3 "$TMP/nonblank.jsonl" | "$BIN" rerank --model "$MODEL" --jsonl >"$TMP/three.jsonl" 2>/dev/null
rc=$?; [ $rc -eq 0 ] && [ "$(wc -l <"$TMP/three.jsonl")" -eq 3 ] && ok || bad "3 good lines: rc $rc"
"$BIN" rerank --model "$MODEL" --jsonl </dev/null >"$TMP/none.jsonl" 2>/dev/null
rc=$?; [ $rc -eq 0 ] && [ ! -s "$TMP/none.jsonl" ] && ok || bad "empty input: rc $rc"

# Progress line when stderr is a terminal (script(1) gives the run a pty).
if command -v script >/dev/null; then
  head -20 "$TMP/nonblank.jsonl" >"$TMP/twenty.jsonl"
  script -qec "$BIN rerank --model $MODEL --jsonl --input $TMP/twenty.jsonl --output $TMP/tty.jsonl" /dev/null \
    >"$TMP/tty.txt" 2>&1 </dev/null
  grep -q '20/20 requests, [0-9]* tokens/s, ETA 0 s' "$TMP/tty.txt" && ok || { bad "no progress line on a terminal"; cat -v "$TMP/tty.txt"; }
else
  echo "SKIP progress line: no script(1) to provide a terminal"
fi

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
