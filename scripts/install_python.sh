#!/usr/bin/env bash
# Makes `import lastrank` work for the python3 on PATH and for Debian's /usr/bin/python3: writes
# lastrank.pth (one line: <build>/python) into each interpreter's site-packages, then imports the
# package with it. The build (cmake/python.cmake) holds one extension per interpreter ABI there.
# Run by scripts/setup.sh after the build. Usage: bash scripts/install_python.sh [BUILD_DIR]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PKG_DIR=$(cd "${1:-$REPO/build}/python" && pwd)
status=0
seen=""
for py in $(command -v python3 || true) /usr/bin/python3; do
  [ -x "$py" ] || continue
  site=$("$py" -c 'import site; print(site.getsitepackages()[0])')
  case " $seen " in *" $site "*) continue ;; esac
  seen="$seen $site"
  mkdir -p "$site"
  echo "$PKG_DIR" >"$site/lastrank.pth"
  if out=$(cd / && "$py" -c 'import lastrank, sys; print(f"lastrank {lastrank.__version__} for Python {sys.version.split()[0]}")' 2>&1); then
    echo "install_python: $py: $out ($site/lastrank.pth)"
  else
    echo "install_python: $py cannot import lastrank (no extension built for its ABI? see cmake/python.cmake): $out" >&2
    status=1
  fi
done
exit $status
