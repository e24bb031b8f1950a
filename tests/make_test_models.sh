#!/usr/bin/env bash
# Generates the tiny fixture checkpoints of tests/data/checkpoints.txt (ctest fixture
# `generate_test_models`). A model is regenerated only when its stamp (flags + checksums of the
# generator binary and the tokenizer) changed, so repeated ctest runs cost nothing.
#   bash tests/make_test_models.sh <make_checkpoint binary> <out models dir> <tokenizer dir>
# LASTRANK_EMULATOR (optional): the command that runs the binary, e.g. qemu-aarch64-static -cpu ...
# for a cross build (cmake/tests.cmake sets it from CMAKE_CROSSCOMPILING_EMULATOR).
set -euo pipefail
BIN=${1:?make_checkpoint binary}
OUT=${2:?output models dir}
TOK=${3:-}
read -ra emulator <<<"${LASTRANK_EMULATOR:-}"
LIST="$(cd "$(dirname "$0")" && pwd)/data/checkpoints.txt"
mkdir -p "$OUT"
tok_args=()
tok_sum="none"
if [ -n "$TOK" ] && [ -f "$TOK/tokenizer.json" ]; then
  tok_args=(--tokenizer-dir "$TOK")
  tok_sum=$(cksum <"$TOK/tokenizer.json")
else
  echo "make_test_models: no tokenizer at '$TOK' (run scripts/setup.sh); models get no tokenizer files" >&2
fi
bin_sum=$(cksum <"$BIN")
made=0
kept=0
while read -r name flags; do
  case "$name" in ''|'#'*) continue ;; esac
  stamp="$flags | gen $bin_sum | tok $tok_sum"
  dir="$OUT/$name"
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
    kept=$((kept + 1))
    continue
  fi
  rm -rf "$dir"
  # shellcheck disable=SC2086
  "${emulator[@]}" "$BIN" --out "$dir" $flags "${tok_args[@]}"
  printf '%s' "$stamp" >"$dir/.stamp"
  made=$((made + 1))
done <"$LIST"
echo "make_test_models: $made generated, $kept up to date in $OUT"
