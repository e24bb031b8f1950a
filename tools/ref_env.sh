#!/usr/bin/env bash
# Build (once) and use the reference environment: a Debian sid chroot with HF transformers,
# tokenizers, torch, safetensors, numpy, onnx and onnxruntime. Independent of lastrank's C++ code; it
# produces the golden fixtures under tests/data and runs the peer benchmarks.
#
#   tools/ref_env.sh setup            # debootstrap + apt-get install (idempotent)
#   tools/ref_env.sh run CMD ARGS...  # run a command inside the chroot, repo bind-mounted at /repo
#
# The chroot lives in $LASTRANK_SID_ROOT (default /var/cache/lastrank/sid). The Debian mirror
# reached here is a frozen snapshot, so apt inside needs Check-Valid-Until=false.
set -euo pipefail
ROOT=${LASTRANK_SID_ROOT:-/var/cache/lastrank/sid}
MIRROR=${LASTRANK_SID_MIRROR:-http://deb.debian.org/debian}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PKGS="python3 python3-transformers python3-torch python3-tokenizers python3-safetensors python3-numpy
      python3-onnx python3-onnxruntime libopenblas0-openmp ca-certificates"

mount_all() {
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  mountpoint -q "$ROOT/dev" || mount --bind /dev "$ROOT/dev"
  mkdir -p "$ROOT/repo" "$ROOT/shared"
  # /repo is this checkout: another worktree's earlier mount would run that checkout's tools.
  if mountpoint -q "$ROOT/repo" && [ "$(stat -c %d:%i "$ROOT/repo")" != "$(stat -c %d:%i "$REPO")" ]; then
    umount "$ROOT/repo" || { echo "ref_env: $ROOT/repo holds another checkout and is busy" >&2; exit 1; }
  fi
  mountpoint -q "$ROOT/repo" || mount --bind "$REPO" "$ROOT/repo"
  if [ -d "$REPO/../shared" ]; then mountpoint -q "$ROOT/shared" || mount --bind "$REPO/../shared" "$ROOT/shared"; fi
  mkdir -p "$ROOT/tmp"; chmod 1777 "$ROOT/tmp"
}

missing_pkgs() {  # the packages of $PKGS not installed in the chroot
  for p in $PKGS; do
    chroot "$ROOT" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

case "${1:-}" in
  setup)
    if [ -f "$ROOT/.lastrank-ready" ] && [ -z "$(missing_pkgs)" ]; then echo "reference chroot ready at $ROOT"; exit 0; fi
    command -v debootstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq debootstrap; }
    if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
      mkdir -p "$ROOT"
      debootstrap --variant=minbase sid "$ROOT" "$MIRROR"
    fi
    echo 'Acquire::Check-Valid-Until "false";' > "$ROOT/etc/apt/apt.conf.d/99lastrank-snapshot"
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
    mount_all
    chroot "$ROOT" apt-get update -qq
    # shellcheck disable=SC2086
    chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS
    chroot "$ROOT" python3 -c 'import torch, transformers, tokenizers, safetensors, numpy, onnx, onnxruntime as ort
print("torch", torch.__version__, "transformers", transformers.__version__, "tokenizers", tokenizers.__version__,
      "onnx", onnx.__version__, "onnxruntime", ort.__version__)'
    touch "$ROOT/.lastrank-ready"
    ;;
  run)
    shift
    [ -f "$ROOT/.lastrank-ready" ] || { echo "reference chroot missing: run tools/ref_env.sh setup" >&2; exit 2; }
    mount_all
    exec chroot "$ROOT" env HOME=/tmp PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" bash -c 'cd /repo && "$@"' bash "$@"
    ;;
  *) echo "usage: $0 setup | run CMD..." >&2; exit 2 ;;
esac
