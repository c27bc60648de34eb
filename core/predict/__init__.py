"""Prediction: preparing drawings and uploads, and looking inside a model."""
