"""One process, or data-parallel processes under ``torchrun`` (gloo on the CPU, NCCL on CUDA).

Under ``torchrun`` every process runs the same loop on its slice of each global batch; only rank 0 evaluates,
measures and writes. SimCSE's in-batch negatives are gathered across processes
(:func:`lib.science.simcse.gather_with_grad`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from .. import devices


@dataclass
class Processes:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()

    def device(self, device: str) -> str:
        """This process's device: ``cuda:<local rank>`` for data-parallel CUDA runs."""
        return f"cuda:{self.local_rank}" if self.world > 1 and devices.device_kind(device) == "cuda" else device

    def wrap(self, module: torch.nn.Module, device: str) -> torch.nn.Module:
        """``module`` as the processes train it: wrapped in DistributedDataParallel when there are several."""
        if self.world == 1:
            return module
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(
            module, device_ids=[self.local_rank] if device.startswith("cuda") else None, find_unused_parameters=True
        )


def init_processes(device: str) -> Processes:
    """Data-parallel processes when launched by torchrun (WORLD_SIZE > 1), else one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Processes()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if devices.device_kind(device) == "cuda" else "gloo")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if devices.device_kind(device) == "cuda":
        torch.cuda.set_device(local)
    return Processes(dist.get_rank(), dist.get_world_size(), local)
