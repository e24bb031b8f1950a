"""Shared fixtures of the Python package tests (run by ctest: cmake/tests_library.cmake).

Environment: PYTHONPATH has <build>/python; LASTRANK_TEST_MODELS is the generated fixture
checkpoints (tests/make_test_models.sh); LASTRANK_CLI is the lastrank binary; LASTRANK_SOURCE_DIR
the repository root.
"""
import json
import os
import subprocess

import pytest

import lastrank

MODELS = os.environ.get("LASTRANK_TEST_MODELS", "")
CLI = os.environ.get("LASTRANK_CLI", "")
SOURCE_DIR = os.environ.get("LASTRANK_SOURCE_DIR", "")


def model_dir(name):
    path = os.path.join(MODELS, name)
    if not os.path.isfile(os.path.join(path, "config.json")):
        pytest.skip(f"no fixture checkpoint at {path} (run ctest, which generates them)")
    return path


_models = {}


def load(name, precision="fp32", threads=2):
    """A cached lastrank.Reranker per (checkpoint, precision, threads)."""
    key = (name, precision, threads)
    if key not in _models:
        _models[key] = lastrank.Reranker(model_dir(name), precision=precision, threads=threads)
    return _models[key]


def run_cli(model, request, precision="fp32", threads=2, extra=()):
    """(exit code, parsed stdout or None, stderr) of `lastrank rerank` on request (a dict)."""
    if not CLI or not os.path.exists(CLI):
        pytest.skip("LASTRANK_CLI is not set to the lastrank binary")
    cmd = [CLI, "rerank", "--model", model_dir(model), "--precision", precision, "--threads", str(threads), *extra]
    p = subprocess.run(cmd, input=json.dumps(request).encode(), capture_output=True, check=False)
    out = json.loads(p.stdout) if p.returncode == 0 else None
    return p.returncode, out, p.stderr.decode()


def cli_message(stderr):
    """The message of the CLI's one error line ("lastrank: <message>")."""
    line = stderr.strip()
    assert line.count("\n") == 0, stderr
    prefix = "lastrank: "
    assert line.startswith(prefix), stderr
    return line[len(prefix):]


@pytest.fixture(scope="session")
def golden_cases():
    path = os.path.join(SOURCE_DIR, "tests", "data", "golden", "rerank.json")
    if not os.path.isfile(path):
        pytest.skip(f"no {path}")
    with open(path, encoding="utf-8") as f:
        return json.load(f)["cases"]
