"""The book layer: runs, records and renders chapters on top of ``lib.science`` (see ``lib/__init__.py``)."""
