"""Reference adaptive optimizers (solutions/optimizers.py) vs torch.optim.

    python bench/bench_optimizers.py [--steps N] [--repeats R] [--json PATH]

For each optimizer:
  (a) agreement: the reference, torch with foreach=False and torch with its
      default (foreach=None) train the same seeded MLP for N full-batch steps, in
      float32 and float64; reported is the largest absolute parameter deviation
      of the reference from each torch run;
  (b) speed: step() alone (fixed gradients), reference vs torch foreach=False,
      one thread, blocks of steps interleaved between the two, median over R
      blocks; reported are the microseconds per step and the ratio reference/torch.
Runs in well under a minute on a laptop CPU.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from solutions import optimizers as ref  # noqa: E402

# One representative, non-default setting per optimizer.
SETTINGS = {
    "Adagrad": {"lr": 1e-2, "lr_decay": 1e-3, "weight_decay": 1e-4},
    "RMSprop": {"lr": 1e-3, "momentum": 0.9, "centered": True, "weight_decay": 1e-4},
    "Adadelta": {"lr": 1.0, "rho": 0.9, "weight_decay": 1e-4},
    "Adam": {"lr": 1e-3, "betas": (0.9, 0.999), "weight_decay": 1e-4},
    "AdamW": {"lr": 1e-3, "betas": (0.9, 0.999), "weight_decay": 1e-2},
}


def make_problem(dtype):
    """MLP 16-64-64-1 (tanh) and seeded regression data; ~5.3k parameters."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))
    g = torch.Generator().manual_seed(1)
    X = torch.randn(256, 16, generator=g)
    y = torch.sin(X[:, :4].sum(1, keepdim=True)) + 0.1 * torch.randn(256, 1, generator=g)
    return model.to(dtype), X.to(dtype), y.to(dtype)


def make_opt(impl, name, params):
    if impl == "ref":
        return getattr(ref, name)(params, **SETTINGS[name])
    foreach = {"torch": False, "torch_default": None}[impl]
    return getattr(torch.optim, name)(params, foreach=foreach, **SETTINGS[name])


def loss_of(model, X, y):
    return ((model(X) - y) ** 2).mean()


def agreement(name, dtype, steps):
    base, X, y = make_problem(dtype)
    runs = {}
    for impl in ("ref", "torch", "torch_default"):
        model = copy.deepcopy(base)
        opt = make_opt(impl, name, model.parameters())
        for _ in range(steps):
            opt.zero_grad()
            loss_of(model, X, y).backward()
            opt.step()
        runs[impl] = [p.detach() for p in model.parameters()]
    moved = max((a - b.detach()).abs().max().item() for a, b in zip(runs["torch"], base.parameters()))
    dev = {k: max((a - b).abs().max().item() for a, b in zip(runs["ref"], runs[k]))
           for k in ("torch", "torch_default")}
    return dev["torch"], dev["torch_default"], moved


def timing(name, repeats, block):
    base, X, y = make_problem(torch.float32)
    opts = {}
    for impl in ("ref", "torch"):
        model = copy.deepcopy(base)
        loss_of(model, X, y).backward()  # fixed gradients: only step() is timed
        opts[impl] = make_opt(impl, name, list(model.parameters()))
        for _ in range(block):  # warm-up, also creates the state
            opts[impl].step()
    times = {"ref": [], "torch": []}
    for r in range(repeats):
        order = ("ref", "torch") if r % 2 == 0 else ("torch", "ref")
        for impl in order:
            opt = opts[impl]
            t0 = time.perf_counter()
            for _ in range(block):
                opt.step()
            times[impl].append((time.perf_counter() - t0) / block)
    med = {k: statistics.median(v) for k, v in times.items()}
    return med["ref"] * 1e6, med["torch"] * 1e6, med["ref"] / med["torch"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200, help="training steps for the agreement check")
    ap.add_argument("--repeats", type=int, default=9, help="timed blocks per implementation")
    ap.add_argument("--block", type=int, default=100, help="step() calls per timed block")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = []
    for name in SETTINGS:
        row = {"optimizer": name, "settings": {k: list(v) if isinstance(v, tuple) else v
                                               for k, v in SETTINGS[name].items()}}
        for dtype in (torch.float32, torch.float64):
            tag = str(dtype).removeprefix("torch.")
            d_loop, d_default, moved = agreement(name, dtype, args.steps)
            row[f"maxdev_{tag}_foreach_false"] = d_loop
            row[f"maxdev_{tag}_default"] = d_default
            row[f"moved_{tag}"] = moved
        row["ref_us_per_step"], row["torch_us_per_step"], row["ratio"] = timing(name, args.repeats, args.block)
        rows.append(row)

    n_params = sum(p.numel() for p in make_problem(torch.float32)[0].parameters())
    print(f"torch {torch.__version__}, {platform.machine()}, 1 thread; MLP with {n_params} parameters; "
          f"{args.steps} steps; timing: median of {args.repeats} interleaved blocks of {args.block} step() calls")
    print("max |reference - torch| over all parameters after the run "
          "(foreach=False / torch default; 'moved' = largest parameter change, for scale)")
    head = (f"{'optimizer':<9} | {'f32 foreach=F':>13} {'f32 default':>11} {'f32 moved':>9} | "
            f"{'f64 foreach=F':>13} {'f64 default':>11} {'f64 moved':>9} | "
            f"{'ref us':>7} {'torch us':>8} {'ref/torch':>9}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['optimizer']:<9} | {r['maxdev_float32_foreach_false']:>13.3g} {r['maxdev_float32_default']:>11.3g} "
              f"{r['moved_float32']:>9.3g} | {r['maxdev_float64_foreach_false']:>13.3g} "
              f"{r['maxdev_float64_default']:>11.3g} {r['moved_float64']:>9.3g} | "
              f"{r['ref_us_per_step']:>7.1f} {r['torch_us_per_step']:>8.1f} {r['ratio']:>9.2f}")
    elapsed = time.perf_counter() - start
    print(f"total {elapsed:.1f} s")

    if args.json:
        args.json.write_text(json.dumps({
            "torch": torch.__version__, "threads": 1, "steps": args.steps, "repeats": args.repeats,
            "block": args.block, "n_params": n_params, "seconds": elapsed, "results": rows,
        }, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
