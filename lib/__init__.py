"""The library under the book, in two layers and a few commands.

``lib/science/`` -- what the paper is about, as pure functions over tensors where possible; knows nothing of
notebooks, charts or the book (a test walks its imports):

- ``params``     declaring and checking parameters (errors that name the parameter, value and what is allowed)
- ``files``, ``provenance``, ``devices``   atomic writes and hashes; versions, commit, clock; device, precision
- ``data``       STS sets and the Wikipedia corpus, from a local mirror or the hub
- ``tiny``, ``models``   built-in tiny encoders and the WordPiece tokenizer; encoders by the names users give them
- ``encode``, ``pooling``, ``sts``   hidden states of every layer; SimCSE's poolers; STS evaluation
- ``geometry``, ``isotropy``, ``tokens``, ``probes``, ``stats``   the authors' token-geometry metrics, IsoScore,
  functional/semantic token classes (and frequency bins), word probes, t and bootstrap intervals
- ``movement``   how far a contrastive run moved, how far its schedule let it, and its null control
- ``mlm``, ``simcse``, ``dropout``, ``corpus``   the two objectives' mathematics, fast CPU dropout, the corpus
- ``training/``  the engine, in rooms of one job: ``config`` (every parameter declared once), ``objective`` with
  ``simcse_objective`` and ``mlm_objective``, ``loop`` (a ``TrainState``, no objective branches), ``folder``
  (lock, train.json, checkpoint), ``snapshots``, ``processes`` (torchrun)

``lib/book/`` -- runs, records and renders the chapters, one room per job:

- ``findings``, ``reference``, ``labels``   the one registry of findings F0-F13; the published numbers, kept apart
  from ours; the metrics' names
- ``declarations``, ``parameters``   every chapter's parameters, declared once (rules, presets per scale, CI
  scale), and their checks
- ``chapters``, ``execute``, ``sweep``   chapter sources, their parameter cells and their opening; papermill runs
  and publishing; sweeps
- ``identity``, ``training_runs``, ``plan``   run names; training runs trained once and reused (a run is its
  ``SimCSEConfig``); every run each study declares, and the workers that train them
- ``pairs``, ``dynamics``, ``ablation``, ``selection``   the studies: PLM vs CL (end and best per pooling and seed,
  the null control); learning curves and the path comparison; what the ablation pages share; the pocket schedule
  chosen on STS-B dev
- ``results``   a chapter's checks, the one verdict rule (effects with intervals, direction and size apart) and its
  ``results.json``; ``explain`` turns verdicts into sentences
- ``tables``, ``charts`` (with ``points``, ``vega``), ``explore``, ``literate``   tables and altair charts that
  render offline (one colour per pooling book-wide), the token explorer and the training-step scrubber, library
  code shown on the page
- ``datafiles``   the data behind every page: Parquet/CSV files beside ``results.json``, their manifest and the
  page's "Data" section, shipped with the built book
- ``scorecard``, ``pages``  the pages generated from the registry and the published runs

Commands: ``python -m lib.run`` (rerun a chapter), ``lib.train``, ``lib.sts``, ``lib.sweep``, ``lib.data_mirror``
(build the data mirror from the hub).
"""

__version__ = "0.3.0"
