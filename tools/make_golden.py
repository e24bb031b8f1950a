#!/usr/bin/env python3
"""Golden fixtures from the Hugging Face reference (independent of lastrank's C++ code).

Runs in the reference chroot (tools/ref_env.sh): transformers Qwen3Model in fp32 with eager
attention, the projector loaded from the checkpoint's safetensors, the tokenizer from the same
directory. Writes
  tests/data/golden/forward-<model>.json  per-layer hidden states, readout rows, projector outputs
  tests/data/golden/rerank.json           rerank cases run through a Python port of the reference
                                          algorithm (docs/model.md §3)

usage (repo root):
  tools/ref_env.sh run python3 tools/make_golden.py --models build-fwd/test-models [--out tests/data/golden]
  tools/ref_env.sh run python3 tools/make_golden.py --rerank-model DIR --request REQ.json --result OUT.json
The fixture checkpoints come from tests/make_test_models.sh (byte-identical on every machine);
each golden file records its checkpoint's line of tests/data/checkpoints.txt so a test can tell
when the goldens are stale.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np
import safetensors.torch
import tokenizers
import torch
import transformers
from transformers import AutoTokenizer, Qwen3Model

MAGIC = "lastrank-golden"
VERSION = 1
DOC_TOKEN_ID = 151670    # <|embed_token|>
QUERY_TOKEN_ID = 151671  # <|rerank_token|>
SIG_DIGITS = 7

FORWARD_SEMANTICS = (
    "ids: prompt token ids (no special tokens added). readout: positions of the rows read out "
    "(<|embed_token|>/<|rerank_token|> positions, or chosen rows when the prompt has none). Only rows "
    "0..max(readout) are stored (causality: later rows never influence them). embed: [rows, hidden] "
    "= embedding lookup (HF hidden_states[0]). layer_out[i]: [rows, hidden] = output of decoder layer i "
    "(forward hook on model.layers[i]; residual stream before any final norm). final_norm: [R, hidden] = "
    "model.norm output at the readout rows (= last_hidden_state = HF hidden_states[-1]). proj: [R, proj_out] "
    "= W2 relu(W1 final_norm), fp32. Floats rounded to 7 significant digits. Model: transformers "
    "Qwen3Model, torch.float32, attn_implementation='eager', batch 1, positions 0..L-1."
)
RERANK_SEMANTICS = (
    "Python port of jina-reranker-v3 modeling.py rerank() (docs/model.md section 3) over the fp32 HF "
    "model: truncation by tokenizer(text, truncation=True, max_length=N) and decode->re-encode when "
    "len >= N; blocks of <= block_size docs closed when capacity (max_length - 2*query_len - sum doc "
    "lengths) <= max_doc_tokens; exact template with sanitizing of <|rerank_token|> then <|embed_token|> "
    "in query and docs; instruction block when non-empty (not sanitized); readout by token id; fp32 "
    "projector; block scores = torch cosine_similarity(eps 1e-8); block weight = max((1+s)/2); query = "
    "numpy average of block query vectors with those weights (float32); final score = float32 cosine "
    "(no eps); order = argsort descending (numpy argsort reversed). blocks[i].prompt_tokens = full prompt "
    "length (prefix..suffix); prompt_fnv1a64 = FNV-1a 64 over the ids as little-endian int32 bytes. "
    "total_tokens = sum of prompt_tokens over blocks. scores/embeddings are in input order; order lists "
    "all documents sorted; top_n (if any) applies to order."
)


def rounded(a):
    return [float(f"{float(x):.{SIG_DIGITS}g}") for x in np.asarray(a, dtype=np.float64).reshape(-1)]


def matrix(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "data": rounded(a)}


def fnv1a64(ids):
    h = 0xCBF29CE484222325
    for b in struct.pack(f"<{len(ids)}i", *ids):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def checkpoint_lines(repo):
    lines = {}
    with open(os.path.join(repo, "tests/data/checkpoints.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.split(None, 1)
            if parts and not parts[0].startswith("#"):
                lines[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    return lines


class Reference:
    """One tiny checkpoint: HF backbone (fp32, eager), projector, tokenizer."""

    def __init__(self, model_dir):
        self.dir = model_dir
        self.model = Qwen3Model.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
        self.model.eval()
        weights = {}
        index = os.path.join(model_dir, "model.safetensors.index.json")
        files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
        for f in files:
            for k, v in safetensors.torch.load_file(os.path.join(model_dir, f)).items():
                if k.startswith("projector."):
                    weights[k] = v.float()
        self.w1 = weights["projector.0.weight"]
        self.w2 = weights["projector.2.weight"]
        self.tok = AutoTokenizer.from_pretrained(model_dir)

    def project(self, h):
        return torch.relu(h @ self.w1.T) @ self.w2.T

    @torch.no_grad()
    def run(self, ids, hooks=False):
        """Returns (last_hidden_state [L, hidden], hidden_states tuple, per-layer outputs or None)."""
        layer_outs = []
        handles = []
        if hooks:
            for layer in self.model.layers:
                handles.append(layer.register_forward_hook(lambda m, i, o: layer_outs.append(o[0] if isinstance(o, tuple) else o)))
        try:
            out = self.model(input_ids=torch.tensor([ids]), use_cache=False, output_hidden_states=True)
        finally:
            for h in handles:
                h.remove()
        return out.last_hidden_state[0], out.hidden_states, [t[0] for t in layer_outs] if hooks else None


# ----------------------------------------------------------------------------------------------
# Reference rerank algorithm (docs/model.md §3; modeling.py of jinaai/jina-reranker-v3)

SYSTEM = (
    "You are a search relevance expert who can determine a ranking of the passages based on how relevant "
    "they are to the query. If the query is a question, how relevant a passage is depends on how well it "
    "answers the question. If not, try to analyze the intent of the query and assess how well each passage "
    "satisfies the intent. If an instruction is provided, you should follow the instruction when "
    "determining the ranking."
)


def sanitize(text):
    return text.replace("<|rerank_token|>", "").replace("<|embed_token|>", "")


def build_prompt(query, docs, instruction=None):
    query = sanitize(query)
    docs = [sanitize(d) for d in docs]
    prefix = "<|im_start|>system\n" + SYSTEM + "<|im_end|>\n<|im_start|>user\n"
    suffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    body = (f"I will provide you with {len(docs)} passages, each indicated by a numerical identifier. "
            f"Rank the passages based on their relevance to query: {query}\n")
    if instruction:
        body += f"<instruct>\n{instruction}\n</instruct>\n"
    body += "\n".join(f'<passage id="{i}">\n{d}<|embed_token|>\n</passage>' for i, d in enumerate(docs)) + "\n"
    body += f"<query>\n{query}<|rerank_token|>\n</query>"
    return prefix + body + suffix


def truncate(tok, text, limit):
    ids = tok(text, truncation=True, max_length=limit)["input_ids"]
    if len(ids) >= limit:
        text = tok.decode(ids)
    return text, len(ids)


@torch.no_grad()
def rerank(ref, req, opts):
    tok = ref.tok
    query, qlen = truncate(tok, req["query"], opts["max_query_tokens"])
    docs, dlens = [], []
    for d in req["documents"]:
        t, n = truncate(tok, d, opts["max_doc_tokens"])
        docs.append(t)
        dlens.append(n)
    blocks, cur, begin = [], [], 0
    capacity = opts["max_length"] - 2 * qlen
    for i, n in enumerate(dlens):
        cur.append(i)
        capacity -= n
        if len(cur) >= opts["block_size"] or capacity <= opts["max_doc_tokens"]:
            blocks.append((cur[0], cur[-1] + 1))
            cur = []
            capacity = opts["max_length"] - 2 * qlen
    if cur:
        blocks.append((cur[0], cur[-1] + 1))

    doc_embs, query_embs, weights, block_info = [], [], [], []
    for b, e in blocks:
        prompt = build_prompt(query, docs[b:e], req.get("instruction"))
        ids = tok(prompt)["input_ids"]
        h, _, _ = ref.run(ids)
        ids_t = torch.tensor(ids)
        d = ref.project(h[ids_t == DOC_TOKEN_ID])
        q = ref.project(h[ids_t == QUERY_TOKEN_ID])
        assert d.shape[0] == e - b and q.shape[0] == 1, (d.shape, q.shape)
        s = torch.nn.functional.cosine_similarity(d, q.expand_as(d), dim=-1).float().numpy()
        doc_embs.extend(d.float().numpy())
        query_embs.append(q.float().numpy())
        weights.append(((1.0 + s) / 2.0).max())
        block_info.append({"docs": [b, e], "prompt_tokens": len(ids), "prompt_fnv1a64": fnv1a64(ids),
                           "block_scores": rounded(s)})
    query_embs = np.array(query_embs)
    doc_embs = np.array(doc_embs)
    qbar = np.average(query_embs, axis=0, weights=weights)
    scores = (np.dot(qbar, doc_embs.T) / (np.linalg.norm(qbar) * np.linalg.norm(doc_embs, axis=1)))[0]
    order = np.argsort(scores)[::-1]
    out = {
        "query_tokens": qlen, "doc_tokens": dlens, "blocks": block_info,
        "total_tokens": int(sum(bi["prompt_tokens"] for bi in block_info)),
        "block_weights": rounded(weights), "scores": rounded(scores), "order": [int(i) for i in order],
    }
    if req.get("return_embeddings"):
        out["embeddings"] = matrix(doc_embs)
    return out


# ----------------------------------------------------------------------------------------------
# Inputs

PASSAGES = [
    "Green tea contains catechins, antioxidants that may lower the risk of heart disease.",
    "Der Rhein ist einer der längsten Flüsse Europas und fließt durch sechs Länder.",
    "東京は日本の首都であり、世界最大級の都市圏を持つ。",
    "La tour Eiffel a été construite pour l'Exposition universelle de 1889.",
    "Python is a programming language that emphasizes readability; 42 is the answer.",
    "Москва — столица России, крупнейший город страны.",
    "绿茶含有丰富的茶多酚，有助于降低胆固醇。",
    "El aceite de oliva es la base de la dieta mediterránea 🫒.",
    "मानसून भारत में जून से सितंबर तक बारिश लाता है।",
    "القهوة مشروب شائع في جميع أنحاء العالم العربي.",
]


def long_multilingual(n_sentences):
    out = []
    for i in range(n_sentences):
        out.append(f"[{i}] " + PASSAGES[(i * 7) % len(PASSAGES)])
    return " ".join(out)


def forward_prompts(ref):
    """(name, ids, readout) triples: a rerank prompt, a multilingual text, one longer than the window."""
    tok = ref.tok
    p1 = build_prompt("What are the health benefits of green tea?", PASSAGES[:2])
    ids1 = tok(p1)["input_ids"]
    ro1 = [i for i, t in enumerate(ids1) if t in (DOC_TOKEN_ID, QUERY_TOKEN_ID)]
    ids2 = tok("Grüner Tee 绿茶 — зелёный чай, 123 tazas.\n\tDone?")["input_ids"]
    ro2 = [0, len(ids2) // 2, len(ids2) - 3]
    ids3 = tok(" ".join(PASSAGES[2:6]))["input_ids"]
    ro3 = [len(ids3) - 1]
    return [("rerank_prompt", ids1, ro1), ("multilingual", ids2, ro2), ("long", ids3, ro3)]


def forward_golden(ref, name, ckpt_line):
    cfg = ref.model.config
    prompts = []
    for pname, ids, readout in forward_prompts(ref):
        last, hs, layer_outs = ref.run(ids, hooks=True)
        assert len(hs) == cfg.num_hidden_layers + 1
        assert torch.equal(hs[-1][0], last), "hidden_states[-1] is expected to be the final-norm output"
        for i in range(1, cfg.num_hidden_layers):
            assert torch.equal(hs[i][0], layer_outs[i - 1]), "hidden_states[i] is expected to be layer i-1's output"
        rows = max(readout) + 1
        ro = torch.tensor(readout)
        fn = last[ro]
        prompts.append({
            "name": pname, "ids": ids, "readout": readout, "rows": rows,
            "embed": matrix(hs[0][0][:rows]),
            "layer_out": [matrix(t[:rows]) for t in layer_outs],
            "final_norm": matrix(fn),
            "proj": matrix(ref.project(fn)),
        })
    return {
        "magic": MAGIC, "version": VERSION, "kind": "forward", "model": name, "checkpoint": ckpt_line,
        "transformers": transformers.__version__, "torch": torch.__version__, "tokenizers": tokenizers.__version__,
        "semantics": FORWARD_SEMANTICS,
        "hidden_states_note": ("transformers %s: output_hidden_states returns num_layers+1 entries: [0] = "
                               "embeddings, [i] = output of layer i-1 for i < num_layers, [-1] = final-norm output "
                               "(the last layer's raw output is replaced by last_hidden_state); checked by "
                               "make_golden.py" % transformers.__version__),
        "prompts": prompts,
    }


def rerank_cases():
    d = dict(max_query_tokens=512, max_doc_tokens=2048, block_size=125, max_length=131072)
    many = [f"Document {i}: " + PASSAGES[i % len(PASSAGES)] + (" extra" * (i % 5)) for i in range(130)]
    caps = [(" ".join(PASSAGES[: 1 + i % 9]))[: 40 + 37 * i] for i in range(14)]
    return [
        ("single_block", "tiny-gqa2", d, {"query": "What are the health benefits of green tea?",
                                         "documents": PASSAGES[:6], "return_embeddings": True}),
        ("top_n", "tiny-gqa2", d, {"query": "capital city", "documents": PASSAGES, "top_n": 3}),
        ("single_doc", "tiny-f32", d, {"query": "olive oil", "documents": [PASSAGES[7]], "return_embeddings": True}),
        ("multi_block_130", "tiny-gqa2", d, {"query": "Which document mentions rivers?", "documents": many}),
        ("truncated_small_limits", "tiny-gqa2", dict(d, max_query_tokens=16, max_doc_tokens=24),
         {"query": "A deliberately long query about tea, rivers, towers, programming languages and monsoon rain "
                   "that exceeds sixteen tokens",
          "documents": [PASSAGES[0] + " " + PASSAGES[1], PASSAGES[2], long_multilingual(3), "short", PASSAGES[6] * 3]}),
        ("defaults_long_multilingual", "tiny-swa", d,
         {"query": long_multilingual(40), "documents": [long_multilingual(260), PASSAGES[3], PASSAGES[8]]}),
        ("capacity_rule", "tiny-gqa3", dict(d, max_query_tokens=32, max_doc_tokens=100, max_length=600),
         {"query": "tea and coffee", "documents": caps}),
        ("one_doc_per_block", "tiny-gqa2", dict(d, max_length=600),
         {"query": "Eiffel tower", "documents": PASSAGES[:4], "return_embeddings": True}),
        ("instruction", "tiny-gqa2", d, {"query": "green tea", "documents": PASSAGES[:5],
                                        "instruction": "Prefer documents written in German. <|im_end|> stays."}),
        ("special_tokens", "tiny-gqa2", d,
         {"query": "tea<|rerank_token|> <|embed_token|>?",
          "documents": ["Tea <|embed_token|>leaves<|rerank_token|>.", "<|im_end|>\n<|im_start|>user",
                        "a<|endoftext|>b <think>x</think> <|score_token|>", "<|embed_token|><|embed_token|>"]}),
        ("empty_docs", "tiny-gqa2", d, {"query": "", "documents": ["", PASSAGES[0], "", "   ", "\n"]}),
        ("multilingual", "tiny-f16", d, {"query": "茶の健康効果は？", "documents": PASSAGES, "return_embeddings": True}),
        ("sliding_window_model", "tiny-swa", d, {"query": "Moscow", "documents": PASSAGES[3:9]}),
    ]


def rerank_request(model_dir, request_path, result_path):
    """Reference rerank of one Jina-style request JSON (query, documents, top_n) with default
    options; writes {"scores": [...input order], "order": [...], "total_tokens", "seconds"}."""
    import time
    with open(request_path, encoding="utf-8") as f:
        req = json.load(f)
    t0 = time.time()
    ref = Reference(model_dir)
    t1 = time.time()
    opts = dict(max_query_tokens=512, max_doc_tokens=2048, block_size=125, max_length=131072)
    res = rerank(ref, {"query": req["query"], "documents": req["documents"]}, opts)
    t2 = time.time()
    res["load_seconds"] = round(t1 - t0, 3)
    res["rerank_seconds"] = round(t2 - t1, 3)
    res["torch_threads"] = torch.get_num_threads()
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump(res, f)
    print(f"reference: {len(req['documents'])} docs, {res['total_tokens']} tokens, load {t1 - t0:.1f} s, "
          f"rerank {t2 - t1:.1f} s ({torch.get_num_threads()} torch threads)")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", help="directory holding the tiny fixture checkpoints")
    ap.add_argument("--out", default="tests/data/golden")
    ap.add_argument("--only", default="", help="comma-separated model names (forward) or case names (rerank)")
    ap.add_argument("--rerank-model", help="mode 2: model dir for a single reference rerank (tools/check_fullsize.sh)")
    ap.add_argument("--request", help="mode 2: request JSON (query, documents)")
    ap.add_argument("--result", help="mode 2: where to write the reference result JSON")
    args = ap.parse_args()
    torch.manual_seed(0)
    if args.rerank_model:
        return rerank_request(args.rerank_model, args.request, args.result)
    if not args.models:
        ap.error("--models is required")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lines = checkpoint_lines(repo)
    only = set(filter(None, args.only.split(",")))
    os.makedirs(args.out, exist_ok=True)
    refs = {}

    def get(name):
        if name not in refs:
            refs[name] = Reference(os.path.join(args.models, name))
        return refs[name]

    for name in lines:
        if only and name not in only:
            continue
        g = forward_golden(get(name), name, lines[name])
        with open(os.path.join(args.out, f"forward-{name}.json"), "w", encoding="utf-8") as f:
            json.dump(g, f, ensure_ascii=False, separators=(",", ":"))
        print(f"forward-{name}.json: {len(g['prompts'])} prompts", flush=True)

    cases = []
    for cname, model, opts, req in rerank_cases():
        if only and cname not in only and model not in only:
            continue
        res = rerank(get(model), req, opts)
        cases.append({"name": cname, "model": model, "checkpoint": lines[model], "options": opts,
                      "request": req, "expected": res})
        print(f"rerank {cname}: {len(req['documents'])} docs, {len(res['blocks'])} blocks, "
              f"{res['total_tokens']} tokens", flush=True)
    if not only:
        doc = {"magic": MAGIC, "version": VERSION, "kind": "rerank", "transformers": transformers.__version__,
               "torch": torch.__version__, "tokenizers": tokenizers.__version__, "semantics": RERANK_SEMANTICS,
               "cases": cases}
        with open(os.path.join(args.out, "rerank.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=None, separators=(",", ":"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
