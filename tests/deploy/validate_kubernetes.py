#!/usr/bin/python3
"""Static checks of the Kubernetes manifests (deploy/kubernetes) against each other and the code.

Parses every *.yaml (python3-yaml) and checks: required keys per kind; the Service, the PDB and the
Deployment's own selector match the pod labels; HPAs target the Deployment; probe paths are routes
the server serves by GET (the route table in src/server/router.cpp), liveness is /live (a pod is not
restarted while its model loads) and readiness /ready or /health, and probe/Service ports name a container port;
LASTRANK_PORT, the prometheus port annotation and containerPort agree; every LASTRANK_* variable is
one that `lastrank serve` reads (src/server/serve.cpp); the Secret and PVC references resolve; the
queue-depth metric is a gauge that /metrics exports (src/server/metrics.cpp); the pod runs as the
Dockerfile's non-root user. Prints one line per problem; exit 1 if any.
  /usr/bin/python3 tests/deploy/validate_kubernetes.py <manifests dir> <source dir>
"""
import glob
import os
import re
import sys

import yaml

problems = []


def check(cond, msg):
    if not cond:
        problems.append(msg)
    return cond


def get(doc, path, default=None):
    for key in path.split("."):
        if not isinstance(doc, dict) or key not in doc:
            return default
        doc = doc[key]
    return doc


def load_manifests(mdir):
    docs = []
    for path in sorted(glob.glob(os.path.join(mdir, "*.yaml"))):
        if os.path.basename(path) == "kustomization.yaml":  # kustomize's own file, checked in main()
            continue
        with open(path) as f:
            try:
                for doc in yaml.safe_load_all(f):
                    if doc is not None:
                        docs.append((os.path.basename(path), doc))
            except yaml.YAMLError as e:
                problems.append(f"{path}: not valid YAML: {e}")
    return docs


def selector_matches(selector, labels, what):
    check(isinstance(selector, dict) and selector, f"{what}: empty selector")
    for k, v in (selector or {}).items():
        check(labels.get(k) == v, f"{what}: selector {k}={v} does not match the pod labels {labels}")


def port_ref_ok(ref, ports, what):
    names = {p.get("name") for p in ports}
    numbers = {p.get("containerPort") for p in ports}
    check(ref in names or ref in numbers, f"{what}: port {ref!r} is not a container port {sorted(map(str, names | numbers))}")


def server_routes(src):
    """GET paths of the router's table: lines like {"GET", {"/health", "/ready"}, kOpen, ...}."""
    text = open(os.path.join(src, "src/server/router.cpp")).read()
    routes = set()
    for paths in re.findall(r'\{"GET", \{([^}]*)\}', text):
        routes |= set(re.findall(r'"([^"]+)"', paths))
    return routes


def serve_env_names(src):
    return set(re.findall(r'envname\("([A-Z_]+)"\)', open(os.path.join(src, "src/server/serve.cpp")).read()))


def dockerfile_uid(src):
    m = re.search(r"^USER\s+(\d+)", open(os.path.join(src, "Dockerfile")).read(), re.M)
    return int(m.group(1)) if m else None


def check_deployment(fname, dep, src, by_kind):
    what = f"{fname}: Deployment {get(dep, 'metadata.name')}"
    pod_labels = get(dep, "spec.template.metadata.labels", {})
    selector_matches(get(dep, "spec.selector.matchLabels"), pod_labels, what + " spec.selector")
    spec = get(dep, "spec.template.spec", {})
    containers = spec.get("containers") or []
    if not check(len(containers) == 1, f"{what}: expected one container"):
        return
    c = containers[0]
    for key in ("name", "image", "ports", "resources", "readinessProbe", "livenessProbe"):
        check(key in c, f"{what}: container lacks {key}")
    ports = c.get("ports") or []
    routes = server_routes(src)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        if probe not in c:
            continue
        path, port = get(c[probe], "httpGet.path"), get(c[probe], "httpGet.port")
        check(path in routes, f"{what}: {probe} path {path!r} is not a server route {sorted(routes)}")
        if probe == "livenessProbe":
            check(path == "/live", f"{what}: livenessProbe path {path!r} must be /live (it answers while the model loads)")
        if probe == "readinessProbe":
            check(path in ("/ready", "/health"), f"{what}: readinessProbe path {path!r} must be /ready (503 until loaded)")
        port_ref_ok(port, ports, f"{what}: {probe}")
    env = {e["name"]: e for e in c.get("env") or []}
    known = serve_env_names(src)
    for name in env:
        if name.startswith("LASTRANK_"):
            check(name in known, f"{what}: {name} is not read by lastrank serve (envname in serve.cpp: {sorted(known)})")
    http_ports = [p["containerPort"] for p in ports if p.get("name") == "http"]
    check(len(http_ports) == 1, f"{what}: expected one container port named http")
    if http_ports:
        check(str(get(env.get("LASTRANK_PORT", {}), "value")) == str(http_ports[0]),
              f"{what}: LASTRANK_PORT does not equal containerPort {http_ports[0]}")
        ann = get(dep, "spec.template.metadata.annotations", {}) or {}
        if "prometheus.io/port" in ann:
            check(str(ann["prometheus.io/port"]) == str(http_ports[0]), f"{what}: prometheus.io/port != containerPort")
    for kind in ("requests", "limits"):
        for res in ("cpu", "memory"):
            check(get(c, f"resources.{kind}.{res}") is not None, f"{what}: resources.{kind}.{res} missing")
    threads = get(env.get("LASTRANK_THREADS", {}), "value")
    check(threads is not None and str(threads) == str(get(c, "resources.requests.cpu")),
          f"{what}: LASTRANK_THREADS ({threads}) should equal the CPU request")
    key_ref = get(env.get("LASTRANK_API_KEY", {}), "valueFrom.secretKeyRef")
    if check(key_ref is not None, f"{what}: LASTRANK_API_KEY does not come from a Secret"):
        secrets = {get(s, "metadata.name"): s for _, s in by_kind.get("Secret", [])}
        sec = secrets.get(key_ref.get("name"))
        if check(sec is not None, f"{what}: Secret {key_ref.get('name')!r} is not among the manifests"):
            keys = set((sec.get("stringData") or {}).keys()) | set((sec.get("data") or {}).keys())
            check(key_ref.get("key") in keys, f"{what}: Secret {key_ref.get('name')} has no key {key_ref.get('key')!r}")
    pvcs = {get(p, "metadata.name") for _, p in by_kind.get("PersistentVolumeClaim", [])}
    mounts = {m["name"]: m for m in c.get("volumeMounts") or []}
    for vol in spec.get("volumes") or []:
        check(vol["name"] in mounts, f"{what}: volume {vol['name']} is not mounted")
        claim = get(vol, "persistentVolumeClaim.claimName")
        if claim is not None:
            check(claim in pvcs, f"{what}: PVC {claim!r} is not among the manifests")
    hf_home = get(env.get("HF_HOME", {}), "value")
    check(hf_home in {m.get("mountPath") for m in mounts.values()}, f"{what}: HF_HOME {hf_home!r} is not a mounted volume")
    uid = dockerfile_uid(src)
    check(get(spec, "securityContext.runAsNonRoot") is True, f"{what}: runAsNonRoot is not true")
    check(get(spec, "securityContext.runAsUser") == uid, f"{what}: runAsUser is not the Dockerfile's USER {uid}")
    sleep = get(c, "lifecycle.preStop.exec.command", [])
    pre = int(sleep[1]) if len(sleep) == 2 and sleep[0] == "sleep" else 0
    check(spec.get("terminationGracePeriodSeconds", 30) >= pre + 60,
          f"{what}: terminationGracePeriodSeconds < preStop ({pre} s) + the 60 s request timeout")
    return pod_labels, ports


def main():
    mdir, src = sys.argv[1], sys.argv[2]
    docs = load_manifests(mdir)
    by_kind = {}
    for fname, doc in docs:
        for key in ("apiVersion", "kind", "metadata"):
            check(key in doc, f"{fname}: missing {key}")
        check(get(doc, "metadata.name"), f"{fname}: missing metadata.name")
        by_kind.setdefault(doc.get("kind"), []).append((fname, doc))
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "PersistentVolumeClaim", "Secret"):
        check(kind in by_kind, f"no {kind} in {mdir}")
    deps = by_kind.get("Deployment", [])
    if not check(len(deps) == 1, "expected exactly one Deployment"):
        return
    fname, dep = deps[0]
    dep_name = get(dep, "metadata.name")
    result = check_deployment(fname, dep, os.path.abspath(src), by_kind)
    pod_labels, ports = result if result else ({}, [])
    for fname, svc in by_kind.get("Service", []):
        selector_matches(get(svc, "spec.selector"), pod_labels, f"{fname}: Service selector")
        for p in get(svc, "spec.ports", []):
            port_ref_ok(p.get("targetPort", p.get("port")), ports, f"{fname}: Service targetPort")
    for fname, pdb in by_kind.get("PodDisruptionBudget", []):
        selector_matches(get(pdb, "spec.selector.matchLabels"), pod_labels, f"{fname}: PDB selector")
        check(("minAvailable" in pdb["spec"]) != ("maxUnavailable" in pdb["spec"]), f"{fname}: set one of minAvailable/maxUnavailable")
    metrics_src = open(os.path.join(src, "src/server/metrics.cpp")).read()
    kinds = set()
    for fname, hpa in by_kind.get("HorizontalPodAutoscaler", []):
        ref = get(hpa, "spec.scaleTargetRef", {})
        check(ref.get("kind") == "Deployment" and ref.get("name") == dep_name and ref.get("apiVersion") == "apps/v1",
              f"{fname}: scaleTargetRef {ref} is not Deployment {dep_name}")
        check(get(hpa, "spec.minReplicas", 1) <= get(hpa, "spec.maxReplicas", 0), f"{fname}: minReplicas > maxReplicas")
        for m in get(hpa, "spec.metrics", []):
            kinds.add(m.get("type"))
            name = get(m, "pods.metric.name")
            if name is not None:
                check(f"# TYPE {name} gauge" in metrics_src, f"{fname}: {name} is not a gauge in src/server/metrics.cpp")
    check({"Resource", "Pods"} <= kinds, f"expected a CPU (Resource) HPA and a queue-depth (Pods) HPA, found {sorted(kinds)}")
    kust = os.path.join(mdir, "kustomization.yaml")
    if check(os.path.exists(kust), "no kustomization.yaml"):
        res = yaml.safe_load(open(kust)).get("resources", [])
        for r in res:
            check(os.path.exists(os.path.join(mdir, r)), f"kustomization.yaml: {r} does not exist")
            check(".example." not in r, f"kustomization.yaml: {r} is an example, not for apply")
        names = [get(d, "metadata.name") for f, d in docs if f in res and d.get("kind") == "HorizontalPodAutoscaler"]
        check(len(names) <= 1, "kustomization.yaml: more than one HPA for the Deployment")


if __name__ == "__main__":
    main()
    for p in problems:
        print("PROBLEM", p)
    print(f"validate_kubernetes: {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)
