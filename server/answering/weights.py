"""The fitted weights of unit scoring and of the answer-or-refuse decision.

``weights.json`` beside this file is written by ``python -m server calibrate --write`` (logistic
regression on the visible question sets, see README) with the fingerprint of the features and vocabulary it
was fitted on; weights of other features, or with a weight missing, fail to load with what to run.
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
ANSWER_AT = 0.5  # the answer probability from which the bot answers

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
    "contrast",
    "focus_semantic",
    "asks",
    "previous_semantic",
    "near_semantic",
    "polar",
    "heading",
    "condition",
    "total",
    "context_semantic",
)
# Features of the best unit and its retrieval for the answer-or-refuse decision (see refuse.decision_features).
DECISION_FEATURES = (
    "dense",
    "score",
    "focus",
    "semantic",
    "doc_focus",
    "doc_missing",
    "acronym_missing",
    "doc_gap",
    "max_focus",
    "max_semantic",
    "focus_semantic",
    "max_focus_semantic",
    "focus_near",
    "near_semantic",
    "condition",
)


@dataclass
class Weights:
    unit: dict[str, float] = field(default_factory=dict)  # UNIT_FEATURES and "bias"
    decision: dict[str, float] = field(default_factory=dict)  # DECISION_FEATURES and "bias"
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

    @staticmethod
    def answers(probability: float) -> bool:
        """The decision: answer when answering is at least as likely right as refusing (a wrong answer and a
        wrong refusal cost the same; see README)."""
        return probability >= ANSWER_AT

    def save(self, path: Path = WEIGHTS_FILE) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE, *, fingerprint: str | None) -> Weights:
        """The fitted weights; raises ``StaleWeights`` when they were fitted on features or vocabulary other
        than ``fingerprint`` (see ``fingerprint.feature_fingerprint``), or miss a weight, with what to run.
        ``fingerprint=None`` (for refitting only) takes them as they are."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            known = {f.name for f in fields(cls)}
            weights = cls(**{k: v for k, v in data.items() if k in known})
        except (OSError, ValueError, TypeError) as exc:
            raise StaleWeights(f"the weights file {path.name} cannot be read ({exc}); {REFIT}") from exc
        if fingerprint is None:
            return weights
        fitted_with = weights.fitted.get("fingerprint")
        if fitted_with != fingerprint:
            raise StaleWeights(
                f"the weights in {path.name} were fitted on other features or vocabulary "
                f"(fingerprint {fitted_with}, now {fingerprint}); {REFIT}"
            )
        for name, model, features in (
            ("unit", weights.unit, UNIT_FEATURES),
            ("decision", weights.decision, DECISION_FEATURES),
        ):
            missing = [f for f in ("bias", *features) if f not in model]
            if missing:
                raise StaleWeights(f"the {name} weights in {path.name} miss {', '.join(missing)}; {REFIT}")
        return weights


REFIT = "fit them again with `python -m server calibrate --write`"


class StaleWeights(RuntimeError):
    """The weights file does not belong to the feature code and vocabulary in use."""


def _logistic(weights: dict[str, float], names, values) -> float:
    """1 / (1 + e^-z) of the weighted sum z (``math.exp``: one number, once per unit per question; no overflow)."""
    get = weights.get
    z = get("bias", 0.0) + sum([get(name, 0.0) * v for name, v in zip(names, values, strict=True)])
    return 1.0 / (1.0 + math.exp(-z)) if z > -700.0 else 0.0


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return float(np.log(p / (1 - p)))
