"""Pure-Python core: images, catalogues, regions, sessions. Never imports Qt."""
