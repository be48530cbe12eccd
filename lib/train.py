"""Train a pocket PLM (masked language modelling) or run unsupervised SimCSE, resumably, in one command.

    python -m lib.train simcse --out_dir runs/simcse --scale pocket
    python -m lib.train simcse --out_dir runs/t01 -p temperature=0.1 -p max_steps=300
    python -m lib.train mlm --out_dir runs/plm --scale pocket -p device=cuda -p batch_size=1024
    torchrun --nproc_per_node 2 -m lib.train simcse --out_dir runs/ddp --scale smoke   # data-parallel

``--scale`` applies the scale's preset (default pocket); ``-p`` overrides it (values read as YAML, except for
string parameters). Every parameter is checked before any compute. Re-issuing the same command on the same
``--out_dir`` resumes from the last checkpoint (and returns at once when the run is finished). See
``lib/science/training/loop.py`` for what is recorded in ``DIR/train.json`` and the ``DIR/best`` / ``DIR/last`` models.
"""

from __future__ import annotations

import argparse
import os
import sys

from .book.chapters import parse_assignment
from .book.identity import runs_root
from .science import training
from .science.params import SCALES, ParameterError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.train",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("objective", choices=training.OBJECTIVES)
    parser.add_argument("--out_dir", default="", help="the run's folder (resumed when it holds a checkpoint)")
    parser.add_argument("--scale", choices=SCALES, default="pocket")
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter (value read as YAML); repeatable",
    )
    parser.add_argument(
        "--cache_dir",
        default="",
        help="where the tokenised corpus is cached (default: runs/cache, or $SRL_OUT_DIR/cache)",
    )
    parser.add_argument("--list", action="store_true", help="print the parameters at this scale and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        defaults = training.resolve_params(args.objective, {"scale": args.scale})
        overrides = dict(parse_assignment(p, defaults) for p in args.param)
        params = training.resolve_params(args.objective, {"scale": args.scale, **overrides})
        if args.list:
            helps = {name: text for name, _, text in training.describe(args.objective)}
            for name, value in params.items():
                print(f"{name} = {value!r}  # {helps[name]}")
            return 0
        if not args.out_dir:
            raise ParameterError("--out_dir", args.out_dir, "the run's folder, e.g. --out_dir runs/my-simcse")
        record = training.train(
            args.objective,
            params,
            args.out_dir,
            progress=not args.quiet,
            cache_dir=args.cache_dir or (runs_root() / "cache"),
        )
    except (ParameterError, training.TrainingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except training.NonFiniteLoss as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if int(os.environ.get("RANK", "0")) == 0:
        final = record.get("final") or {}
        best = record.get("best") or {}
        print(
            f"{args.objective} finished at step {record['step']}: "
            f"STS-B dev {final.get('stsb_dev', float('nan')):.2f} "
            f"(best {best.get('stsb_dev', float('nan')):.2f} at step {best.get('step')}); "
            f"{os.path.join(args.out_dir, 'train.json')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
