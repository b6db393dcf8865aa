"""Bundled DECORAS model weights and model cards."""
