"""Bundled resources: sample images, icons, stylesheet."""
