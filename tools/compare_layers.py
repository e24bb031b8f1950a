#!/usr/bin/env python3
"""Per-layer diff of a `lastrank rerank --dump-layers DIR` dump against the HF fp32 reference.

Rebuilds the (single-block) prompt of the request with the reference algorithm of
tools/make_golden.py, runs transformers Qwen3Model (fp32, eager) with hooks on every layer's
attention, MLP and output, and prints max abs / scale-normalized differences for each dumped
tensor (embed, attn_out, mlp_out, layer_out per layer, final_norm at the readout rows).
Runs in the reference chroot:
  tools/ref_env.sh run python3 tools/compare_layers.py --model MODEL_DIR --request REQ.json --dump DUMP_DIR
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as mg  # noqa: E402  (same directory, reference-side code only)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--request", required=True, help="Jina request JSON given to lastrank rerank")
    ap.add_argument("--dump", required=True, help="--dump-layers directory")
    ap.add_argument("--max-query-tokens", type=int, default=512)
    ap.add_argument("--max-doc-tokens", type=int, default=2048)
    args = ap.parse_args()

    req = json.load(open(args.request, encoding="utf-8"))
    docs = [d["text"] if isinstance(d, dict) else d for d in req["documents"]]
    ref = mg.Reference(args.model)
    query, _ = mg.truncate(ref.tok, req["query"], args.max_query_tokens)
    docs = [mg.truncate(ref.tok, d, args.max_doc_tokens)[0] for d in docs]
    ids = ref.tok(mg.build_prompt(query, docs, req.get("instruction")))["input_ids"]
    readout = [i for i, t in enumerate(ids) if t in (mg.DOC_TOKEN_ID, mg.QUERY_TOKEN_ID)]
    rows = max(readout) + 1

    got = {}
    index = json.load(open(os.path.join(args.dump, "index.json")))
    for file, meta in index.items():
        a = np.fromfile(os.path.join(args.dump, file), dtype="<f4").reshape(meta["shape"])
        got[(meta["name"], meta["layer"])] = a

    caught = {}
    hooks = []
    for i, layer in enumerate(ref.model.layers):
        hooks.append(layer.self_attn.register_forward_hook(lambda m, a, o, i=i: caught.__setitem__(("attn_out", i), o[0][0])))
        hooks.append(layer.mlp.register_forward_hook(lambda m, a, o, i=i: caught.__setitem__(("mlp_out", i), o[0])))
        hooks.append(layer.register_forward_hook(
            lambda m, a, o, i=i: caught.__setitem__(("layer_out", i), (o[0] if isinstance(o, tuple) else o)[0])))
    try:
        last, hs, _ = ref.run(ids)
    finally:
        for h in hooks:
            h.remove()
    caught[("embed", -1)] = hs[0][0]
    caught[("final_norm", -1)] = last
    n_layers = len(ref.model.layers)
    print(f"prompt: {len(ids)} tokens, computed rows {rows}, readout rows {len(readout)}, layers {n_layers}")
    if len(got) == 0:
        print("dump is empty")
        return 1
    worst = 0.0
    for key in sorted(got, key=lambda k: (k[1], k[0])):
        if key not in caught:
            print(f"{key}: no reference tensor")
            continue
        want = caught[key].float().numpy()
        a = got[key]
        if a.shape[0] == len(readout) and a.shape[0] != rows:
            want = want[readout]
        else:
            want = want[: a.shape[0]]
        if want.shape != a.shape:
            print(f"{key}: shape {a.shape} vs reference {want.shape}")
            continue
        err = float(np.abs(a - want).max())
        scale = float(np.abs(want).max()) or 1e-30
        worst = max(worst, err / scale)
        print(f"{key[0]:>10} layer {key[1]:>3}: max_abs {err:.3e}  max_rel {err / scale:.3e}  (scale {scale:.3g})")
    print(f"worst scale-normalized difference: {worst:.3e}")
    return 0


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    sys.exit(main())
