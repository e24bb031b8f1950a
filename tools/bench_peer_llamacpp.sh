#!/usr/bin/env bash
# Peer benchmark: llama.cpp (Debian sid's llama.cpp-tools) in the reference chroot.
#   tools/bench_peer_llamacpp.sh setup                     # apt-get install the peer packages (idempotent)
#   tools/bench_peer_llamacpp.sh bench GGUF N RUNS THREADS # llama-bench prefill of N tokens; one JSON line
# The JSON line has bench_e2e's schema: {engine, precision, threads, tokens, median_s, tok_per_s, runs[], peak_rss_mb}.
# GGUF must be a path the chroot sees (the same path inside and out: run_bench.sh bind-mounts its data dir).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${LASTRANK_SID_ROOT:-/var/cache/lastrank/sid}
PEER_PKGS="llama.cpp-tools llama.cpp-tools-extra python3-gguf python3-sentencepiece"

case "${1:-}" in
  setup)
    missing=""
    for p in $PEER_PKGS; do
      chroot "$ROOT" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "${missing// /}" ]; then
      "$REPO/tools/ref_env.sh" run apt-get update -qq
      # shellcheck disable=SC2086
      "$REPO/tools/ref_env.sh" run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
    fi
    "$REPO/tools/ref_env.sh" run dpkg-query -W llama.cpp-tools python3-gguf libggml0 >&2
    ;;
  bench)
    [ $# -eq 5 ] || { echo "usage: $0 bench GGUF N RUNS THREADS" >&2; exit 2; }
    gguf=$2 n=$3 runs=$4 threads=$5
    # llama-bench does its own warm-up pass at the same length (disabled for a single run: see results notes).
    warm="" warm_note="llama-bench default"
    [ "$runs" -le 1 ] && { warm="--no-warmup"; warm_note="none (--no-warmup)"; }
    # Peak RSS of the child via RUSAGE_CHILDREN (GNU time is not in the minbase chroot).
    "$REPO/tools/ref_env.sh" run python3 -c '
import json, resource, subprocess, sys
n, threads, warmup = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cmd = sys.argv[4:]
out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True).stdout
rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
row = [r for r in rows if r.get("n_prompt") == n][-1]
ns = [float(x) for x in row["samples_ns"]]
runs = [x / 1e9 for x in ns]
med = sorted(runs)[len(runs) // 2] if len(runs) % 2 else sum(sorted(runs)[len(runs)//2-1:len(runs)//2+1]) / 2
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
print(json.dumps({"engine": "llama.cpp", "precision": row["model_type"].split()[-1].lower(),
                  "threads": threads, "tokens": n, "median_s": med, "tok_per_s": n / med,
                  "runs": runs, "warmup": warmup, "peak_rss_mb": round(rss, 1), "build": "%s (%s)" % (row.get("build_commit"), row.get("build_number"))}))
' "$n" "$threads" "$warm_note" llama-bench -m "$gguf" -p "$n" -n 0 -r "$runs" $warm -t "$threads" -o jsonl
    ;;
  *) echo "usage: $0 setup | bench GGUF N RUNS THREADS" >&2; exit 2 ;;
esac
