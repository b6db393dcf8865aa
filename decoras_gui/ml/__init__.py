"""DECORAS networks: tasks (what a model is for), definition, training, registry and inference."""
