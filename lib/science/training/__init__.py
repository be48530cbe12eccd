"""One training loop, two objectives: MLM pre-training (the pocket PLM) and unsupervised SimCSE.

    from lib.science import training
    record = training.train("simcse", {"scale": "pocket"}, "runs/my-simcse")   # train.json, as a dict

The rooms, one job each:

- :mod:`.config` -- every parameter declared once (defaults, per-scale presets, allowed values, help);
- :mod:`.objective`, :mod:`.simcse_objective`, :mod:`.mlm_objective` -- what differs between the objectives: the
  model, the batches, the loss, the evaluation, what is recorded, the export;
- :mod:`.loop` -- the loop and its :class:`~.loop.TrainState`, with no branch on the objective;
- :mod:`.folder` -- the run folder: its lock, ``train.json``, the checkpoint, the model folders;
- :mod:`.snapshots` -- geometry measured during training;
- :mod:`.processes` -- one process or data-parallel ones under torchrun.
"""

from .config import CONFIGS, OBJECTIVES, MLMConfig, SimCSEConfig, TrainConfig, describe, resolve, schedule
from .folder import TrainingError, read_status
from .loop import NonFiniteLoss, TrainState, max_steps_of, train
from .snapshots import LOG_STEPS
from .snapshots import schedule as snapshot_schedule


def resolve_params(objective: str, overrides: dict | None = None) -> dict:
    """The run's full parameter set as a dict (what ``train.json`` records and the run identity hashes)."""
    return resolve(objective, overrides).as_dict()


__all__ = [
    "CONFIGS",
    "LOG_STEPS",
    "MLMConfig",
    "NonFiniteLoss",
    "OBJECTIVES",
    "SimCSEConfig",
    "TrainConfig",
    "TrainState",
    "TrainingError",
    "describe",
    "max_steps_of",
    "read_status",
    "resolve",
    "resolve_params",
    "schedule",
    "snapshot_schedule",
    "train",
]
