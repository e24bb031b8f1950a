#!/bin/sh
# Prints the Debian packages that own the shared libraries a binary links (one per line), so the
# runtime image installs exactly those: `runtime-packages.sh /build/lastrank`. Fails if a library
# belongs to no package (it would be missing at run time).
set -eu
bin=${1:?binary}
ldd "$bin" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' | while read -r lib; do
  # bookworm ships libraries under /lib and /usr/lib (merged /usr): try the path as linked, then resolved.
  owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null) || {
    echo "runtime-packages: no Debian package owns $lib" >&2; exit 1; }
  echo "$owner" | head -1 | cut -d: -f1
done | sort -u
