"""Weights know what they were fitted on: stale or incomplete weights fail to load with what to run."""

from __future__ import annotations

import json

import pytest

from server.answering.fingerprint import feature_fingerprint, fitted_weights
from server.answering.weights import DECISION_FEATURES, UNIT_FEATURES, WEIGHTS_FILE, StaleWeights, Weights


def test_the_shipped_weights_were_fitted_on_the_features_and_vocabulary_in_use():
    # Fails in CI when feature code or vocabulary changed without `python -m server calibrate --write`.
    weights = fitted_weights()
    assert weights.fitted["fingerprint"] == feature_fingerprint()
    assert set(weights.unit) == {"bias", *UNIT_FEATURES} and set(weights.decision) == {"bias", *DECISION_FEATURES}


def _write(tmp_path, data):
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(data))
    return path


def test_weights_of_other_features_fail_with_the_command_that_refits(tmp_path):
    data = json.loads(WEIGHTS_FILE.read_text())
    data["fitted"]["fingerprint"] = "0000000000000000"
    with pytest.raises(StaleWeights, match=r"fitted on other features.*python -m server calibrate --write"):
        fitted_weights(_write(tmp_path, data))
    assert (
        Weights.load(_write(tmp_path, data), fingerprint=None).unit == data["unit"]
    )  # refitting reads them as they are


def test_a_missing_weight_is_an_error_not_zero(tmp_path):
    data = json.loads(WEIGHTS_FILE.read_text())
    del data["decision"]["focus_semantic"]
    with pytest.raises(StaleWeights, match="decision weights in weights.json miss focus_semantic"):
        Weights.load(_write(tmp_path, data), fingerprint=data["fitted"]["fingerprint"])


def test_an_unreadable_weights_file_says_so(tmp_path):
    path = tmp_path / "weights.json"
    path.write_text("{not json")
    with pytest.raises(StaleWeights, match="cannot be read"):
        fitted_weights(path)
