#!/usr/bin/env bash
# The backend seam (docs/DEVELOPERS.md, "Backends"): outside src/backend/, no source includes a
# backend's own headers (backend/<name>/...) or names a backend's namespace (cpu::). The model
# and everything above it see only backend/backend.h and backend/precision.h.
#   bash tests/lint/backend_seam.sh <source dir>
set -u
SRC=${1:?source dir}/src
[ -d "$SRC/backend" ] || { echo "no $SRC/backend"; exit 1; }
bad=$(grep -rnE '#include "backend/[A-Za-z0-9_]+/|\bcpu::' "$SRC" --include='*.h' --include='*.cpp' --include='*.inc' |
  grep -v "^$SRC/backend/")
if [ -n "$bad" ]; then
  echo "backend internals used outside src/backend/:"
  echo "$bad"
  exit 1
fi
echo "backend seam: only src/backend/ sees backend internals"
