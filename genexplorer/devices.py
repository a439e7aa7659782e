"""Where a run trains: the device ("auto" picks CUDA, then Apple's MPS, then the CPU) and, under ``torchrun``,
its place among the processes that share the work (DistributedDataParallel averages their gradients)."""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


def pick_device(name: str = "auto") -> torch.device:
    """"auto" -> CUDA, then Apple MPS, then CPU. Any other name is checked, not trusted."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was asked for but this machine has no usable CUDA GPU; use --device cpu or auto")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("MPS was asked for but is not available here; use --device cpu or auto")
    return device


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return str(device)


@dataclass(frozen=True)
class Distributed:
    """Where this process stands in a ``torchrun`` launch (RANK, WORLD_SIZE, LOCAL_RANK in the
    environment); one process on its own is rank 0 of 1, and then nothing here does anything."""
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> "Distributed":
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls()
        return cls(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def start(self, device_name: str) -> torch.device:
        """This process's device (its own GPU under torchrun), and the process group: NCCL between
        GPUs, gloo between CPU processes."""
        device = pick_device(device_name)
        if self.active and device.type == "cuda":
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        if self.active and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return device

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def mean_of(self, sums: dict[str, float], count: int, device) -> dict[str, float]:
        """Per-key means over every process's ``sums`` of ``count`` values each."""
        if not self.active:
            return {k: v / max(count, 1) for k, v in sums.items()}
        keys = sorted(sums)
        totals = torch.tensor([sums[k] for k in keys] + [float(count)], dtype=torch.float64, device=device)
        dist.all_reduce(totals)
        return {k: float(totals[i] / max(float(totals[-1]), 1.0)) for i, k in enumerate(keys)}

    def stop(self) -> None:
        if self.active and dist.is_initialized():
            dist.destroy_process_group()


class LossModule(nn.Module):
    """model.loss as a forward(): DistributedDataParallel averages the gradients of what its forward computed."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x, y):
        return self.model.loss(x, y)


@contextmanager
def swapped(model: nn.Module, modules: dict[str, nn.Module]):
    """Run with some of model's submodules replaced (by their DDP wrappers); the model itself, its
    state_dict included, is left as it was."""
    saved = {name: model._modules[name] for name in modules}
    model._modules.update(modules)
    try:
        yield
    finally:
        model._modules.update(saved)


def parallel_step(step_factory, model: nn.Module, parts, device: torch.device):
    """The family's step with its gradients averaged over every process. ``parts``: "loss" (the whole loss in one
    DistributedDataParallel, handed to the step as ``loss``) or the names of submodules to wrap each on its own
    (a GAN's two players, which take turns)."""
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    if parts == "loss":
        return step_factory(loss=DistributedDataParallel(LossModule(model), device_ids=device_ids))
    wrapped = {name: DistributedDataParallel(getattr(model, name), device_ids=device_ids) for name in parts}
    inner = step_factory(loss=None)

    def step(x, y):
        with swapped(model, wrapped):
            return inner(x, y)
    return step
