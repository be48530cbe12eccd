"""The science layer: data, models, encoding and the geometry of token spaces (see ``lib/__init__.py``).

Nothing here imports the book layer (``lib.book``), IPython, altair or papermill; a test checks it.
"""
