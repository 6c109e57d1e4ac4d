"""pipeline.lgbm: the shipped models through LightGBM's C API predict what lightgbm.Booster does."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline import classify, extract, line_class
from pipeline.lgbm import Booster, LightGBMError

lightgbm = pytest.importorskip("lightgbm")
MODELS = classify.MODEL_PATH.parent


def shipped_models() -> dict[str, str]:
    texts = {name: (MODELS / name).read_text(encoding="utf-8")
             for name in ("line_stage1.txt", "line_stage2.txt", "html_blocks.lgb.txt")}
    texts["line_class.json"] = json.loads((MODELS / "line_class.json").read_text(encoding="utf-8"))["lightgbm"]
    return texts


@pytest.mark.parametrize("name", sorted(shipped_models()))
def test_predictions_equal_lightgbms(name):
    text = shipped_models()[name]
    ours, theirs = Booster(text), lightgbm.Booster(model_str=text)
    assert ours.num_feature() == theirs.num_feature()
    rng = np.random.default_rng(7)
    X = rng.normal(0, 2, (400, ours.num_feature()))
    X[rng.random(X.shape) < 0.3] = 0.0
    X[rng.random(X.shape) < 0.02] = np.nan
    got, want = ours.predict(X), theirs.predict(X, num_threads=1)
    assert got.shape == (400,) if ours.num_class == 1 else got.shape == (400, ours.num_class)
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=0, atol=1e-12)
    assert ours.predict(X[:0]).shape[0] == 0


def test_bad_input_is_refused():
    booster = Booster(shipped_models()["line_stage2.txt"])
    with pytest.raises(ValueError, match="feature columns"):
        booster.predict(np.zeros((2, booster.num_feature() + 1)))
    with pytest.raises(LightGBMError):
        Booster("this is not a model")


def test_the_pipeline_loads_its_models_through_the_c_api():
    assert isinstance(classify.load_model()["_stage1"], Booster)
    assert isinstance(extract.html_model().booster, Booster)
    assert isinstance(line_class.load_model()["booster"], Booster)
