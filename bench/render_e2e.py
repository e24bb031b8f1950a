#!/usr/bin/env python3
# Renders bench/results/e2e.md from run_bench.sh's JSON lines (bench_e2e, bench_workload.py and the peer
# tools print the same schema; plus bench_kernels' fma_peak lines and tools/onnx_qwen3.py's checks), the
# machine facts, the model's config.json (for the FLOP counts) and the exact commands.
# Standard library only (runs on the host's Debian python3).
import argparse
import json
import statistics

ENGINE_ORDER = {"lastrank": 0, "hf-transformers": 1, "onnxruntime": 2, "llama.cpp": 3}
MODE_ORDER = {"serve": 0, "cli": 1, "forward": 2}
PREC_ORDER = {"fp32": 0, "bf16-weights": 1, "bf16": 2, "int8": 3, "int8rr": 4, "q8_0": 5}
ENGINE_LABEL = {"hf-transformers": "HF transformers Qwen3Model (PyTorch, sdpa, OpenBLAS)",
                "onnxruntime": "ONNX Runtime (CPU EP, GQA graph: tools/onnx_qwen3.py)",
                "llama.cpp": "llama.cpp llama-bench (GGUF)"}
MODE_LABEL = {"serve": "lastrank serve, warm request", "cli": "lastrank rerank, one-shot CLI",
              "forward": "lastrank (bench_e2e)"}
PREC_LABEL = {"int8": "int8", "int8rr": "int8 (reduce_range)", "q8_0": "Q8_0", "bf16": "bf16", "fp32": "fp32"}


def label(k):
    engine, mode, prec = k
    who = MODE_LABEL.get(mode, engine) if engine == "lastrank" else ENGINE_LABEL.get(engine, engine)
    return f"{who} | {PREC_LABEL.get(prec, prec)}"


def key(r):
    return (r["engine"], r.get("mode", "forward"), r["precision"])


def sort_keys(keys):
    return sorted(keys, key=lambda k: (ENGINE_ORDER.get(k[0], 9), MODE_ORDER.get(k[1], 9), PREC_ORDER.get(k[2], 9), k[2]))


def model_flops(cfg, n):
    """Forward FLOPs over n tokens: 2 x linear weights per token + causal attention (QK^T and PV)."""
    h, inter, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    d = cfg.get("head_dim") or h // cfg["num_attention_heads"]
    q, kv = cfg["num_attention_heads"] * d, cfg["num_key_value_heads"] * d
    linear = layers * (h * (q + 2 * kv) + q * h + 3 * h * inter)
    return 2.0 * linear * n + layers * 4.0 * cfg["num_attention_heads"] * d * n * (n + 1) / 2


def gflops(cfg, r):
    return model_flops(cfg, r["tokens"]) / r["median_s"] * 1e-9


def load1(machine):
    try:
        return float(machine.get("uptime_before", "").split("load average:")[-1].split(",")[0])
    except ValueError:
        return None


class Results:
    def __init__(self, rows, cfg):
        self.cfg = cfg
        bench = [r for r in rows if "engine" in r and "tokens" in r]
        self.forward = {(key(r), r["tokens"]): r for r in bench if "workload" not in r}
        self.lengths = sorted({n for _, n in self.forward})
        self.fkeys = sort_keys({k for k, _ in self.forward})
        self.work = {(key(r), r["workload"]): r for r in bench if "workload" in r}
        self.workloads = sorted({w for _, w in self.work})
        self.wkeys = sort_keys({k for k, _ in self.work})
        self.peak = {r["threads"]: r for r in rows if r.get("kernel") == "fma_peak"}
        self.peak_now = [r["fma_peak_now"] for r in bench if r.get("fma_peak_now")]
        self.checks = [r for r in rows if "check" in r]
        self.peers = [r for r in bench if r["engine"] != "lastrank"]

    def workload_tokens(self, w):
        ns = {r["tokens"] for (k, ww), r in self.work.items() if ww == w}
        docs = {r.get("documents") for (k, ww), r in self.work.items() if ww == w} - {None}
        return (f"{w}: {docs.pop()} docs, " if docs else f"{w}: ") + "/".join(str(n) for n in sorted(ns)) + " tokens"

    def peak_line(self):
        if not self.peak:
            return "Machine fp32 FMA peak: not measured."
        ks = self.peak[min(self.peak)]["kernel_set"]
        parts = ", ".join(f"**{r['gflops']:.0f} GFLOP/s** at {t} thread{'s' if t > 1 else ''}" for t, r in sorted(self.peak.items()))
        return f"Machine fp32 FMA peak (`bench_kernels --only fma`, {ks} vectors, 12 chains per thread): {parts}." + self.drift()

    def drift(self):
        """The peak probed just before each engine's run (run_bench.sh `timed`), and a warning if it moved."""
        if not self.peak_now:
            return ""
        lo, hi = min(self.peak_now), max(self.peak_now)
        out = f" Probed again just before each engine's run (the engine threads): {lo:.0f}-{hi:.0f} GFLOP/s."
        if hi > 1.1 * lo:
            out += (f" **Warning: the machine's peak moved {100 * (hi - lo) / hi:.0f} % during this run; read each "
                    "engine's GFLOP/s against the peak beside it, not against the others' times.**")
        return out


def of_peak(r):
    """ " of P" for a row with the FMA peak probed just before it (run_bench.sh `timed`), else "". """
    return f" of {r['fma_peak_now']:.0f}" if r.get("fma_peak_now") else ""


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def workload_table(R):
    rows = []
    for k in R.wkeys:
        cells = []
        for w in R.workloads:
            r = R.work.get((k, w))
            cells.append(f"**{r['median_s']:.2f} s** ({r['tok_per_s']:.0f} tok/s, {gflops(R.cfg, r):.0f}{of_peak(r)} GFLOP/s)"
                         if r else "–")
        rows.append(label(k).split(" | ") + cells)
    return md_table(["engine / path", "precision"] + [R.workload_tokens(w) for w in R.workloads], rows)


def forward_table(R, fmt):
    rows = []
    for k in R.fkeys:
        rows.append(label(k).split(" | ") + [fmt(R.forward[(k, n)]) if (k, n) in R.forward else "–" for n in R.lengths])
    return md_table(["engine", "precision"] + [str(n) for n in R.lengths], rows)


def fmt_cell(r):
    toks = [r["tokens"] / t for t in r["runs"]]
    spread = f"{min(toks):.1f}–{max(toks):.1f}" if len(toks) > 1 else "1 run"
    return f"**{r['tok_per_s']:.1f}** ({spread}; n={len(toks)})"


def ratio_tables(R):
    out = []
    for ref in (("hf-transformers", "forward", "fp32"), ("onnxruntime", "forward", "fp32"), ("llama.cpp", "forward", "bf16")):
        if ref not in R.fkeys:
            continue
        rows = [label(k).split(" | ") + [f"{R.forward[(k, n)]['tok_per_s'] / R.forward[(ref, n)]['tok_per_s']:.2f}×"
                                         if (k, n) in R.forward and (ref, n) in R.forward else "–" for n in R.lengths]
                for k in R.fkeys if k[0] == "lastrank"]
        out += [f"Speed relative to {label(ref).replace(' | ', ' ')}:", ""] + md_table(
            ["engine", "precision"] + [str(n) for n in R.lengths], rows) + [""]
    return out


def check_lines(R):
    if not R.checks:
        return ["No peer correctness checks in this run."]
    rows = [[c["onnx"], str(c["tokens"]), f"{c['max_abs']:.2e}", f"{c['ref_max_abs']:.2f}", f"{c['min_cos']:.6f}",
             f"{c['last_cos']:.6f}", "pass" if c["pass"] else "**FAIL**"] for c in R.checks]
    return ["ONNX Runtime's last_hidden_state against transformers Qwen3Model fp32 on the bench checkpoint "
            "(seeded random ids; `tools/onnx_qwen3.py check`):", ""] + md_table(
        ["model", "tokens", "max abs diff", "max abs of ref", "min cosine (positions)", "last-position cosine", "verdict"],
        rows)


def peer_notes(R):
    out = []
    for r in R.peers:
        if r.get("blas") and not any("openblas_get_corename" in l for l in out):
            b = r["blas"]
            out.append(f"- HF transformers' BLAS: `{b.get('openblas_get_config', b.get('openblas', '?'))}`, core "
                       f"`{b.get('openblas_get_corename', '?')}`, OPENBLAS_* in its environment: `{b.get('env') or 'none'}`; "
                       f"torch: `{'; '.join(b.get('torch_blas', []))}` (openblas_get_corename)")
        if r["engine"] == "onnxruntime" and not any("ONNX Runtime" in l for l in out):
            out.append(f"- ONNX Runtime {r['versions']['onnxruntime']}, session providers {r.get('providers')}, "
                       "intra-op threads = the engine threads, inter-op 1, ORT_ENABLE_ALL")
        if r["engine"] == "llama.cpp" and not any("llama-bench build" in l for l in out):
            out.append(f"- llama-bench build {r.get('build', '?')}")
    return out


def machine_lines(machine):
    m = machine.get
    out = [f"- CPU: {m('lscpu_model', '?')}, {m('cpus', '?')} CPUs; SIMD flags present: `{m('flags', '').strip() or 'none'}`",
           f"- Memory: {m('mem', '?')}; kernel {m('kernel', '?')}; {m('os', '?')}",
           f"- Load: before `{m('uptime_before', '?').strip()}`; after `{m('uptime_after', '?').strip()}`",
           f"- lastrank: commit {m('commit', '?')}, {m('cxx', '?')}, Release (kernel set chosen at run time)"]
    if m("peer_versions"):
        out.append(f"- Peers (Debian sid chroot): {m('peer_versions').rstrip(', ')}")
    out.append(f"- Threads: {m('threads', '?')} for every engine; host OPENBLAS_* (unset for the peers' commands): "
               f"`{m('host_openblas_env', '').strip() or 'none'}`")
    l1 = load1(machine)
    if l1 is None or l1 > 0.5:
        out += ["", f"**Warning: the 1-minute load average was {l1} before the run (other jobs were using the CPUs).**",
                "These numbers are not comparable with a quiet-machine run; rerun `bench/run_bench.sh` when load < 0.5."]
    return out


def runs_lines(R):
    out = []
    for (k, tag), r in sorted(list(R.forward.items()) + list(R.work.items()), key=lambda x: str(x[0][1])):
        wu = r.get("warmup", "llama-bench default" if k[0] == "llama.cpp" else "?")
        out.append(f"- {k[0]} {k[1]} {k[2]} {'N=' if isinstance(tag, int) else 'workload '}{tag} ({r['tokens']} tokens): "
                   + ", ".join(f"{t:.3f}" for t in r["runs"]) + f" s (warm-up: {wu}; median {statistics.median(r['runs']):.3f} s"
                   + (f"; FMA peak just before: {r['fma_peak_now']:.1f} GFLOP/s" if r.get("fma_peak_now") else "")
                   + (f", after waiting {r['settled_s']} s for it to settle" if r.get("settled_s") else "") + ")")
    return out


def render(R, machine, commands, results_name):
    out = ["# End-to-end benchmark: lastrank vs PyTorch (HF transformers), ONNX Runtime, llama.cpp", "",
           "Generated by `bench/run_bench.sh` (do not edit by hand; rerun it). Checkpoint: exact jina-reranker-v3 shapes",
           f"(Qwen3-0.6B backbone, {R.cfg['num_hidden_layers']} layers, 1024→512→512 projector), random bf16 weights from",
           f"`make_checkpoint --seed {machine.get('seed', '?')}`; every peer runs the same weights (GGUF and ONNX are conversions",
           "of it). Speed does not depend on the weight values.", "", "## Machine", ""] + machine_lines(machine)
    out += ["", "## Realistic workloads: one rerank request", "", R.peak_line(), "",
            "lastrank: the whole request (tokenize, one forward over the listwise prompt, projector, scores). "
            "`serve`: a warm server (model loaded), client wall time over loopback. `CLI`: one `lastrank rerank` "
            "process (model load included, page cache warm). Peers: a **bare forward over the same number of random "
            "token ids** (no tokenizer, no scoring: less work than lastrank does). GFLOP/s = model FLOPs of the forward "
            "(2 × linear weights per token + causal attention) / time.", ""] + workload_table(R)
    out += ["", "## Bare forward over N random token ids, tokens/s", "",
            "One sequence, batch 1, to the last position (lastrank also applies the projector there). Median in bold; "
            "in brackets the per-run range and the number of timed runs.", ""] + forward_table(R, fmt_cell) + [""]
    out += ["### Effective GFLOP/s (model FLOPs / median time)", "", R.peak_line(), ""]
    out += forward_table(R, lambda r: f"{gflops(R.cfg, r):.0f}{of_peak(r)}") + [""] + ratio_tables(R)
    out += ["## Peer correctness and set-up", ""] + check_lines(R) + [""] + peer_notes(R)
    out += ["", "## Peak resident memory, MB (ru_maxrss / VmHWM of the process)", ""]
    out += forward_table(R, lambda r: f"{r['peak_rss_mb']:.0f}")
    out += ["", "## Runs", "", "Per-run seconds:", ""] + runs_lines(R)
    out += ["", "## Commands", "", "```", f"bench/run_bench.sh   # LENGTHS=\"{machine.get('lengths', '')}\" "
            f"WORKLOADS=\"{machine.get('workloads', '')}\" LAYERS={machine.get('layers', '?')}"] + commands + ["```", ""]
    out.append(f"Raw logs of this run: `{machine.get('raw', '?')}` (not committed); the JSON lines are in `{results_name}`.")
    return out


def headline(R, machine):
    l1 = load1(machine)
    h = ["**Busy machine: not comparable numbers, rerun on a quiet machine.**", ""] if l1 is None or l1 > 0.5 else []
    h += [f"{machine.get('lscpu_model', '?')} ({machine.get('cpus', '?')} CPUs), {machine.get('threads', '?')} threads, "
          f"load before: `{machine.get('uptime_before', '?').split('load average:')[-1].strip()}`; commit "
          f"{machine.get('commit', '?')}. {R.peak_line()}", "", "One rerank request (peers: bare forward, same token count):", ""]
    h += workload_table(R) + ["", "Bare forward over N random token ids, tok/s (median):", ""]
    h += forward_table(R, lambda r: f"{r['tok_per_s']:.1f}")
    return h


def update_index(path, lines):
    begin, end = "<!-- e2e-headline:begin -->", "<!-- e2e-headline:end -->"
    text = open(path).read()
    if begin not in text or end not in text:
        raise SystemExit(f"{path}: markers {begin} / {end} not found")
    pre, rest = text.split(begin, 1)
    post = rest.split(end, 1)[1]
    open(path, "w").write(pre + begin + "\n" + "\n".join(lines) + "\n" + end + post)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--commands", required=True)
    ap.add_argument("--config", required=True, help="the bench checkpoint's config.json (FLOP counts)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--index", help="bench/RESULTS.md: its e2e-headline section is replaced")
    a = ap.parse_args()
    rows = [json.loads(l) for l in open(a.results) if l.strip().startswith("{")]
    machine = dict(l.rstrip("\n").split("=", 1) for l in open(a.machine) if "=" in l)
    commands = [l.rstrip("\n") for l in open(a.commands) if l.strip()]
    R = Results(rows, json.load(open(a.config)))
    open(a.out, "w").write("\n".join(render(R, machine, commands, a.results.split("/")[-1])) + "\n")
    if a.index:
        update_index(a.index, headline(R, machine))


if __name__ == "__main__":
    main()
