"""The fitted weights of unit scoring and of the answer-or-refuse decision.

``weights.json`` beside this file is written by ``python -m server calibrate --write`` (logistic
regression on the visible question sets, see README); the defaults below are used when it is absent.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

WEIGHTS_FILE = Path(__file__).with_name("weights.json")

# Features of one quotable unit for one question (see compose.unit_features).
UNIT_FEATURES = (
    "semantic",
    "passage",
    "lexical",
    "overlap",
    "focus",
    "focus_unit",
    "focus_near",
    "kind",
    "rank",
    "short",
    "leadin",
    "rate",
    "conflict",
    "focus_semantic",
)
# Features of the best unit and its retrieval for the answer-or-refuse decision (see refuse.decision_features).
DECISION_FEATURES = (
    "dense",
    "score",
    "focus",
    "semantic",
    "doc_focus",
    "doc_missing",
    "doc_gap",
    "max_focus",
    "max_semantic",
    "focus_semantic",
    "max_focus_semantic",
)


@dataclass
class Weights:
    unit: dict[str, float] = field(
        default_factory=lambda: {
            "bias": -3.0,
            "semantic": 3.0,
            "passage": 1.0,
            "lexical": 2.0,
            "focus": 2.5,
            "kind": 1.5,
            "rank": 0.2,
            "short": -1.0,
            "leadin": 0.0,
        }
    )
    decision: dict[str, float] = field(
        default_factory=lambda: {
            "bias": -6.0,
            "dense": 3.0,
            "score": 1.0,
            "focus": 2.0,
            "semantic": 2.0,
            "doc_focus": 2.0,
            "max_focus": 2.0,
            "max_semantic": 1.0,
        }
    )
    min_dense: float = 0.25  # similarity floor: below it the question is off-topic whatever else holds
    second_unit_margin: float = 1.0  # a further unit's logit may be this far below the best one's
    fitted: dict = field(default_factory=dict)  # how and on what the weights were fitted (report of calibrate)

    def unit_score(self, feats: dict[str, float]) -> float:
        return _logistic(self.unit, feats.keys(), feats.values())

    def unit_score_of(self, values: list[float]) -> float:
        """``unit_score`` of the features as a list in the order of ``UNIT_FEATURES`` (the scoring loop's form)."""
        return _logistic(self.unit, UNIT_FEATURES, values)

    def close_second(self, best: float, other: float) -> bool:
        """Whether a unit scoring ``other`` is close enough to the best (``best``) to be quoted too."""
        return _logit(best) - _logit(other) <= self.second_unit_margin

    def answer_probability(self, feats: dict[str, float]) -> float:
        return _logistic(self.decision, feats.keys(), feats.values())

    def save(self, path: Path = WEIGHTS_FILE) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Weights:
        if not path.is_file():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known})
        except (OSError, ValueError, TypeError) as exc:
            logger.warning("weights file %s unreadable (%s); using defaults", path, exc)
            return cls()


def _logistic(weights: dict[str, float], names, values) -> float:
    """1 / (1 + e^-z) of the weighted sum z (``math.exp``: one number, once per unit per question; no overflow)."""
    get = weights.get
    z = get("bias", 0.0) + sum([get(name, 0.0) * v for name, v in zip(names, values, strict=True)])
    return 1.0 / (1.0 + math.exp(-z)) if z > -700.0 else 0.0


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return float(np.log(p / (1 - p)))
