"""Outputs do not depend on the SIMD kernels numpy dispatches on this CPU.

numpy picks log1p/exp kernels by CPU feature group (X86_V3 = AVX2, X86_V4 = AVX-512, ...);
their results differ in the last bit between groups. Features and scores are rounded before
they meet a threshold (``pipeline.classify.stable``), so the clean output must be byte-identical
whether numpy may use AVX-512 or not. Each run is a fresh process with ``NPY_DISABLE_CPU_FEATURES``
set; on a machine that lacks a group, that run equals the default one (fine).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.numeric

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "corpus" / "dev"
# the groups the pinned numpy (2.4) can switch off on x86-64; other names only warn
NARROWED = {
    "no-avx512": "X86_V4 AVX512_ICL AVX512_SPR",
    "no-avx2": "X86_V4 AVX512_ICL AVX512_SPR X86_V3",
}

_CLEAN_ALL = r"""
import json, sys, warnings
warnings.simplefilter("error", ImportWarning)  # an unknown feature name must fail, not pass silently
import numpy
from pathlib import Path
from pipeline.batch import iter_file_documents
from pipeline.clean import clean_or_reject, version_info
from pipeline.config import CleanConfig
cfg = CleanConfig()
version = version_info(cfg)
for name in json.loads(sys.argv[1]):
    path = Path(name)
    for doc in iter_file_documents(path, path.parent, cfg, "auto"):
        clean_or_reject(doc, cfg)
        record = doc.to_reject(version) if doc.rejected else doc.to_record(version)
        print(json.dumps(record, ensure_ascii=False, sort_keys=True))
"""


def _inputs() -> list[str]:
    files = [REPO / "tests" / "fixtures" / "seed.txt"]
    files += sorted(p for p in (REPO / "raw").rglob("*") if p.is_file() and not p.name.startswith(("_", ".")))
    if DEV.is_dir():
        for page in sorted(p for p in DEV.iterdir() if p.is_dir()):
            files += [page / "dump.txt", page / "article.txt"]
    return [str(f) for f in files if f.is_file()]


def _clean_in_child(disabled: str | None) -> str:
    env = dict(os.environ)
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    if disabled:
        env["NPY_DISABLE_CPU_FEATURES"] = disabled
    got = subprocess.run([sys.executable, "-c", _CLEAN_ALL, json.dumps(_inputs())], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert got.returncode == 0, got.stderr[-2000:]
    return got.stdout


def test_clean_output_is_byte_identical_with_narrowed_simd_dispatch():
    default = _clean_in_child(None)
    lines = default.splitlines()
    assert len(lines) >= 4 and all(json.loads(line)["id"] for line in lines)
    assert any(r["rule"].startswith("stat.") for line in lines for r in json.loads(line).get("removed", []))
    for name, disabled in NARROWED.items():
        narrowed = _clean_in_child(disabled)
        assert narrowed == default, f"output differs with NPY_DISABLE_CPU_FEATURES={disabled!r} ({name})"


def test_an_unknown_feature_name_is_refused_not_ignored():
    """The child treats numpy's ImportWarning as an error, so a misspelt group cannot make the
    narrowed run silently equal to the default one."""
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES="NOT_A_GROUP")
    got = subprocess.run([sys.executable, "-W", "error::ImportWarning", "-c", "import numpy"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert got.returncode != 0 and "NPY_DISABLE_CPU_FEATURES" in got.stderr
