"""The model families' names and labels (no scikit-learn import, so `predict` stays fast)."""

from __future__ import annotations

MODEL_NAMES: tuple[str, ...] = (
    "majority",
    "naive_bayes",
    "logistic",
    "decision_tree",
    "gradient_boosting",
)
"""Every family, in the order reports list them."""

MODEL_LABELS: dict[str, str] = {
    "majority": "majority (class prior)",
    "naive_bayes": "categorical naive Bayes",
    "logistic": "logistic regression (L2, thermometer)",
    "decision_tree": "decision tree (CV-pruned)",
    "gradient_boosting": "gradient boosting (hist)",
}
"""Human names for tables and plots."""
