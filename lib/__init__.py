"""The small library under the book.

Modules are named after what they compute or hold:

- ``params``    -- checking a chapter's parameters before any compute
- ``data``      -- STS sets and the Wikipedia corpus, from a local mirror or the hub
- ``models``    -- encoders by the names users give them (short name, hub id, local folder)
- ``encode``    -- tokenising and streaming the hidden states of every layer
- ``geometry``  -- the authors' token-geometry metrics (anisotropy, self-/intra-similarity, norms, rogue dimensions)
- ``reference`` -- the paper's published numbers, kept apart from ours
- ``results``   -- ``results.json``: parameters, metrics, checks and provenance, written atomically
- ``charts``    -- altair charts that render offline in the built book
- ``run``       -- rerun a chapter with other parameters in one command (jupytext -> papermill)
- ``scorecard`` -- the reproduction scorecard built from every published ``results.json``
"""

__version__ = "0.1.0"
