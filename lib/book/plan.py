"""Every training run the book's chapters need, declared by the studies themselves, and the workers that train them.

    python -m lib.book.plan 03 05 07            # list the runs those chapters train at their defaults
    python -m lib.book.plan --train --all       # train every missing one (resumable)
    OMP_NUM_THREADS=1 python -m lib.book.plan --train --all &   # twice: two workers, one core each

Each study says which SimCSE runs it needs from its checked parameters (``configs(params) -> [SimCSEConfig]``,
:data:`STUDIES`); nothing is guessed from parameter names. The same functions check a chapter's runs before it
starts (:func:`check`, called by :func:`lib.book.execute.run`). A worker skips a run another process is training
and comes back to it, so several workers share the plan; a chapter published afterwards finds every run it needs
finished (runs are named by their parameters).
"""

from __future__ import annotations

import functools
import sys

from ..science.training import SimCSEConfig
from . import ablation, chapters, dynamics, pairs, parameters, selection, training_runs

STUDIES = {
    "02_pocket_plm": selection.configs,
    "03_plm_vs_cl": pairs.configs,
    "04_contextualization": pairs.configs,
    "05_learning_dynamics": dynamics.configs,
    "06_simcse_anchor": pairs.configs,
    **{chapter: functools.partial(ablation.configs, chapter) for chapter in ablation.CHAPTER_KNOB},
}


def configs(chapter: str, params: dict | None = None) -> list[SimCSEConfig]:
    """The SimCSE runs a chapter trains with ``params`` (its declared defaults, then these; every rule checked),
    in the order it trains them; none for a chapter that trains nothing."""
    full = parameters.check(chapter, dict(parameters.declaration(chapter).defaults(), **(params or {})))
    study = STUDIES.get(chapter)
    if study is None:
        return []
    if chapter == "02_pocket_plm" and full["source"] != "committed":
        return []  # the grid runs from a freshly trained PLM, known only once the chapter trained it
    return study(full)


def check(chapter: str, params: dict) -> list[SimCSEConfig]:
    """Every parameter's rule and every SimCSE run the chapter would train, checked before anything is created."""
    return configs(chapter, params)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names = (
        [c.stem for c in chapters.all_chapters()]
        if "--all" in argv
        else [chapters.find(a).stem for a in argv if not a.startswith("--")]
    )
    plans = list({training_runs.run_dir(c): c for name in names for c in configs(name)}.items())
    for folder, c in plans:
        status = training_runs.status(c)
        print(
            f"{(status or {}).get('status', 'missing'):>9}  {folder.name}  pooling {c.pooling}, seed {c.seed}, "
            f"lr {c.lr:g}, dropout {c.dropout}, τ {c.temperature}, batch {c.batch_size}, "
            f"{c.stop_step or c.max_steps} of {c.max_steps} steps"
        )
    if "--train" in argv:
        training_runs.work([c for _, c in plans])
    return 0


if __name__ == "__main__":
    sys.exit(main())
