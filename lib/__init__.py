"""The library under the book, in two layers and a few commands.

``lib/science/`` -- what the paper is about, as pure functions over tensors where possible; knows nothing of
notebooks, charts or the book (a test walks its imports):

- ``params``     checking parameters before any compute (errors that name the parameter, value and what is allowed)
- ``files``      atomic writes, content hashes, JSON-safe values
- ``provenance`` library versions, git commit, device, wall clock
- ``devices``    device and precision (autocast) choices
- ``data``       STS sets and the Wikipedia corpus, from a local mirror or the hub
- ``tiny``       built-in tiny random encoders and the WordPiece tokenizer
- ``models``     encoders by the names users give them (short name, hub id, local folder, pocket-bert)
- ``encode``     tokenising and streaming the hidden states of every layer
- ``geometry``   the authors' token-geometry metrics (anisotropy, self-/intra-similarity, norms, rogue dimensions)

``lib/book/`` -- runs, records and renders the chapters:

- ``findings``    the one registry of findings F0-F13 and the chapters that test them
- ``reference``   reference numbers (the authors' released output, SimCSE's scores), kept apart from ours
- ``identity``    run names from what determines a run's numbers
- ``records``     ``results.json`` and its checks
- ``chapter_run`` one chapter execution, from inside its notebook
- ``chapters``    chapter sources, parameters, scale presets, CI scale
- ``execute``     papermill runs and publishing
- ``tables``, ``charts``  side-by-side tables and altair charts that render offline
- ``scorecard``, ``pages``  the pages generated from the registry and the published runs

Commands: ``python -m lib.run`` (rerun a chapter).
"""

__version__ = "0.2.0"
