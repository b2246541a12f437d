"""A library, not a binary: py_image_layers must refuse it."""
