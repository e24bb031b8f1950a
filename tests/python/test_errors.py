"""Bad input: the Python exception carries the CLI's message for the same request; bad model
directories raise lastrank.ModelError naming the file (the CLI's message, too)."""
import json
import os
import shutil

import pytest

import lastrank
from conftest import cli_message, load, model_dir, run_cli, CLI

OK = {"query": "q", "documents": ["a", "b"]}

# (python keyword arguments, exception type); the CLI gets the same fields as a JSON request.
BAD_REQUESTS = [
    (dict(query=""), ValueError),
    (dict(documents=[]), ValueError),
    (dict(top_n=-3), ValueError),
    (dict(instruction="x<|rerank_token|>"), ValueError),
    (dict(query=None), TypeError),
    (dict(query=5), TypeError),
    (dict(documents=None), TypeError),
    (dict(documents="a string"), TypeError),
    (dict(documents=["a", 3]), TypeError),
    (dict(documents=["a", {"txt": "b"}]), TypeError),
    (dict(documents=["a", ["b"]]), TypeError),
    (dict(top_n="2"), TypeError),
    (dict(top_n=2.5), ValueError),  # 2.0 is accepted as 2, as by the CLI and the server
    (dict(top_n=True), TypeError),
    (dict(return_embeddings=1), TypeError),
    (dict(instruction=5), TypeError),
    (dict(max_chunks_per_doc=0), ValueError),
    (dict(max_chunks_per_doc="2"), TypeError),
]


@pytest.mark.parametrize("fields,exc", BAD_REQUESTS, ids=[json.dumps(f) for f, _ in BAD_REQUESTS])
def test_bad_request_gets_the_cli_message(fields, exc):
    request = {**OK, **fields}
    rc, _, err = run_cli("tiny-gqa2", request)
    assert rc == 1, err
    model = load("tiny-gqa2")
    kwargs = {k: v for k, v in request.items() if k not in ("query", "documents")}
    with pytest.raises(exc) as e:
        model.rerank(request["query"], request["documents"], **kwargs)
    assert type(e.value) is exc
    assert str(e.value) == cli_message(err)


def test_python_only_arguments():
    model = load("tiny-gqa2")
    with pytest.raises(ValueError, match="max_query_length must be at least 1"):
        model.rerank("q", ["a"], max_query_length=0)
    with pytest.raises(ValueError, match="max_doc_length must be at least 1"):
        model.rerank("q", ["a"], max_doc_length=-1)
    with pytest.raises(TypeError, match="max_doc_length must be an integer"):
        model.rerank("q", ["a"], max_doc_length="8")
    with pytest.raises(UnicodeEncodeError):
        model.rerank("q", ["a\ud800"])
    with pytest.raises(ValueError, match='precision must be fp32, bf16 or int8, not "fp16"'):
        lastrank.Reranker(model_dir("tiny-gqa2"), precision="fp16")
    with pytest.raises(ValueError, match="threads must be 0"):
        lastrank.Reranker(model_dir("tiny-gqa2"), threads=-1)


def test_model_error_is_an_exception():
    assert issubclass(lastrank.ModelError, Exception)
    assert not issubclass(lastrank.ModelError, ValueError)


def test_missing_directory(tmp_path):
    missing = str(tmp_path / "nope")
    with pytest.raises(lastrank.ModelError, match="model directory '.*nope' does not exist"):
        lastrank.Reranker(missing)
    with pytest.raises(lastrank.ModelError, match="config.json"):
        lastrank.Reranker(str(tmp_path))


def broken_copy(tmp_path, break_it):
    src = model_dir("tiny-gqa2")
    dst = tmp_path / "model"
    shutil.copytree(src, dst)
    break_it(dst)
    return str(dst)


def truncate_safetensors(d):
    with open(d / "model.safetensors", "r+b") as f:
        f.truncate(1000)


def garble_safetensors(d):
    with open(d / "model.safetensors", "r+b") as f:
        f.seek(8)
        f.write(b"not json at all")


def foreign_config(d):
    cfg = json.loads((d / "config.json").read_text())
    cfg["model_type"] = "llama"
    (d / "config.json").write_text(json.dumps(cfg))


BROKEN = [
    ("truncated-safetensors", truncate_safetensors, "model.safetensors"),
    ("garbled-safetensors", garble_safetensors, "model.safetensors"),
    ("foreign-config", foreign_config, "config.json"),
    ("invalid-config-json", lambda d: (d / "config.json").write_text("{oops"), "config.json"),
    ("missing-tokenizer", lambda d: os.remove(d / "tokenizer.json"), "tokenizer.json"),
]


@pytest.mark.parametrize("name,break_it,file", BROKEN, ids=[b[0] for b in BROKEN])
def test_bad_model_files(tmp_path, name, break_it, file):
    path = broken_copy(tmp_path, break_it)
    with pytest.raises(lastrank.ModelError) as e:
        lastrank.Reranker(path)
    assert file in str(e.value)
    if CLI:  # the same message as the CLI's
        p = __import__("subprocess").run([CLI, "rerank", "--model", path], input=json.dumps(OK).encode(),
                                         capture_output=True, check=False)
        assert p.returncode == 1
        assert str(e.value) == cli_message(p.stderr.decode())
