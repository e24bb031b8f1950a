#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then build the examples against the INSTALLED tree
# only and check that their scores equal the CLI's (fp32, same request):
#   examples/c/rerank.c    cc -std=c99 -Wall -Wextra -pedantic -Werror, pkg-config lastrank
#   examples/cpp/rerank.cpp  c++ -std=c++17 with pkg-config, and CMake find_package(lastrank)
# Args: BUILD_DIR SOURCE_DIR MODELS_DIR LASTRANK_CLI
set -u
BUILD=$1 SRC=$2 MODELS=$3 CLI=$4
MODEL=$MODELS/tiny-gqa2
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix
fails=0 passes=0
ok() { passes=$((passes+1)); }
bad() { echo "FAIL $1"; [ -f "$TMP/log" ] && tail -20 "$TMP/log"; fails=$((fails+1)); }

cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/log" 2>&1 || { bad install; exit 1; }
pc=$(find "$PREFIX" -name lastrank.pc)
[ -n "$pc" ] || { bad "no lastrank.pc installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir lastrank)
if [ -f "$PREFIX/include/lastrank/lastrank.h" ] && [ -f "$PREFIX/include/lastrank/lastrank.hpp" ] &&
   [ "$(find "$PREFIX/include" -type f | wc -l)" -eq 2 ]; then ok; else bad "installed headers: $(find "$PREFIX/include" -type f)"; fi
if [ -L "$libdir/liblastrank.so" ] && [ -f "$libdir/liblastrank.so.0" ]; then ok; else bad "library links in $libdir: $(ls "$libdir")"; fi
[ -f "$(dirname "$pc")/../cmake/lastrank/lastrankConfig.cmake" ] && ok || bad "no lastrankConfig.cmake"

DOCS=("Paris is the capital of France." "Berlin ist die Hauptstadt." "東京は日本の首都です。" "Madrid is in Spain.")
QUERY="What is the capital of France?"
python3 - "$QUERY" "${DOCS[@]}" >"$TMP/req.json" <<'PY'
import json, sys
print(json.dumps({"query": sys.argv[1], "documents": sys.argv[2:]}))
PY
"$CLI" rerank --model "$MODEL" --precision fp32 --input "$TMP/req.json" >"$TMP/cli.json" || { bad "cli"; exit 1; }

# check NAME OUTPUT: the example's lines "rank<TAB>index<TAB>score<TAB>text" match the CLI's results.
check() {
  if python3 - "$TMP/cli.json" "$2" <<'PY'
import json, sys
want = json.load(open(sys.argv[1]))["results"]
lines = [l.split("\t") for l in open(sys.argv[2], encoding="utf-8").read().splitlines()[1:]]
assert len(lines) == len(want), (lines, want)
for (rank, index, score, _), w in zip(lines, want):
    assert int(index) == w["index"], (index, w)
    assert abs(float(score) - w["relevance_score"]) <= 1e-6, (score, w)
PY
  then ok; else bad "$1 output differs from the CLI:"; cat "$2"; fi
}
run() {  # name, binary
  if LD_LIBRARY_PATH=$libdir "$2" "$MODEL" "$QUERY" "${DOCS[@]}" >"$TMP/$1.out" 2>"$TMP/log"; then check "$1" "$TMP/$1.out"; else bad "$1 run"; fi
}

if cc -std=c99 -Wall -Wextra -pedantic -Werror "$SRC/examples/c/rerank.c" $(pkg-config --cflags --libs lastrank) \
     -o "$TMP/c_example" >"$TMP/log" 2>&1; then run c "$TMP/c_example"; else bad "c example build"; fi
if c++ -std=c++17 -Wall -Wextra -pedantic -Werror "$SRC/examples/cpp/rerank.cpp" $(pkg-config --cflags --libs lastrank) \
     -o "$TMP/cpp_example" >"$TMP/log" 2>&1; then run cpp-pkgconfig "$TMP/cpp_example"; else bad "c++ example build (pkg-config)"; fi
if cmake -S "$SRC/examples/cpp" -B "$TMP/cmake-example" -G Ninja -DCMAKE_PREFIX_PATH="$PREFIX" \
     -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" >"$TMP/log" 2>&1 && cmake --build "$TMP/cmake-example" >>"$TMP/log" 2>&1; then
  run cpp-find-package "$TMP/cmake-example/rerank"
else
  bad "c++ example build (find_package)"
fi
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
