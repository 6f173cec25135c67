"""What the fitted weights belong to: a digest of the feature names, the code that computes the features and the
analysis they read, and the vocabulary file. Kept apart from ``weights`` (which the feature code imports)."""

from __future__ import annotations

import functools
import hashlib
import inspect
from pathlib import Path

from . import compose, question, refuse
from .vocabulary import vocabulary
from .weights import DECISION_FEATURES, UNIT_FEATURES, WEIGHTS_FILE, Weights


@functools.cache
def feature_fingerprint() -> str:
    parts = [
        vocabulary().fingerprint,
        ",".join(UNIT_FEATURES),
        ",".join(DECISION_FEATURES),
        inspect.getsource(question),  # the whole analysis the features read
        *(inspect.getsource(code) for code in (*compose.FEATURE_CODE, *refuse.FEATURE_CODE)),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def fitted_weights(path: Path = WEIGHTS_FILE) -> Weights:
    """The weights file, checked against the features and vocabulary in use (``StaleWeights`` if stale)."""
    return Weights.load(path, fingerprint=feature_fingerprint())
