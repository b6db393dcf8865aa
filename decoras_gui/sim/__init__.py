"""The data engine: VLBA uv coverage, sky models and dirty-image synthesis."""
