"""What the step benchmarks share: alternating timing rounds and a side-by-side profile.

A *side* is a callable ``step(k) -> work`` that runs training step ``k`` and returns the work it did (sentences or
real tokens). :func:`alternate` times the sides in rounds, the side that goes first alternating, so a background
load on the machine falls on every side alike; it records wall time and the process's CPU time (which a background
load disturbs less: with one thread it is the time the step computed, with more it includes OpenMP's
spin-waiting). :func:`profile` runs torch.profiler over the same steps, one profiled step of each side in turn,
and sorts each side's self CPU time by operator and by category; :func:`flops` counts a step's floating-point
operations with torch's FlopCounterMode, so one sees whether both sides do the same matrix products.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

import torch

MATMUL = {
    "aten::mm",
    "aten::addmm",
    "aten::bmm",
    "aten::baddbmm",
    "aten::matmul",
    "aten::linear",
    "aten::_scaled_dot_product_flash_attention_for_cpu",
    "aten::_scaled_dot_product_flash_attention_for_cpu_backward",
}
CATEGORIES = (  # (name, test on the operator's name): the first that matches
    ("matrix products", lambda k: k in MATMUL),
    ("dropout masks (RNG)", lambda k: k in {"aten::bernoulli_", "srl::dropout_masks"}),
    ("optimiser + clipping", lambda k: "adam" in k or "foreach" in k or k == "aten::linalg_vector_norm"),
    ("casts and copies", lambda k: k in {"aten::copy_", "aten::_to_copy", "aten::clone", "aten::contiguous"}),
    (
        "vocabulary softmax",
        lambda k: "log_softmax" in k or k in {"aten::nll_loss_forward", "aten::nll_loss_backward", "aten::argmax"},
    ),
    ("everything else", lambda k: True),
)


def sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def alternate(
    sides: dict[str, Callable[[int], int]], rounds: int, steps: int, first_step: int = 0, device: str = "cpu"
) -> dict:
    """``{"wall"|"cpu"|"work": {side: [per round]}}``: ``rounds`` rounds of ``steps`` steps of each side, the
    sides' order reversed every other round. Round ``r`` runs steps ``first_step + r * steps ...`` of each side."""
    names = list(sides)
    out = {key: {name: [] for name in names} for key in ("wall", "cpu", "work")}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            t0, c0, work = time.perf_counter(), time.process_time(), 0
            for j in range(steps):
                work += sides[name](first_step + r * steps + j)
            sync(device)
            out["wall"][name].append(time.perf_counter() - t0)
            out["cpu"][name].append(time.process_time() - c0)
            out["work"][name].append(work)
    return out


def rates(timing: dict, clock: str = "wall") -> dict:
    """Work per second of each side over all rounds."""
    return {name: sum(timing["work"][name]) / sum(timing[clock][name]) for name in timing["work"]}


def round_ratios(timing: dict, ours: str, theirs: str) -> list[float]:
    """``ours`` / ``theirs`` in work per second, round by round: the spread shows the noise."""
    w, t = timing["work"], timing["wall"]
    return [(wo / to) / (wt / tt) for wo, to, wt, tt in zip(w[ours], t[ours], w[theirs], t[theirs])]


@dataclass
class Comparison:
    """``ours`` against ``theirs`` from one :func:`alternate` timing: work per second of each side (wall and
    process CPU time), their ratio over all rounds and round by round."""

    ours: str
    theirs: str
    wall: dict
    cpu: dict
    round_ratios: list

    @property
    def ratio(self) -> float:
        return self.wall[self.ours] / self.wall[self.theirs]

    @property
    def cpu_ratio(self) -> float:
        return self.cpu[self.ours] / self.cpu[self.theirs]

    def report(self, unit: str, cpu_unit: str, spec: str) -> None:
        """The two lines every step benchmark prints: the rates and ratio in wall time (with the per-round
        ratios), then in process CPU time."""
        o, t = self.ours, self.theirs
        print(
            f"{t} {self.wall[t]:{spec}} {unit}; {o} {self.wall[o]:{spec}} {unit}; ratio {self.ratio:.2f} "
            f"(per round: {', '.join(f'{r:.2f}' for r in self.round_ratios)})"
        )
        print(
            f"in process CPU time: {t} {self.cpu[t]:{spec}}, {o} {self.cpu[o]:{spec}} {cpu_unit}; "
            f"ratio {self.cpu_ratio:.2f} (less disturbed by a background load than wall time)"
        )

    def fields(self) -> dict:
        """The ratios as the benchmarks' JSON line records them."""
        return dict(
            ratio=round(self.ratio, 3),
            round_ratios=[round(r, 3) for r in self.round_ratios],
            median_round_ratio=round(statistics.median(self.round_ratios), 3),
            cpu_ratio=round(self.cpu_ratio, 3),
        )


def compare(timing: dict, ours: str, theirs: str) -> Comparison:
    return Comparison(ours, theirs, rates(timing), rates(timing, "cpu"), round_ratios(timing, ours, theirs))


def flops(step: Callable[[int], int], k: int) -> int:
    """Floating-point operations of step ``k`` (forward and backward), by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step(k)
    return counter.get_total_flops()


def profile(
    sides: dict[str, Callable[[int], int]],
    steps: int,
    first_step: int = 10_000,
    rows: int = 15,
    count_flops: bool = True,
) -> dict:
    """Each side's self CPU time by operator over ``steps`` profiled steps (one step of each side in turn), printed
    as the top ``rows`` operators and a table by category (with the GFLOP of a step when ``count_flops``), and
    returned."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    names = list(sides)
    gflop = {name: flops(sides[name], first_step - 1) / 1e9 for name in names} if count_flops else {}
    self_us = {name: {} for name in names}
    calls = {name: {} for name in names}
    wall = dict.fromkeys(names, 0.0)
    for k in range(steps):
        for name in names if k % 2 == 0 else names[::-1]:
            t0 = time.perf_counter()
            with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
                sides[name](first_step + k)
            wall[name] += time.perf_counter() - t0
            for e in prof.key_averages():
                self_us[name][e.key] = self_us[name].get(e.key, 0) + e.self_cpu_time_total
                calls[name][e.key] = calls[name].get(e.key, 0) + e.count
    out = {}
    for name in names:
        per_step = {key: us / steps / 1e6 for key, us in self_us[name].items()}
        total = sum(per_step.values())
        by = {c: 0.0 for c, _ in CATEGORIES}
        for key, seconds in per_step.items():
            by[next(c for c, test in CATEGORIES if test(key))] += seconds
        top = sorted(per_step, key=per_step.get, reverse=True)[:rows]
        extra = f", {gflop[name]:.1f} GFLOP" if gflop else ""
        print(f"\n{name}: {wall[name] / steps:.2f} s wall per profiled step, {total:.2f} s self CPU time{extra}")
        print(f"  {'operator':52s} {'s/step':>8s} {'share':>6s} {'calls/step':>10s}")
        for key in top:
            print(
                f"  {key[:52]:52s} {per_step[key]:8.3f} {per_step[key] / total:6.1%} {calls[name][key] / steps:10.0f}"
            )
        out[name] = dict(
            wall_s_per_step=round(wall[name] / steps, 3),
            self_cpu_s_per_step=round(total, 3),
            by_category={c: round(v, 3) for c, v in by.items()},
            top={key: round(per_step[key], 4) for key in top},
        )
        if gflop:
            out[name]["gflop_per_step"] = round(gflop[name], 2)
    print(f"\n  {'self CPU s/step':28s} " + " ".join(f"{n:>10s}" for n in names))
    for c, _ in CATEGORIES:
        print(f"  {c:28s} " + " ".join(f"{out[n]['by_category'][c]:10.3f}" for n in names))
    print(f"  {'total':28s} " + " ".join(f"{out[n]['self_cpu_s_per_step']:10.3f}" for n in names))
    if gflop:
        print(f"  {'GFLOP per step':28s} " + " ".join(f"{gflop[n]:10.1f}" for n in names))
    return out
