#!/usr/bin/env bash
# Lays out a model directory as the Hugging Face hub cache does, for tests that load by repo id:
#   <hub>/models--<org>--<name>/blobs/<hash>            the files' contents
#   <hub>/models--<org>--<name>/snapshots/<sha>/<file>  symlinks to ../../blobs/<hash>
#   <hub>/models--<org>--<name>/refs/main               <sha>
#   bash tests/make_hf_cache.sh <model dir> <hub dir> [repo id, default jinaai/jina-reranker-v3] [sha]
# Prints the snapshot directory.
set -euo pipefail
MODEL=${1:?model dir}
HUB=${2:?hub dir}
REPO=${3:-jinaai/jina-reranker-v3}
SHA=${4:-0123456789abcdef0123456789abcdef01234567}
dir="$HUB/models--${REPO//\//--}"
mkdir -p "$dir/blobs" "$dir/snapshots/$SHA" "$dir/refs"
for f in "$MODEL"/*; do
  [ -f "$f" ] || continue
  blob=$(sha256sum "$f" | cut -d' ' -f1)
  cp "$f" "$dir/blobs/$blob"
  ln -sfn "../../blobs/$blob" "$dir/snapshots/$SHA/$(basename "$f")"
done
printf '%s' "$SHA" >"$dir/refs/main"
echo "$dir/snapshots/$SHA"
