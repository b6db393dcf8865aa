"""DECORAS networks: definition, training, registry and inference."""
