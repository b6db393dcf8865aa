"""Evaluation: cross-matching to truth, completeness/purity, baselines."""
