"""Accuracy of a clustering against labelled truth: precision, recall and F1 over pairs and clusters."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 (0-1)."""

    precision: float
    recall: float

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pair_scores(truth: pd.Series, predicted: pd.Series) -> Scores:
    """Over all pairs of listings: a pair is positive when both are in one cluster.

    Computed from cluster sizes, never by listing pairs, so it scales to millions of listings.
    """
    both = pd.DataFrame({"t": truth.to_numpy(), "p": predicted.to_numpy()})
    true_positive = _pairs(both.groupby(["t", "p"]).size())
    predicted_pairs = _pairs(both.groupby("p").size())
    true_pairs = _pairs(both.groupby("t").size())
    return Scores(
        true_positive / predicted_pairs if predicted_pairs else 1.0,
        true_positive / true_pairs if true_pairs else 1.0,
    )


def cluster_scores(truth: pd.Series, predicted: pd.Series) -> Scores:
    """Over clusters: a predicted cluster is right when it holds exactly one true event's listings."""
    both = pd.DataFrame({"t": truth.to_numpy(), "p": predicted.to_numpy()})
    per_pred = both.groupby("p")["t"].agg(["nunique", "first", "size"])
    true_sizes = both.groupby("t").size()
    pure = per_pred[per_pred["nunique"] == 1]
    exact = int((pure["size"].to_numpy() == true_sizes.reindex(pure["first"]).to_numpy()).sum())
    return Scores(exact / len(per_pred) if len(per_pred) else 1.0, exact / len(true_sizes) if len(true_sizes) else 1.0)
