"""Evaluate a model on the seven STS tasks SimCSE reports, in one command.

    python -m lib.sts --model all-MiniLM-L6-v2 --pooling avg
    python -m lib.sts --model runs/simcse/best --pooling cls --data_dir /path/to/data

STS12-16 in SimCSE's "all" setting (every subset of a year in one Spearman correlation), STS-B test, SICK-R test:
Spearman x 100 of the cosine similarity of the two sentences' vectors. Prints a table, then, as its last line, one
JSON object with keys STS12, STS13, STS14, STS15, STS16, STSB, SICKR, avg.
"""

from __future__ import annotations

import argparse
import json
import sys

from .science import devices, models, sts
from .science.params import ParameterError, choice
from .science.pooling import POOLINGS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.sts",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="short name, hub id or local folder")
    parser.add_argument("--pooling", default="cls", help="one of " + ", ".join(POOLINGS))
    parser.add_argument("--data_dir", default="", help="data mirror (default: $SRL_DATA_DIR, else the hub)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        choice("pooling", args.pooling, POOLINGS)
        spec = models.resolve(args.model)
        device = devices.resolve_device(args.device)
        encoder = models.load(spec, device)
        scores = sts.evaluate(
            encoder.model,
            encoder.tokenizer,
            args.pooling,
            args.data_dir,
            batch_size=args.batch_size,
            progress=not args.quiet,
        )
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{spec.name} ({args.pooling} pooling), Spearman x 100 of cosine similarity:")
    print("  ".join(f"{k:>6}" for k in scores))
    print("  ".join(f"{v:6.2f}" for v in scores.values()))
    print(json.dumps({k: round(v, 4) for k, v in scores.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
