"""Every training run the book's chapters need, listed from their own declarations, and trained by workers.

    python -m lib.book.plan 03 05 07            # list the runs those chapters train at their defaults
    python -m lib.book.plan --train --all       # train every missing one (resumable)
    OMP_NUM_THREADS=1 python -m lib.book.plan --train --all &   # twice: two workers, one core each

A worker skips a run another process is training and comes back to it, so several workers share the plan; a
chapter published afterwards finds every run it needs finished (runs are named by their parameters).
"""

from __future__ import annotations

import sys
import time

from . import ablation, chapters, parameters, training_runs


def configs(chapter: str, params: dict | None = None) -> list[dict]:
    """The training parameters of every SimCSE run a chapter trains with ``params`` (default: its declared
    defaults), in the order the chapter trains them."""
    params = dict(parameters.declaration(chapter).defaults(), **(params or {}))
    if chapter in ablation.CHAPTER_KNOB:
        _, settings, noise = ablation.plans(chapter, params)
        return list({training_runs.run_dir("simcse", p): p for p in [*settings.values(), *noise.values()]}.values())
    if "poolings" in params and "train_seeds" in params and "plm" in params:
        return [c.as_dict() for c in parameters.simcse_configs(params).values()]
    return []


def work(plans: list[dict], poll_s: float = 30.0) -> None:
    """Train every run of ``plans``, skipping those another process trains, until all have finished."""
    from ..science.training import TrainingError

    while True:
        busy = 0
        for p in plans:
            try:
                training_runs.ensure("simcse", p, wait=False)
            except TrainingError:
                busy += 1
        if not busy:
            return
        time.sleep(poll_s)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names = (
        [c.stem for c in chapters.all_chapters()]
        if "--all" in argv
        else [chapters.find(a).stem for a in argv if not a.startswith("--")]
    )
    plans = list({training_runs.run_dir("simcse", p): p for name in names for p in configs(name)}.items())
    for folder, p in plans:
        status = training_runs.status("simcse", p)
        print(
            f"{(status or {}).get('status', 'missing'):>9}  {folder.name}  pooling {p['pooling']}, seed {p['seed']},"
            f" lr {p['lr']:g}, dropout {p['dropout']}, τ {p['temperature']}, batch {p['batch_size']}, "
            f"{p['max_steps']} steps"
        )
    if "--train" in argv:
        work([p for _, p in plans])
    return 0


if __name__ == "__main__":
    sys.exit(main())
