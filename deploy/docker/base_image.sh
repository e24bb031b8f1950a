#!/usr/bin/env bash
# Makes a Debian bookworm base image without pulling one from a registry: debootstrap (minbase)
# from the Debian mirror this machine's apt already uses, tarred once into <cache dir> and
# `docker import`ed as the image named by $2 (default lastrank-base:bookworm). Re-runs reuse the
# tarball and skip the import when the image exists.
#   bash deploy/docker/base_image.sh <cache dir, e.g. build/docker> [image name]
# Needs root, debootstrap and a running docker engine (DOCKER=podman works too).
set -euo pipefail
CACHE=${1:?cache dir}
IMAGE=${2:-lastrank-base:bookworm}
DOCKER=${DOCKER:-docker}
SUITE=bookworm
TAR="$CACHE/$SUITE-minbase.tar"

# The first main-archive URI of apt's sources (deb822 *.sources or one-line *.list), not -security.
apt_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$SUITE" 'BEGIN { RS=""; FS="\n" }
      { uris=""; suites=""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { uris=$i; sub(/^URIs:[ \t]*/, "", uris) }
          if ($i ~ /^Suites:/) { suites=" " $i " " }
        }
        if (uris != "" && suites ~ (" " suite " ")) { split(uris, u, /[ \t]+/); print u[1]; exit } }' "$f"
  done
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk -v suite="$SUITE" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { if ($(i+1) == suite) print $i; break } }'
}

if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  if [ ! -s "$TAR" ]; then
    command -v debootstrap >/dev/null || { echo "base_image: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 3; }
    MIRROR=$(apt_mirror 2>/dev/null | head -1 || true)
    [ -n "$MIRROR" ] || { echo "base_image: no $SUITE mirror in /etc/apt/sources.list*" >&2; exit 1; }
    echo "base_image: debootstrap $SUITE from $MIRROR (cached in $TAR)"
    mkdir -p "$CACHE"
    ROOT=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    trap 'rm -rf "$ROOT"' EXIT
    debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
      { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
    # Like debian:bookworm-slim: no docs/man pages/locales installed later, no package lists kept.
    cat >"$ROOT/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
    # This machine's apt settings for the mirror (e.g. a snapshot mirror's Check-Valid-Until) go along.
    for conf in /etc/apt/apt.conf.d/*; do
      grep -qs 'Check-Valid-Until\|Check-Date' "$conf" && cp "$conf" "$ROOT/etc/apt/apt.conf.d/"
    done
    rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb
    tar --numeric-owner -C "$ROOT" -cf "$TAR.tmp" .
    mv "$TAR.tmp" "$TAR"
  fi
  "$DOCKER" import --change 'CMD ["bash"]' "$TAR" "$IMAGE" >/dev/null
fi
echo "base_image: $IMAGE ($("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE") bytes)"
