#!/usr/bin/env bash
# The Kubernetes manifests (deploy/kubernetes) pass tests/deploy/validate_kubernetes.py, and the
# validator is not toothless: a copy with one broken cross-reference per case must fail it.
# Needs Debian's /usr/bin/python3 with python3-yaml (scripts/setup.sh). Args: LASTRANK_BIN MODELS_DIR SOURCE_DIR
set -u
SRC=$3
PY=/usr/bin/python3
"$PY" -c 'import yaml' 2>/dev/null || { echo "SKIP: $PY has no yaml module (apt-get install python3-yaml)"; exit 77; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fails=0 passes=0
if "$PY" "$SRC/tests/deploy/validate_kubernetes.py" "$SRC/deploy/kubernetes" "$SRC"; then passes=$((passes+1)); else
  echo "FAIL: the manifests have problems"; fails=$((fails+1)); fi
broken() {  # name, file, sed expression: the mutated copy must be rejected
  rm -rf "$TMP/k"; cp -r "$SRC/deploy/kubernetes" "$TMP/k"
  sed -i "$3" "$TMP/k/$2"
  if cmp -s "$SRC/deploy/kubernetes/$2" "$TMP/k/$2"; then echo "FAIL $1: the sed expression changed nothing"; fails=$((fails+1)); return; fi
  if "$PY" "$SRC/tests/deploy/validate_kubernetes.py" "$TMP/k" "$SRC" >"$TMP/out"; then
    echo "FAIL $1: a broken manifest passed"; fails=$((fails+1)); else passes=$((passes+1)); echo "ok $1: $(grep -m1 PROBLEM "$TMP/out")"; fi
}
broken service-selector service.yaml 's/component: reranker/component: other/'
broken probe-path deployment.yaml '0,/path: \/ready/s//path: \/readyz/'
broken liveness-on-ready deployment.yaml 's/path: \/live$/path: \/ready/'
broken port-mismatch deployment.yaml '/name: LASTRANK_PORT/{n;s/"8080"/"9090"/}'
broken unknown-env deployment.yaml 's/name: LASTRANK_THREADS/name: LASTRANK_CORES/'
broken secret-name deployment.yaml 's/name: lastrank-api-key/name: other-secret/'
broken pvc-name pvc.yaml 's/name: lastrank-hf-cache/name: other-pvc/'
broken hpa-target hpa-cpu.yaml '/kind: Deployment/{n;s/name: lastrank/name: other/}'
broken queue-metric hpa-queue-depth.example.yaml 's/name: lastrank_queue_depth/name: lastrank_queue_size/'
broken not-yaml pdb.yaml 's/^spec:/spec: [/'
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
