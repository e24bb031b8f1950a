#!/usr/bin/env bash
# liblastrank.so: SONAME liblastrank.so.<major>, and it exports only the C ABI (lastrank_*) and
# the C++ API (lastrank::v0::*): nothing of the engine, no std:: instantiations.
# Args: LIBRARY_FILE EXPECTED_SONAME
set -u
LIB=$1 WANT_SONAME=$2
fails=0
soname=$(readelf -d "$LIB" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" != "$WANT_SONAME" ]; then echo "FAIL soname: '$soname', want '$WANT_SONAME'"; fails=1; fi
exported=$(nm -D --defined-only "$LIB" | awk '{print $3}')
c_syms=$(echo "$exported" | grep -c '^lastrank_')
stray=$(echo "$exported" | grep -v '^lastrank_' | c++filt | grep -v 'lastrank::v0::')
if [ -n "$stray" ]; then echo "FAIL exports outside the public API:"; echo "$stray" | head -20; fails=1; fi
for sym in lastrank_load lastrank_rerank lastrank_last_error lastrank_options_set_precision; do
  echo "$exported" | grep -qx "$sym" || { echo "FAIL $sym is not exported"; fails=1; }
done
echo "$exported" | c++filt | grep -q '^lastrank::v0::Reranker::load(' || { echo "FAIL lastrank::Reranker::load is not exported"; fails=1; }
echo "$exported" | c++filt | grep -q '^typeinfo for lastrank::v0::Error$' || { echo "FAIL typeinfo of lastrank::Error is not exported"; fails=1; }
echo "soname $soname; $c_syms C functions; $(echo "$exported" | grep -vc '^lastrank_') C++ symbols"
exit $fails
