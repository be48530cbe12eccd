"""The library under the book, in two layers and a few commands.

``lib/science/`` -- what the paper is about, as pure functions over tensors where possible; knows nothing of
notebooks, charts or the book (a test walks its imports):

- ``params``     declaring and checking parameters (errors that name the parameter, value and what is allowed)
- ``files``, ``provenance``, ``devices``   atomic writes and hashes; versions, commit, clock; device, precision
- ``data``       STS sets and the Wikipedia corpus, from a local mirror or the hub
- ``tiny``, ``models``   built-in tiny encoders and the WordPiece tokenizer; encoders by the names users give them
- ``encode``, ``pooling``, ``sts``   hidden states of every layer; SimCSE's poolers; STS evaluation
- ``geometry``, ``isotropy``, ``tokens``, ``probes``, ``stats``   the authors' token-geometry metrics, IsoScore,
  functional/semantic token classes, word probes, bootstrap intervals
- ``movement``   how far a contrastive run moved, and how far its schedule let it
- ``mlm``, ``simcse``, ``dropout``, ``corpus``   the two objectives' mathematics, fast CPU dropout, the corpus
- ``training/``  the engine, in rooms of one job: ``config`` (every parameter declared once), ``objective`` with
  ``simcse_objective`` and ``mlm_objective``, ``loop`` (a ``TrainState``, no objective branches), ``folder``
  (lock, train.json, checkpoint), ``snapshots``, ``processes`` (torchrun)

``lib/book/`` -- runs, records and renders the chapters:

- ``findings``    the one registry of findings F0-F13 and the chapters that test them
- ``parameters``  every chapter's parameters, declared once (rules, presets per scale, CI scale)
- ``reference``   reference numbers (the authors' released output, SimCSE's scores), kept apart from ours
- ``identity``, ``records``, ``chapter_run``   run names; ``results.json``, its checks and the verdict word; one
  chapter execution from inside its notebook
- ``chapters``, ``execute``, ``sweep``   chapter sources; papermill runs and publishing; sweeps
- ``training_runs``, ``pairs``, ``selection``, ``ablation``, ``dynamics``   training runs trained once and reused;
  PLM vs CL per pooling and seed; the pocket schedule chosen on STS-B dev; one body for the ablation pages;
  learning curves
- ``explain``, ``tables``, ``charts``, ``literate``   generated prose, tables and altair charts that render
  offline, library code shown on the page
- ``scorecard``, ``pages``  the pages generated from the registry and the published runs

Commands: ``python -m lib.run`` (rerun a chapter), ``lib.train``, ``lib.sts``, ``lib.sweep``.
"""

__version__ = "0.3.0"
