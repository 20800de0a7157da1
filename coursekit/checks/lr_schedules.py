"""Visible checks for Chapter 10 (learning-rate schedules), and the sandbox-side drivers the grader's hidden tests
run the student's code through.

A scheduler is driven next to torch's own class on an optimizer with several parameter groups: the driver records
the learning rate of every group after construction and after every ``scheduler.step()``, what ``get_last_lr()``
says, ``last_epoch`` and ``base_lrs``, optionally with a ``state_dict()`` round trip into a fresh optimizer and
scheduler halfway. The training loop is driven with an optimizer that records the order of the calls and the
learning rate each optimizer step used. Each message names the mistake it recognises; the wordings in
``MESSAGES`` are shared with the grader.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR, StepLR

# One wording per named mistake, for the visible checks and the grader's feedback.
MESSAGES = {
    "one_base": "every parameter group follows the same learning rates: each group has its own base rate "
                "(self.base_lrs[i], one per group); scale each group's own base rate",
    "wrong_base": "the rates are not scaled from each group's own base rate: read self.base_lrs (one entry per "
                  "parameter group, the group's initial lr), not optimizer.defaults or a single number",
    "base_lrs": "self.base_lrs changed during training: base_lrs are the initial rates and must stay as they are "
                "(compute the new rates from them, don't overwrite them; torch's SequentialLR and state_dict rely "
                "on them)",
    "cosine_off_by_one": "the cosine is off by one: the rate must reach eta_min exactly at last_epoch = T_max "
                         "(lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2, with "
                         "last_epoch = 0 right after construction)",
    "pi_approx": "pi is rounded (your rates follow a cosine with pi = {pi:.6g}): use math.pi, the double-precision "
                 "value, as torch does",
    "warmup_zero": "the warmup gives lr = 0 at the first step: the first rate is start_factor * base_lr "
                   "(last_epoch = 0 after construction), and the factor rises linearly to end_factor at "
                   "last_epoch = total_iters",
    "sched_first": "scheduler.step() is called before optimizer.step(): the first rate of the schedule is "
                   "skipped and torch warns about it. Call optimizer.step() first, then scheduler.step()",
    "per_step": "the scheduler is stepped after every batch, but interval='epoch' asks for one scheduler.step() "
                "per epoch",
    "per_epoch": "the scheduler is stepped once per epoch, but interval='step' asks for one scheduler.step() after "
                 "every optimizer.step()",
    "get_last_lr": "get_last_lr() must return the learning rates the scheduler set in the optimizer's groups "
                   "(don't override step() or get_last_lr(); implement get_lr())",
    "roundtrip": "a state_dict() / load_state_dict() round trip into a fresh scheduler changes the schedule: keep "
                 "the schedule's state in attributes of the scheduler (last_epoch, base_lrs and your settings)",
    "warmup_cosine_start": "after the warmup the cosine must start again at base_lr: at last_epoch = warmup_iters "
                           "the rate is base_lr, and the cosine reaches eta_min at warmup_iters + T_max",
}


# ---------------------------------------------------------------- the oracle of Part 4 in torch
def sequential_warmup_cosine(optimizer, warmup_iters, T_max, start_factor=1.0 / 3, eta_min=0.0):
    """torch's composition: LinearLR for ``warmup_iters`` steps, then CosineAnnealingLR, with SequentialLR."""
    warmup = LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_iters)
    cosine = CosineAnnealingLR(optimizer, T_max=T_max, eta_min=eta_min)
    return SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_iters])


TORCH = {"StepLR": StepLR, "CosineAnnealingLR": CosineAnnealingLR, "LinearLR": LinearLR,
         "WarmupCosineLR": sequential_warmup_cosine}


# ---------------------------------------------------------------- the scheduler driver
def _optimizer(lrs, kind="SGD"):
    groups = []
    for k, lr in enumerate(lrs):
        p = torch.nn.Parameter(torch.full((2,), float(k + 1), dtype=torch.float64))
        groups.append({"params": [p], "lr": float(lr)})
    if kind == "Adam":
        return torch.optim.Adam(groups)
    return torch.optim.SGD(groups, momentum=0.9 if kind == "momentum" else 0.0)


def schedule_run(cls, kwargs, lrs=(0.1,), steps=12, roundtrip_at=None, optimizer="SGD"):
    """Driver: ``cls(optimizer, **kwargs)`` on an optimizer whose parameter groups start at ``lrs``, stepped
    ``steps`` times (``optimizer.step()`` then ``scheduler.step()``, with a gradient each time).

    ``roundtrip_at``: after that many steps, the optimizer's and the scheduler's state_dicts go into a fresh
    optimizer and a fresh ``cls(...)`` (scheduler created first, then both load_state_dict, as torch's docs say),
    and the run continues with those. Returns {"lrs": (steps + 1, groups) group["lr"] after construction and after
    each step, "last_lr": the same from get_last_lr(), "last_epoch": after construction and each step,
    "base_lrs": base_lrs at the end, "initial": lrs}.
    """
    lrs = [float(v) for v in lrs]
    kwargs = dict(kwargs)
    opt = _optimizer(lrs, optimizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = cls(opt, **kwargs)

        def record():
            out_lrs.append([float(g["lr"]) for g in opt.param_groups])
            last = sched.get_last_lr()
            out_last.append([float(v) for v in last] if isinstance(last, (list, tuple)) else [float("nan")])
            out_epoch.append(int(sched.last_epoch))

        out_lrs, out_last, out_epoch = [], [], []
        record()
        for t in range(int(steps)):
            for g in opt.param_groups:
                for p in g["params"]:
                    p.grad = torch.ones_like(p)
            opt.step()
            sched.step()
            if roundtrip_at is not None and t + 1 == int(roundtrip_at):
                sd_opt, sd_sched = opt.state_dict(), sched.state_dict()
                opt = _optimizer(lrs, optimizer)
                sched = cls(opt, **kwargs)
                opt.load_state_dict(sd_opt)
                sched.load_state_dict(sd_sched)
            record()
    width = max(len(r) for r in out_last)
    last = np.array([r + [float("nan")] * (width - len(r)) for r in out_last])
    return {"lrs": np.array(out_lrs), "last_lr": last, "last_epoch": out_epoch,
            "base_lrs": [float(v) for v in getattr(sched, "base_lrs", [g["initial_lr"] for g in opt.param_groups])],
            "initial": lrs}


def _diagnose(out, want, name, kwargs):
    """A message naming the mistake that explains the difference between ``out`` and torch's ``want``, or None."""
    got, ref = out["lrs"], want["lrs"]
    if not np.allclose(out["base_lrs"], out["initial"], rtol=1e-12, atol=0):
        return MESSAGES["base_lrs"]
    if got.shape == ref.shape and ref.shape[1] > 1 and not np.allclose(ref[:, 0:1], ref, rtol=1e-9):
        if np.allclose(got[:, 0:1], got, rtol=1e-9):
            return MESSAGES["one_base"]
    if got.shape == ref.shape and np.all(ref != 0) and np.all(np.isfinite(got)):
        ratio = got / ref
        # a constant ratio clearly off 1 (not float32 rounding), and not a power of StepLR's gamma (a decay that
        # comes at the wrong step)
        powers = [float(kwargs.get("gamma", 0.1)) ** k for k in (-2, -1, 1, 2)] if name == "StepLR" else []
        if np.allclose(ratio, ratio[:1], rtol=1e-9) and np.max(np.abs(ratio - 1.0)) > 1e-3 \
                and not any(np.allclose(ratio, q, rtol=1e-9) for q in powers):
            return MESSAGES["wrong_base"]
    if name == "CosineAnnealingLR":
        T, eta_min = int(kwargs["T_max"]), float(kwargs.get("eta_min", 0.0))
        if got.shape[0] > T and not np.isclose(got[T, 0], eta_min, rtol=1e-9, atol=1e-9):
            return MESSAGES["cosine_off_by_one"]
    if name in ("LinearLR", "WarmupCosineLR") and np.any(got[0] == 0):
        return MESSAGES["warmup_zero"]
    if name == "WarmupCosineLR":
        w = int(kwargs["warmup_iters"])
        if got.shape[0] > w and not np.allclose(got[w], out["initial"], rtol=1e-9):
            return MESSAGES["warmup_cosine_start"]
    return None


def compare_schedule(student_cls, name, kwargs, lrs=(0.1, 0.02), steps=12, roundtrip_at=None, label=""):
    """Raise AssertionError (naming the mistake when recognised) unless ``student_cls`` gives the same learning
    rates as torch's ``name`` (or SequentialLR for "WarmupCosineLR") at every step, for every group."""
    what = f"{name} ({label})" if label else name
    out = schedule_run(student_cls, kwargs, lrs, steps, roundtrip_at)
    want = schedule_run(TORCH[name], kwargs, lrs, steps, roundtrip_at)
    if out["lrs"].shape != want["lrs"].shape:
        raise AssertionError(f"{what}: the optimizer has {want['lrs'].shape[1]} parameter groups; set a rate for each")
    if not np.allclose(out["lrs"], want["lrs"], rtol=1e-9, atol=1e-12):
        t = int(np.argmax(np.any(~np.isclose(out["lrs"], want["lrs"], rtol=1e-9, atol=1e-12), axis=1)))
        hint = _diagnose(out, want, name, kwargs)
        if roundtrip_at is not None and hint is None:
            hint = MESSAGES["roundtrip"]
        where = "right after construction" if t == 0 else f"after {t} call(s) of scheduler.step()"
        raise AssertionError(f"{what}: the learning rates differ from torch's {where}: yours "
                             f"{np.round(out['lrs'][t], 6).tolist()}, torch's {np.round(want['lrs'][t], 6).tolist()}"
                             + (f". Likely cause: {hint}" if hint else ""))
    if not np.allclose(out["base_lrs"], out["initial"], rtol=1e-12, atol=0):
        raise AssertionError(f"{what}: {MESSAGES['base_lrs']}")
    if not np.allclose(out["last_lr"], out["lrs"], rtol=1e-12, atol=0, equal_nan=False):
        raise AssertionError(f"{what}: {MESSAGES['get_last_lr']}")
    if out["last_epoch"] != want["last_epoch"]:
        raise AssertionError(f"{what}: last_epoch must be 0 after construction and grow by one per step()")


def check_scheduler(student_cls, name) -> None:
    """Visible check of Parts 1-4: the student's scheduler against torch's on settings other than the grader's."""
    settings = {
        "StepLR": [("one group", {"step_size": 3, "gamma": 0.5}, (0.1,)),
                   ("two groups with different base rates", {"step_size": 2, "gamma": 0.3}, (0.2, 0.05)),
                   ("a state_dict round trip after 5 steps", {"step_size": 3, "gamma": 0.5}, (0.1, 0.01), 5)],
        "CosineAnnealingLR": [("T_max = 4, one group", {"T_max": 4}, (0.1,)),
                              ("two groups, eta_min = 0.001", {"T_max": 6, "eta_min": 0.001}, (0.2, 0.05)),
                              ("a state_dict round trip after 3 steps", {"T_max": 5}, (0.1, 0.01), 3)],
        "LinearLR": [("start_factor = 0.25, total_iters = 4", {"start_factor": 0.25, "total_iters": 4}, (0.1,)),
                     ("two groups, end_factor = 0.5", {"start_factor": 1.0, "end_factor": 0.5, "total_iters": 3},
                      (0.2, 0.05)),
                     ("torch's defaults, a state_dict round trip after 2 steps", {}, (0.1, 0.01), 2)],
        "WarmupCosineLR": [("warmup_iters = 3, T_max = 5", {"warmup_iters": 3, "T_max": 5, "start_factor": 0.2},
                            (0.1,)),
                           ("two groups, eta_min = 0.001", {"warmup_iters": 2, "T_max": 6, "start_factor": 0.5,
                                                             "eta_min": 0.001}, (0.2, 0.05)),
                           ("a state_dict round trip after 4 steps", {"warmup_iters": 3, "T_max": 4}, (0.1, 0.01),
                            4)],
    }[name]
    for label, kwargs, lrs, *rest in settings:
        steps = 12
        compare_schedule(student_cls, name, kwargs, lrs, steps, rest[0] if rest else None, label=label)


# ---------------------------------------------------------------- Part 5: the training loop
class _RecordingSGD(torch.optim.SGD):
    """torch.optim.SGD that logs each step and the learning rate of each group it used."""

    def __init__(self, params, log, lrs, **kwargs):
        super().__init__(params, **kwargs)
        self._log, self._lrs = log, lrs

    def step(self, closure=None):
        self._log.append("O")
        self._lrs.append([float(g["lr"]) for g in self.param_groups])
        return super().step(closure)


def _net(seed=0, dropout=False):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(4, 6), torch.nn.Tanh()] + ([torch.nn.Dropout(0.5)] if dropout else [])
    return torch.nn.Sequential(*layers, torch.nn.Linear(6, 3)).double()


def _batches(num, size=4, seed=1, sizes=None):
    """``num`` batches of ``size`` examples, or batches of the given ``sizes`` (the last ones smaller, say)."""
    sizes = [int(size)] * int(num) if sizes is None else [int(s) for s in sizes]
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(sum(sizes), 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (sum(sizes),), generator=g)
    ends = np.cumsum([0] + sizes)
    return [(X[a:b], y[a:b]) for a, b in zip(ends[:-1], ends[1:])]


def _type_name(v) -> str:
    if isinstance(v, torch.Tensor):
        return f"a {str(v.dtype).replace('torch.', '')} tensor"
    return type(v).__name__


def run_fit(fit, num_batches=3, num_epochs=3, interval="epoch", schedule="step", lr=0.2, seed=0, sizes=None,
            dropout=False):
    """Driver: the student's ``fit`` on a seeded tanh MLP (float64) with ``num_batches`` batches of 4 examples
    (or batches of the given ``sizes``).

    ``schedule``: "step" (StepLR(step_size=1, gamma=0.5)) or "warmup" (LinearLR(start_factor=0.25,
    total_iters=3)) or "cosine" (CosineAnnealingLR(T_max=4)). ``dropout``: the net has a Dropout(0.5) layer and
    is handed over in eval mode (fit must put it in training mode); its masks come from torch's global random
    state, seeded here. Returns {"order": one letter per call, "O" for optimizer.step() and "S" for
    scheduler.step(), "lrs": the learning rate each optimizer step used, "history": what fit returned
    (one-element tensors as floats), "floats": fit returned a list of Python floats, "returned": the type of what
    fit returned, "types": the types of its elements, "params": the parameters after, "warned": torch warned that
    scheduler.step() came before optimizer.step()}.
    """
    net = _net(int(seed), dropout=bool(dropout))
    if dropout:
        net.eval()
        torch.manual_seed(int(seed) + 1000)
    params = list(net.parameters())
    log, used = [], []
    opt = _RecordingSGD(params, log, used, lr=float(lr))
    make = {"step": lambda o: StepLR(o, step_size=1, gamma=0.5),
            "warmup": lambda o: LinearLR(o, start_factor=0.25, total_iters=3),
            "cosine": lambda o: CosineAnnealingLR(o, T_max=4)}[schedule]
    sched = make(opt)
    sched_step = sched.step

    def logged_step(*args, **kwargs):
        log.append("S")
        return sched_step(*args, **kwargs)

    sched.step = logged_step
    batches = _batches(int(num_batches), seed=int(seed) + 1, sizes=sizes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(net, opt, sched, batches, int(num_epochs), interval=interval)
    warned = any("before `optimizer.step()`" in str(w.message) for w in caught)
    floats = isinstance(history, list) and all(isinstance(v, float) for v in history)
    returned = _type_name(history)
    types = sorted({_type_name(v) for v in history}) if isinstance(history, (list, tuple, np.ndarray)) else []
    if isinstance(history, (list, tuple)):
        history = [float(v.detach()) if isinstance(v, torch.Tensor) and v.numel() == 1 else v for v in history]
    flat = torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy()
    return {"order": "".join(log), "lrs": [u[0] for u in used], "history": history, "floats": bool(floats),
            "returned": returned, "types": types, "params": flat, "warned": bool(warned)}


def expected_order(num_batches, num_epochs, interval):
    """The calls a correct loop makes: optimizer steps, each followed by a scheduler step ("step"), or a scheduler
    step after each epoch's optimizer steps ("epoch")."""
    if interval == "step":
        return "OS" * (num_batches * num_epochs)
    return ("O" * num_batches + "S") * num_epochs


def check_fit(fit) -> None:
    """Visible check of Part 5: the order of the calls, the rate each optimizer step used, and the history."""
    what = "fit"
    for interval, nb, ne in (("epoch", 3, 3), ("step", 2, 2)):
        out = run_fit(fit, nb, ne, interval=interval)
        want = expected_order(nb, ne, interval)
        order = out["order"]
        if order != want:
            if out["warned"] or (order and order.index("S") < order.index("O") if "O" in order and "S" in order
                                 else False):
                raise AssertionError(f"{what} (interval={interval!r}): {MESSAGES['sched_first']}")
            if interval == "epoch" and order.count("S") == nb * ne:
                raise AssertionError(f"{what}: {MESSAGES['per_step']}")
            if interval == "step" and order.count("S") == ne:
                raise AssertionError(f"{what}: {MESSAGES['per_epoch']}")
            raise AssertionError(f"{what} (interval={interval!r}, {nb} batches, {ne} epochs): the calls were "
                                 f"{order!r} (O = optimizer.step(), S = scheduler.step()); expected {want!r}")
        if not (out["floats"] and len(out["history"]) == ne):
            raise AssertionError(f"{what}: return a list of {ne} floats, each epoch's mean batch loss")
    # the first epoch's loss at lr = 0 is the mean cross-entropy of the batches for the untouched net
    out = run_fit(fit, 3, 1, lr=0.0)
    net = _net(0)
    with torch.no_grad():
        want = float(np.mean([float(torch.nn.functional.cross_entropy(net(X), y)) for X, y in _batches(3)]))
    if not np.isclose(out["history"][0], want, rtol=1e-9):
        raise AssertionError(f"{what}: with lr = 0 the first epoch's loss must be the mean of the batches' mean "
                             "cross-entropy")
    # two batches, one epoch, a constant rate within the epoch: two SGD steps on fresh gradients
    net = _net(0)
    for X, y in _batches(2):
        grads = torch.autograd.grad(torch.nn.functional.cross_entropy(net(X), y), list(net.parameters()))
        with torch.no_grad():
            for p, g in zip(net.parameters(), grads):
                p -= 0.2 * g
    want_p = torch.cat([p.detach().reshape(-1) for p in net.parameters()]).numpy()
    if not np.allclose(run_fit(fit, 2, 1, lr=0.2)["params"], want_p, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"{what}: after one epoch of two batches the parameters are not those of two SGD steps "
                             "on fresh gradients: gradients accumulate? Call optimizer.zero_grad() before every "
                             "backward pass")
    used = run_fit(fit, 2, 3, interval="epoch", schedule="warmup")["lrs"]
    if not np.allclose(used, [0.05, 0.05, 0.1, 0.1, 0.15, 0.15]):
        raise AssertionError(f"{what}: with LinearLR(start_factor=0.25, total_iters=3) from lr = 0.2, two batches "
                             f"and interval='epoch', the optimizer steps must use the rates "
                             f"[0.05, 0.05, 0.1, 0.1, 0.15, 0.15]; yours used {np.round(used, 4).tolist()}")
    # batches of 4, 4 and 2 examples at lr = 0: the epoch's loss is the plain mean of the three batch losses
    sizes = [4, 4, 2]
    out = run_fit(fit, 3, 1, lr=0.0, sizes=sizes)
    net = _net(0)
    with torch.no_grad():
        per_batch = [float(torch.nn.functional.cross_entropy(net(X), y)) for X, y in _batches(3, sizes=sizes)]
    if not np.isclose(out["history"][0], np.mean(per_batch), rtol=1e-9):
        weighted = np.average(per_batch, weights=sizes)
        raise AssertionError(f"{what}: with batches of 4, 4 and 2 examples the epoch's loss must be the mean of the "
                             "three batch losses (each batch counts once)"
                             + ("; yours weights each batch by its size" if np.isclose(out["history"][0], weighted,
                                                                                        rtol=1e-9) else ""))
    # a net with dropout handed over in eval mode: fit must train it in training mode (dropout active)
    out = run_fit(fit, 2, 1, lr=0.2, dropout=True)
    net = _net(0, dropout=True)
    net.train()
    torch.manual_seed(1000)
    for X, y in _batches(2):
        grads = torch.autograd.grad(torch.nn.functional.cross_entropy(net(X), y), list(net.parameters()))
        with torch.no_grad():
            for p, g in zip(net.parameters(), grads):
                p -= 0.2 * g
    want_p = torch.cat([p.detach().reshape(-1) for p in net.parameters()]).numpy()
    if not np.allclose(out["params"], want_p, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"{what}: a net with dropout, handed to fit in eval mode, was not trained in training "
                             "mode: call net.train() at the start of fit")

