#!/usr/bin/env python3
"""The ONNX Runtime peer's model: a Qwen3 backbone graph written with the onnx helper API straight from
a checkpoint's safetensors, the way onnxruntime-genai's builder writes Qwen3 for the CPU provider:

  Gather (embedding) -> per layer: SimplifiedLayerNormalization / com.microsoft.SkipSimplifiedLayerNormalization
  (residual add + RMSNorm), MatMul q/k/v, q_norm/k_norm as SimplifiedLayerNormalization over [B,S,heads,d],
  com.microsoft.GroupQueryAttention (causal, rotary inside: do_rotary=1, fp32 cos/sin caches, rotate-half),
  MatMul o, SwiGLU as MatMul gate/up + Sigmoid*Mul, MatMul down -> final SkipSimplifiedLayerNormalization.

Inputs input_ids [B,S] int64 and attention_mask [B,S] int64 (all ones: one prefill, no KV cache);
output last_hidden_state [B,S,hidden] fp32, what transformers' Qwen3Model returns. The jina projector
is not part of it (as for the other peers). Weights go to one external-data file next to the model
(fp32 is 2.4 GB at full size, over protobuf's 2 GB). Runs in the reference chroot (tools/ref_env.sh):

  onnx_qwen3.py build    --model CKPT_DIR --out DIR/model.onnx [--max-len 16384]
  onnx_qwen3.py quantize --fp32 DIR/model.onnx --out DIR8/model.onnx [--reduce-range]
  onnx_qwen3.py check    --model CKPT_DIR --onnx DIR/model.onnx [MORE.onnx] [--tokens 64] [--max-abs 1e-4] [--min-cos 0.99999]

`check` compares last_hidden_state with transformers Qwen3Model fp32 on seeded random ids and prints
one JSON line (max abs diff, cosine per position); exit 1 when a bound fails.
int8 (`quantize`): quantize_dynamic, MatMul weights only, per output channel, s8 weights x u8
activations. Without VNNI, ORT's u8 x s8 kernel (vpmaddubsw) saturates its 16-bit pair sums and
8-bit weights give wrong hidden states; --reduce-range (7-bit weights) keeps the sums in range at
the same speed. bench/run_bench.sh checks both on the bench checkpoint and uses the one that passes.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

kFirstSpecialId = 151669


# ---------------------------------------------------------------------------------------------- weights
def load_config(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    if any(t != "full_attention" for t in cfg.get("layer_types") or []):
        raise SystemExit("onnx_qwen3: sliding-window layers are not supported by this builder")
    rope = cfg.get("rope_parameters") or {}
    cfg.setdefault("rope_theta", rope.get("rope_theta", 1e6))
    cfg.setdefault("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    return cfg


def open_weights(model_dir):
    """name -> a function returning the tensor as fp32 numpy (read lazily, one at a time)."""
    from safetensors import safe_open  # torch framework: numpy has no bfloat16
    table = {}
    for path in sorted(glob.glob(os.path.join(model_dir, "*.safetensors"))):
        f = safe_open(path, framework="pt")
        for name in f.keys():
            table[name] = (lambda f=f, n=name: f.get_tensor(n).float().numpy())
    return table


class ExternalData:
    """Writes initializers into one external-data file and returns their TensorProtos."""

    def __init__(self, onnx_path):
        self.location = os.path.basename(onnx_path) + ".data"
        self.file = open(os.path.join(os.path.dirname(os.path.abspath(onnx_path)), self.location), "wb")
        self.offset = 0

    def tensor(self, name, array):
        a = np.ascontiguousarray(array, dtype=np.float32)
        pad = (-self.offset) % 4096  # page-aligned, so ORT can map it
        self.file.write(b"\0" * pad)
        self.offset += pad
        t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=a.shape)
        for k, v in (("location", self.location), ("offset", str(self.offset)), ("length", str(a.nbytes))):
            entry = t.external_data.add()
            entry.key, entry.value = k, v
        t.data_location = TensorProto.EXTERNAL
        self.file.write(a.tobytes())
        self.offset += a.nbytes
        return t

    def close(self):
        self.file.close()


# ---------------------------------------------------------------------------------------------- graph
class Graph:
    """Nodes and initializers of the model being built; op() returns the output name(s)."""

    def __init__(self, data):
        self.data, self.nodes, self.inits, self.count = data, [], [], 0

    def op(self, op_type, inputs, n_out=1, domain="", unused=(), **attrs):
        self.count += 1
        outs = ["" if i in unused else f"{op_type}_{self.count}_out{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=f"{op_type}_{self.count}", domain=domain, **attrs))
        return outs[0] if n_out == 1 else outs

    def weight(self, name, array):
        self.inits.append(self.data.tensor(name, array))
        return name

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def matmul(self, x, weights, name):  # nn.Linear without bias: x @ W^T
        return self.op("MatMul", [x, self.weight(name, weights[name]().T)])


def rms_norm(g, x, weight, eps):
    return g.op("SimplifiedLayerNormalization", [x, weight], axis=-1, epsilon=eps, stash_type=1)


def skip_rms_norm(g, x, residual, weight, eps):
    """(norm(x + residual), x + residual)."""
    out, _, _, summed = g.op("SkipSimplifiedLayerNormalization", [x, residual, weight], n_out=4, unused=(1, 2),
                             domain="com.microsoft", epsilon=eps)
    return out, summed


def head_norm(g, x, weights, name, cfg):  # Qwen3 q_norm / k_norm: RMSNorm over each head's d channels
    d = cfg["head_dim"]
    heads = g.op("Reshape", [x, g.const(f"{name}.shape", np.array([0, 0, -1, d], np.int64))])
    normed = rms_norm(g, heads, g.weight(name, weights[name]()), cfg["rms_norm_eps"])
    return g.op("Reshape", [normed, g.const(f"{name}.flat", np.array([0, 0, -1], np.int64))])


def rotary_caches(g, cfg, max_len):
    d = cfg["head_dim"]
    inv_freq = 1.0 / (float(cfg["rope_theta"]) ** (np.arange(0, d, 2, dtype=np.float64) / d))
    freqs = np.outer(np.arange(max_len, dtype=np.float64), inv_freq)
    return g.const("cos_cache", np.cos(freqs).astype(np.float32)), g.const("sin_cache", np.sin(freqs).astype(np.float32))


def gqa_lengths(g):
    """seqlens_k [B] int32 (= valid length - 1) and total_sequence_length (int32 scalar) from the mask."""
    one = g.const("one_i64", np.array(1, np.int64))
    summed = g.op("ReduceSum", ["attention_mask", g.const("axis1", np.array([1], np.int64))], keepdims=0)
    seqlens = g.op("Cast", [g.op("Sub", [summed, one])], to=TensorProto.INT32)
    total = g.op("Gather", [g.op("Shape", ["attention_mask"]), one], axis=0)
    return seqlens, g.op("Cast", [total], to=TensorProto.INT32)


def attention(g, x, weights, p, cfg, rope, lengths):
    q = head_norm(g, g.matmul(x, weights, p + "self_attn.q_proj.weight"), weights, p + "self_attn.q_norm.weight", cfg)
    k = head_norm(g, g.matmul(x, weights, p + "self_attn.k_proj.weight"), weights, p + "self_attn.k_norm.weight", cfg)
    v = g.matmul(x, weights, p + "self_attn.v_proj.weight")
    out = g.op("GroupQueryAttention", [q, k, v, "", "", lengths[0], lengths[1], rope[0], rope[1]], n_out=3,
               domain="com.microsoft", num_heads=cfg["num_attention_heads"], kv_num_heads=cfg["num_key_value_heads"],
               do_rotary=1, rotary_interleaved=0)[0]
    return g.matmul(out, weights, p + "self_attn.o_proj.weight")


def mlp(g, x, weights, p):
    gate = g.matmul(x, weights, p + "mlp.gate_proj.weight")
    act = g.op("Mul", [gate, g.op("Sigmoid", [gate])])
    up = g.matmul(x, weights, p + "mlp.up_proj.weight")
    return g.matmul(g.op("Mul", [act, up]), weights, p + "mlp.down_proj.weight")


def build_graph(g, cfg, weights, max_len):
    eps = cfg["rms_norm_eps"]
    rope, lengths = rotary_caches(g, cfg, max_len), gqa_lengths(g)
    residual = g.op("Gather", [g.weight("model.embed_tokens.weight", weights["model.embed_tokens.weight"]()), "input_ids"])
    x, pending = None, None
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w_in = g.weight(p + "input_layernorm.weight", weights[p + "input_layernorm.weight"]())
        if pending is None:
            x = rms_norm(g, residual, w_in, eps)
        else:
            x, residual = skip_rms_norm(g, pending, residual, w_in, eps)
        w_post = g.weight(p + "post_attention_layernorm.weight", weights[p + "post_attention_layernorm.weight"]())
        x, residual = skip_rms_norm(g, attention(g, x, weights, p, cfg, rope, lengths), residual, w_post, eps)
        pending = mlp(g, x, weights, p)
    w_norm = g.weight("model.norm.weight", weights["model.norm.weight"]())
    out, _ = skip_rms_norm(g, pending, residual, w_norm, eps)
    g.nodes.append(helper.make_node("Identity", [out], ["last_hidden_state"], name="output"))


def cmd_build(a):
    cfg = load_config(a.model)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    data = ExternalData(a.out)
    g = Graph(data)
    build_graph(g, cfg, open_weights(a.model), a.max_len)
    data.close()
    graph = helper.make_graph(
        g.nodes, "qwen3", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
                           helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", cfg["hidden_size"]])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)],
                              producer_name="lastrank tools/onnx_qwen3.py")
    model.ir_version = 10
    onnx.save_model(model, a.out)
    print(f"onnx_qwen3: wrote {a.out} (+ {data.location}, {data.offset / 1e9:.2f} GB), "
          f"{len(g.nodes)} nodes, {cfg['num_hidden_layers']} layers, max_len {a.max_len}", file=sys.stderr)


def cmd_quantize(a):
    from onnxruntime.quantization import QuantType, quantize_dynamic
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    quantize_dynamic(a.fp32, a.out, op_types_to_quantize=["MatMul"], per_channel=True, reduce_range=a.reduce_range,
                     weight_type=QuantType.QInt8, use_external_data_format=True,
                     # onnx shape inference stops at the com.microsoft ops: the activations are fp32
                     extra_options={"MatMulConstBOnly": True, "DefaultTensorType": TensorProto.FLOAT})
    print(f"onnx_qwen3: wrote {a.out} (quantize_dynamic, MatMul, per-channel, s8 weights, "
          f"reduce_range={a.reduce_range})", file=sys.stderr)


# ---------------------------------------------------------------------------------------------- run and check
def session(path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def run(sess, ids):
    mask = np.ones_like(ids)
    return sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})[0]


def random_ids(n, vocab, seed):
    return np.random.default_rng(seed).integers(0, min(vocab, kFirstSpecialId), size=(1, n), dtype=np.int64)


def reference_hidden(model_dir, ids):
    import torch
    from transformers import Qwen3Model
    model = Qwen3Model.from_pretrained(model_dir, dtype=torch.float32).eval()
    with torch.inference_mode():
        return model(input_ids=torch.from_numpy(ids), use_cache=False).last_hidden_state.numpy()


def compare(ref, got):
    r, o = ref[0].astype(np.float64), got[0].astype(np.float64)
    cos = (r * o).sum(-1) / (np.linalg.norm(r, axis=-1) * np.linalg.norm(o, axis=-1))
    return {"max_abs": float(np.abs(r - o).max()), "ref_max_abs": float(np.abs(r).max()),
            "min_cos": float(cos.min()), "mean_cos": float(cos.mean()), "last_cos": float(cos[-1])}


def cmd_check(a):
    """Each --onnx model against one transformers fp32 pass: one JSON line each; exit 1 if any fails."""
    import gc

    import onnxruntime as ort
    cfg = load_config(a.model)
    ids = random_ids(a.tokens, cfg["vocab_size"], a.seed)
    ref = reference_hidden(a.model, ids)
    failed = 0
    for path in a.onnx:
        sess = session(path, a.threads)
        stats = compare(ref, run(sess, ids))
        del sess
        gc.collect()
        ok = stats["max_abs"] <= a.max_abs and stats["min_cos"] >= a.min_cos
        failed += not ok
        print(json.dumps({"check": "onnx_vs_transformers_fp32", "onnx": path, "tokens": a.tokens, **stats,
                          "bound_max_abs": a.max_abs, "bound_min_cos": a.min_cos, "pass": ok,
                          "onnxruntime": ort.__version__}), flush=True)
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--model", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--max-len", type=int, default=16384, help="rows of the rotary caches (longest prompt)")
    q = sub.add_parser("quantize")
    q.add_argument("--fp32", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--reduce-range", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("--model", required=True)
    c.add_argument("--onnx", required=True, nargs="+")
    c.add_argument("--tokens", type=int, default=64)
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--seed", type=int, default=7)
    c.add_argument("--max-abs", type=float, default=1e-4)
    c.add_argument("--min-cos", type=float, default=0.99999)
    a = ap.parse_args()
    return {"build": cmd_build, "quantize": cmd_quantize, "check": cmd_check}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
