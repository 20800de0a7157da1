"""Visible checks for Chapter 8 (momentum and Nesterov), and the sandbox-side drivers the grader's hidden tests
run the student's code through.

The optimizer is compared with torch.optim.SGD step for step; when it differs, small scalar probes (one
parameter, gradients set by hand) name the likely mistake. The quadratic parts are checked by running the heavy
ball, not by recomputing formulas, and the conversion by running the EMA form beside torch.optim.SGD. The
wordings in ``MESSAGES`` are shared with the grader.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from .optimizers import _loss, _make_params, _param_spec, compare_with_torch

# One wording per named mistake, for the visible checks and the grader's feedback.
MESSAGES = {
    "ema": "your buffer is an EMA, buf = momentum * buf + (1 - momentum) * grad: torch's buffer sums the gradients "
           "without the factor (1 - momentum) (buf = momentum * buf + (1 - dampening) * grad, dampening 0 by "
           "default), so your steps are (1 - momentum) times too small",
    "ema_copy": "your buffer starts as a copy of the gradient and then is an EMA, buf = momentum * buf + "
                "(1 - momentum) * grad: that is torch's dampening = momentum, but the default dampening is 0 "
                "(buf = momentum * buf + grad)",
    "velocity": "you keep a velocity scaled by the learning rate (v = momentum * v + lr * grad; p -= v): it matches "
                "torch only while lr is constant; after an lr change torch multiplies the whole buffer by the new "
                "lr (buf = momentum * buf + grad; p -= lr * buf)",
    "first_dampening": "dampening is applied on the first step: torch sets buf = grad (a copy, no dampening) when "
                       "the buffer does not exist yet, and applies (1 - dampening) from the second step on",
    "nesterov": "wrong Nesterov look-ahead: with nesterov=True torch first updates buf = momentum * buf + grad and "
                "then steps along grad + momentum * buf (the updated buffer)",
    "nesterov_ignored": "with nesterov=True your steps are those of nesterov=False (d_p + momentum * buf with the "
                        "buffer before its update is the same step): torch steps along d_p + momentum * buf with "
                        "buf already updated",
    "nesterov_raw_grad": "the Nesterov step uses the raw gradient: torch steps along d_p + momentum * buf with d_p "
                         "after maximize and weight decay (the same d_p that went into the buffer)",
    "dampened_without_momentum": "with momentum 0 torch takes plain SGD steps, p -= lr * d_p, and dampening has no "
                                 "effect; you scale the gradient by (1 - dampening) from the second step on (run "
                                 "the buffer only when momentum != 0)",
    "aliased": "the momentum buffer is p.grad itself, not a copy: when the gradients are zeroed in place "
               "(zero_grad(set_to_none=False)) the buffer is wiped. Create it as a copy, d_p.clone()",
    "momentum_fixed": "momentum is read once (in __init__ or from self.defaults): read group['momentum'] at every "
                      "step (groups may differ, and a momentum schedule such as OneCycleLR's changes it)",
    "lr_fixed": "lr is read once (in __init__ or from self.defaults): read group['lr'] at every step (groups may "
                "differ, and a schedule changes it between steps)",
    "recreated": "the momentum buffer is re-created every step, so momentum has no effect: keep it in "
                 "self.state[p]['momentum_buffer'] and update it in place from the second step on",
    "shared": "the momentum buffer is shared between parameters: each parameter needs its own buffer, kept in "
              "self.state[p] (keyed by the parameter, never by its shape or position)",
    "decay_after": "weight decay is added after the momentum: torch adds weight_decay * p to the gradient first "
                   "and puts the sum through the buffer (d_p = grad + weight_decay * p; buf = momentum * buf + d_p)",
    "maximize": "with maximize=True torch negates the gradient first, before weight decay and the buffer",
    "state_key": "torch keeps the buffer in self.state[p]['momentum_buffer']: a state_dict saved by "
                 "torch.optim.SGD must load into your optimizer and go on as torch does",
    "hb_beta_sqrt": "your beta is the rate (sqrt(k) - 1)/(sqrt(k) + 1); the optimal beta is its square",
    "hb_gd": "your values are gradient descent's (lr = 2/(mu + L), rate (k - 1)/(k + 1)): with momentum the "
             "optimal lr is 4/(sqrt(L) + sqrt(mu))^2 and the rate improves to (sqrt(k) - 1)/(sqrt(k) + 1)",
    "rate_real": "only the real roots of z^2 - (1 + beta - lr * lam) z + beta = 0 are used: when they are complex "
                 "(beta large) the contraction is their modulus sqrt(beta)",
    "rate_gd": "beta is ignored: max |1 - lr * lam| is gradient descent's rate; with momentum the rate is the "
               "largest modulus of the roots of z^2 - (1 + beta - lr * lam) z + beta = 0",
    "rate_min": "the rate is set by the slowest direction: take the largest spectral radius over the eigenvalues",
    "rate_sqrt_beta": "sqrt(beta) is the rate only when the roots are complex (beta large); with real roots "
                      "(small beta) the larger |root| of z^2 - (1 + beta - lr * lam) z + beta = 0 is larger",
    "rate_clipped": "a rate above 1 is part of the answer (the run diverges): do not clip it at 1",
    "rate_smaller_root": "the long-run contraction is the larger modulus of the two roots, not the smaller",
    "ema_dampening": "dampening = beta does not reproduce the EMA: torch's first step uses buf = grad without "
                     "dampening, while the EMA (started at 0) moves only (1 - beta) * grad; scale lr instead",
    "ema_inverted": "the EMA's buffer is (1 - beta) times torch's, so torch's lr is lr * (1 - beta), not "
                    "lr / (1 - beta)",
    "ema_unscaled": "with the same lr torch's steps are 1/(1 - beta) times the EMA's: torch's buffer is the EMA "
                    "divided by (1 - beta), so scale lr by (1 - beta)",
}


# ---------------------------------------------------------------- drivers (run in the sandbox)
def torch_state_into(opt_cls, kwargs, load_at=8, steps=20, seed=0):
    """Driver: torch.optim.SGD for ``load_at`` steps on the small network; its state_dict() is loaded into a
    fresh ``opt_cls(**kwargs)`` on copies of the parameters, which goes on to ``steps``. All parameters after
    each step, as optimizer_trajectory returns them."""
    params, X, y = _make_params(seed, torch.float64)
    opt = torch.optim.SGD(params, **kwargs)
    rows = []
    for step in range(1, steps + 1):
        opt.zero_grad()
        _loss(params, X, y).backward()
        opt.step()
        rows.append(torch.cat([p.detach().reshape(-1) for p in params]).clone())
        if step == load_at:
            saved = copy.deepcopy(opt.state_dict())
            params = [p.detach().clone().requires_grad_() for p in params]
            opt = opt_cls(params, **kwargs)
            opt.load_state_dict(saved)
    return torch.stack(rows).numpy()


def scalar_steps(opt_cls, kwargs, grads, p0=0.0, lrs=None):
    """Driver: one scalar parameter p (float64) from ``p0``; before step t its gradient is set to ``grads[t]``
    (None: p.grad is None) and, if ``lrs`` is given, the group's lr to ``lrs[t]``. Returns p after each step."""
    p = torch.tensor([float(p0)], dtype=torch.float64, requires_grad=True)
    opt = opt_cls([p], **kwargs)
    out = []
    for t, g in enumerate(grads):
        if lrs is not None:
            opt.param_groups[0]["lr"] = lrs[t]
        p.grad = None if g is None else torch.tensor([float(g)], dtype=torch.float64)
        opt.step()
        out.append(float(p.detach()[0]))
    return out


def pair_steps(opt_cls, kwargs, grads_a, grads_b):
    """Driver: two scalar parameters of equal shape in one group, with their own gradients. Returns
    (values of a, values of b) after each step."""
    a = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = opt_cls([a, b], **kwargs)
    out_a, out_b = [], []
    for ga, gb in zip(grads_a, grads_b):
        a.grad = torch.tensor([float(ga)], dtype=torch.float64)
        b.grad = torch.tensor([float(gb)], dtype=torch.float64)
        opt.step()
        out_a.append(float(a.detach()[0]))
        out_b.append(float(b.detach()[0]))
    return out_a, out_b


def heavy_ball_distances(eigenvalues, lr, beta, num_steps=200, seed=0):
    """Distances to the minimizer of 1/2 w^T diag(eigenvalues) w along the heavy ball
    w <- w - lr * grad + beta * (w - w_prev), from a seeded start (w_prev = w at the start)."""
    lam = np.asarray(eigenvalues, dtype=float)
    w = np.random.default_rng(seed).standard_normal(len(lam))
    prev = w.copy()
    out = [np.linalg.norm(w)]
    for _ in range(num_steps):
        w, prev = w - lr * lam * w + beta * (w - prev), w
        out.append(np.linalg.norm(w))
    return np.array(out)


def observed_rate(eigenvalues, lr, beta, start=300, stop=400, window=40):
    """The contraction per step of a heavy-ball run, measured late in the run: the growth from the largest
    distance in the ``window`` steps before ``start`` to the largest in the ``window`` steps before ``stop`` (an
    oscillating run passes close to the minimum now and then; its envelope is what contracts)."""
    d = heavy_ball_distances(eigenvalues, lr, beta, num_steps=stop)
    return float((d[stop - window:stop + 1].max() / d[start - window:start + 1].max()) ** (1.0 / (stop - start)))


def ema_steps(lr, beta, grads, p0=0.0):
    """The EMA form on one scalar parameter: m <- beta*m + (1 - beta)*g (m starts at 0), p <- p - lr*m."""
    p, m, out = float(p0), 0.0, []
    for g in grads:
        m = beta * m + (1 - beta) * g
        p -= lr * m
        out.append(p)
    return out


def torch_sgd_steps(kwargs, grads, p0=0.0):
    """torch.optim.SGD(**kwargs) on one scalar parameter with these gradients."""
    return scalar_steps(torch.optim.SGD, dict(kwargs), grads, p0=p0)


# ---------------------------------------------------------------- Part 1: SGD with momentum
def _close(got, want):
    return np.allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-9, atol=1e-12)


def diagnose_sgd(student_cls) -> str | None:
    """The named mistake that scalar probes reveal in ``student_cls``, or None. Each probe isolates one rule and
    compares with torch.optim.SGD."""
    def differs(kwargs, grads, p0=0.0, lrs=None):
        got = scalar_steps(student_cls, kwargs, grads, p0=p0, lrs=lrs)
        want = scalar_steps(torch.optim.SGD, kwargs, grads, p0=p0, lrs=lrs)
        return got, not _close(got, want)

    got, bad = differs(dict(lr=0.1, momentum=0.9), [1.0, 2.0])
    if bad and _close(got[0], -0.01):
        return MESSAGES["ema"]
    if bad and _close(got, [-0.1, -0.3]):
        return MESSAGES["recreated"]
    if bad and _close(got, [-0.1, -0.21]):  # buf = 1, then 0.9 * 1 + 0.1 * 2
        return MESSAGES["ema_copy"]
    got, bad = differs(dict(lr=0.1, momentum=0.9, dampening=0.5), [1.0, 1.0])
    if bad and _close(got[0], -0.05):
        return MESSAGES["first_dampening"]
    got, bad = differs(dict(lr=0.1, momentum=0.5), [1.0, 1.0], lrs=[0.1, 0.2])
    if bad and _close(got, [-0.1, -0.35]):
        return MESSAGES["velocity"]
    a, b = pair_steps(student_cls, dict(lr=0.1, momentum=0.9), [1.0, 1.0], [-1.0, -1.0])
    if not (_close(a, [-0.1, -0.29]) and _close(b, [0.1, 0.29])):
        return MESSAGES["shared"]
    got, bad = differs(dict(lr=0.1, momentum=0.9, weight_decay=0.5), [0.0, 0.0], p0=1.0)
    if bad and _close(got, [0.95, 0.9025]):
        return MESSAGES["decay_after"]
    got, bad = differs(dict(lr=0.1, momentum=0.5, nesterov=True), [1.0, 1.0, -1.0])
    if bad:
        plain = scalar_steps(torch.optim.SGD, dict(lr=0.1, momentum=0.5), [1.0, 1.0, -1.0])
        return MESSAGES["nesterov_ignored"] if _close(got, plain) else MESSAGES["nesterov"]
    got, bad = differs(dict(lr=0.1, momentum=0.5, weight_decay=0.5, maximize=True), [1.0, 1.0], p0=1.0)
    if bad:
        return MESSAGES["maximize"]
    return None


VISIBLE_SETTINGS = [  # (label, kwargs, run options): the visible test's inputs (the grader repeats them)
    ("momentum=0.9", {"lr": 0.05, "momentum": 0.9}, {}),
    ("momentum=0.5, dampening=0.3", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3}, {}),
    ("nesterov=True", {"lr": 0.05, "momentum": 0.8, "nesterov": True}, {}),
    ("weight_decay=0.1 with momentum", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}, {}),
    ("lr changed at step 8", {"lr": 0.05, "momentum": 0.9}, {"lr_changes": {8: 0.3}}),
    ("two parameter groups", {"lr": 0.05, "momentum": 0.9},
     {"groups": [{"params": [0, 1], "momentum": 0.5}, {"params": [2, 3, 4, 5], "nesterov": True}]}),
]


def check_sgd(student_cls) -> None:
    """Visible check of Part 1: the student's SGD against torch.optim.SGD on a few settings for 15 steps."""
    scalar_steps(student_cls, {"lr": 0.1, "momentum": 0.9}, [1.0])  # a stub raises NotImplementedError here
    for label, kwargs, run in VISIBLE_SETTINGS:
        try:
            compare_with_torch(student_cls, torch.optim.SGD, kwargs, label=label, steps=15, **run)
        except AssertionError as exc:
            try:
                hint = diagnose_sgd(student_cls)
            except Exception:
                hint = None
            raise AssertionError(f"{exc}. Likely cause: {hint}" if hint else str(exc)) from None
    got = torch_state_into(student_cls, {"lr": 0.05, "momentum": 0.9}, load_at=5, steps=8)
    want = torch_state_into(torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}, load_at=5, steps=8)
    if not np.allclose(got, want, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"SGD: {MESSAGES['state_key']}")


# ---------------------------------------------------------------- Part 2: optimal heavy ball
def check_heavy_ball_params(heavy_ball_params) -> None:
    """Visible check of Part 2, by running the heavy ball on a quadratic with eigenvalues 0.5 ... 50."""
    what = "heavy_ball_params"
    lam = np.array([0.5, 3.0, 12.0, 50.0])
    out = heavy_ball_params(0.5, 50.0)
    if not (isinstance(out, (tuple, list, np.ndarray)) and np.shape(out) == (3,)):
        raise AssertionError(f"{what}: return a tuple (lr, beta, rate)")
    lr, beta, rate = (float(v) for v in out)
    if np.isclose(lr, 2 / 50.5) and np.isclose(rate, 49.5 / 50.5):
        raise AssertionError(f"{what}: {MESSAGES['hb_gd']}")
    if np.isclose(beta, 9 / 11):
        raise AssertionError(f"{what}: {MESSAGES['hb_beta_sqrt']}")
    observed = observed_rate(lam, lr, beta)
    if not observed < 1:
        raise AssertionError(f"{what}: the heavy ball with your lr and beta does not converge on a quadratic with "
                             "eigenvalues between mu and L")
    if not np.isclose(observed, rate, rtol=0.02):
        raise AssertionError(f"{what}: with your lr and beta the heavy ball contracts by about {observed:.4f} per "
                             f"step, but your rate says {rate:.4f}")
    for f_lr, f_beta in [(0.95, 1.0), (1.05, 1.0), (1.0, 0.97), (1.0, 1.01)]:
        if observed_rate(lam, f_lr * lr, min(f_beta * beta, 0.9999)) < observed - 1e-3:
            raise AssertionError(f"{what}: lr x {f_lr}, beta x {f_beta} converges faster than your (lr, beta): "
                                 "they are not the optimal pair")


# ---------------------------------------------------------------- Part 3: the rate of any (lr, beta)
def check_heavy_ball_rate(heavy_ball_rate) -> None:
    """Visible check of Part 3: the rate against the contraction of a heavy-ball run, in the real-root regime,
    the complex (oscillating) regime and a diverging one."""
    what = "heavy_ball_rate"
    lam = [0.5, 2.0, 9.0]
    for lr, beta, regime in [(0.1, 0.2, "small beta (real roots)"), (0.1, 0.9, "large beta (complex roots)"),
                             (0.35, 0.5, "a step too large (divergence)")]:
        rate = float(heavy_ball_rate(lr, beta, np.array(lam)))
        observed = observed_rate(lam, lr, beta)
        if not np.isclose(rate, observed, rtol=0.02):
            hint = ""
            if beta and np.isclose(rate, max(abs(1 - lr * x) for x in lam), rtol=1e-9):
                hint = f" Likely cause: {MESSAGES['rate_gd']}"
            elif rate < observed and np.isclose(observed, np.sqrt(beta), rtol=0.02):
                hint = f" Likely cause: {MESSAGES['rate_real']}"
            raise AssertionError(f"{what}: for {regime} the heavy ball contracts by about {observed:.4f} per step "
                                 f"but your rate is {rate:.4f}.{hint}")
    if not np.isclose(float(heavy_ball_rate(0.1, 0.0, [2.0])), 0.8):
        raise AssertionError(f"{what}: with beta = 0 the heavy ball is gradient descent: rate |1 - lr * lam|")


# ---------------------------------------------------------------- Part 4: EMA -> torch
def check_ema_to_torch(ema_to_torch) -> None:
    """Visible check of Part 4: torch.optim.SGD with your keyword arguments against the EMA form, for 30 steps."""
    what = "ema_to_torch"
    grads = list(np.sin(np.arange(30)) + 0.3)
    for lr, beta in [(0.1, 0.9), (0.5, 0.5), (0.2, 0.0)]:
        kwargs = ema_to_torch(lr, beta)
        if not isinstance(kwargs, dict):
            raise AssertionError(f"{what}: return a dict of torch.optim.SGD keyword arguments")
        got = torch_sgd_steps(kwargs, grads)
        want = ema_steps(lr, beta, grads)
        if not _close(got, want):
            msg = f"{what}({lr}, {beta}): torch.optim.SGD(**your dict) leaves the EMA form"
            if beta and kwargs.get("dampening") and _close(got[0], -lr * grads[0]):
                msg += f" at the first step. Likely cause: {MESSAGES['ema_dampening']}"
            elif beta and np.isclose(float(kwargs.get("lr", 0)), lr / (1 - beta)):
                msg += f". Likely cause: {MESSAGES['ema_inverted']}"
            elif beta and _close(torch_sgd_steps({**kwargs, "lr": lr * (1 - beta)}, grads), want):
                msg += f". Likely cause: {MESSAGES['ema_unscaled']}"
            raise AssertionError(msg)
