"""Python scores equal the CLI's on every golden rerank case (tests/data/golden/rerank.json).

Both run the same engine, so the bound (1e-6) is far looser than what is expected (identical
float32 values). The CLI has no flag for the capacity rule's max_length: cases that set it run
with the checkpoint's tokenizer_config value on both sides (the C++ golden test covers them
against the reference)."""
import pytest

from conftest import cli_message, load, run_cli

TOL = 1e-6


def python_and_cli(case, precision):
    req = case["request"]
    opts = case["options"]
    extra = ("--max-query-tokens", str(opts["max_query_tokens"]), "--max-doc-tokens", str(opts["max_doc_tokens"]))
    rc, out, err = run_cli(case["model"], req, precision=precision, extra=extra)
    model = load(case["model"], precision)
    kwargs = dict(top_n=req.get("top_n"), return_embeddings=req.get("return_embeddings", False),
                  max_query_length=opts["max_query_tokens"], max_doc_length=opts["max_doc_tokens"],
                  instruction=req.get("instruction"))
    return rc, out, err, model, kwargs


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_scores_equal_cli(golden_cases, precision):
    compared = 0
    for case in golden_cases:
        req = case["request"]
        rc, out, err, model, kwargs = python_and_cli(case, precision)
        if rc != 0:  # the CLI rejects it: Python must reject it with the same message
            with pytest.raises(ValueError) as e:
                model.rerank(req["query"], req["documents"], **kwargs)
            assert str(e.value) == cli_message(err), case["name"]
            continue
        got = model.rerank(req["query"], req["documents"], **kwargs)
        want = out["results"]
        assert [r["index"] for r in got] == [r["index"] for r in want], case["name"]
        for g, w in zip(got, want):
            assert abs(g["relevance_score"] - w["relevance_score"]) <= TOL, (case["name"], g["index"])
            assert g["document"] == req["documents"][g["index"]]
            if kwargs["return_embeddings"]:
                assert len(g["embedding"]) == len(w["embedding"])
                assert max(abs(float(a) - b) for a, b in zip(g["embedding"], w["embedding"])) <= TOL
            else:
                assert g["embedding"] is None
        compared += 1
    assert compared >= 10, f"only {compared} golden cases ran"
