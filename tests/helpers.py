"""Small fixtures shared by the tests: which data mirror the tests read, a synthetic data mirror and corpora with
known structure."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

FIXTURE_DIR = Path(__file__).resolve().parent / "fixture_data"  # the small mirror a fresh clone tests with
# the identity (lib.science.data.mirror_identity) of the full mirror the published pages were computed on
REFERENCE_MIRROR = "mirror:2edbbad5e4b74e20c56f0fa17d386f561b9e09be4259dcae4ce211e1eb325e6f"


def data_dir_for_tests(environ: dict, repo_root: Path) -> tuple[str, str]:
    """The data mirror the tests read, and what chose it: ``$SRL_DATA_DIR``; else a ``shared/data`` mirror beside
    the checkout (as the Makefile picks it); else the fixture committed in ``tests/fixture_data``."""
    if environ.get("SRL_DATA_DIR"):
        return environ["SRL_DATA_DIR"], "SRL_DATA_DIR"
    shared = repo_root.parent / "shared" / "data"
    if (shared / "SHA256SUMS").is_file():
        return str(shared.resolve()), "../shared/data beside the checkout"
    return str(FIXTURE_DIR), "the fixture: no SRL_DATA_DIR, no ../shared/data"


SENTENCES = [
    "A man is playing a guitar.",
    "A woman is slicing an onion.",
    "The cat sits on the mat.",
    "Two dogs are running through a field.",
    "A man is playing the piano.",
    "The girl is eating a sandwich.",
    "A plane is taking off.",
    "Someone is cutting a tomato.",
    "The boy is riding a bike on the road.",
    "A cat is playing with a ball of string.",
    "The man is not playing a guitar.",
    "Kids are swimming.",
]


# what every per-layer row of the geometry protocol carries (Geometry.per_layer, a chapter's metrics.per_layer)
PER_LAYER_KEYS = {
    "layer",
    "anisotropy",
    "anisotropy_sd",
    "self_sim",
    "self_sim_adj",
    "intra_sim",
    "intra_sim_adj",
    "norm",
}


def write_mirror(root: Path, rows: int = 60, corpus_lines: int = 36) -> Path:
    """A data mirror with the shared layout: sts/{dev,test}.tsv, corpus/wiki_sentences.txt.gz (``corpus_lines``
    lines) and SHA256SUMS."""
    import gzip

    (root / "sts").mkdir(parents=True)
    (root / "corpus").mkdir()
    for split, shift in (("test", 0), ("dev", 3)):
        lines = ["score\tsentence1\tsentence2"]
        for i in range(rows):
            a, b = SENTENCES[(i + shift) % len(SENTENCES)], SENTENCES[(i * 7 + 1) % len(SENTENCES)]
            lines.append(f"{(i % 6) * 0.9:.1f}\t{a} ({i})\t{b}")
        (root / "sts" / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with gzip.open(root / "corpus" / "wiki_sentences.txt.gz", "wt", encoding="utf-8") as handle:
        lines = [f"{SENTENCES[i % len(SENTENCES)]} Line {i}." for i in range(corpus_lines)]
        handle.write("\n".join(lines) + "\n")
    sums = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  ./{path.relative_to(root).as_posix()}")
    (root / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return root


def random_corpus(n: int, vocab: int, seed: int, min_len: int = 3, max_len: int = 12) -> list[list[int]]:
    """Token-id lists with repeated ids (ids 10..vocab), framed by 101 ... 102 like BERT."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        body = rng.integers(10, vocab, size=rng.integers(min_len, max_len)).tolist()
        out.append([101, *body, 102])
    return out


def spec_values(spec, key):
    """Every value of ``key`` anywhere in a Vega-Lite spec (nested dicts and lists)."""
    if isinstance(spec, dict):
        for k, v in spec.items():
            if k == key:
                yield v
            yield from spec_values(v, key)
    elif isinstance(spec, list):
        for v in spec:
            yield from spec_values(v, key)
