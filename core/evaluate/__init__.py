"""Evaluation: test metrics, runs side by side, and code export."""
