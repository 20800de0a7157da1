"""Reference adaptive optimizers for Chapter 9 (instructor-side only).

Each class is a from-scratch ``torch.optim.Optimizer`` that reproduces the
update of its torch.optim 2.13 namesake (the single-tensor path, which is what
torch runs on CPU) operation for operation, so on CPU the two agree bit for bit.
Only real, dense parameters are supported; ``maximize``, ``amsgrad``,
``foreach``, ``fused`` and tensor-valued hyperparameters are left out.

Conventions shared with torch (and relied on by the grader):

* hyperparameters are read from each param group on every step, so param
  groups with different settings and an ``lr`` changed mid-training work;
* parameters whose ``.grad`` is ``None`` are skipped: no update, no step, and no
  state (except Adagrad's, which torch creates in the constructor);
* the step counter is kept per parameter in ``state["step"]`` (a 0-dim float
  tensor, like torch), it is incremented *before* it is used, so the first
  update sees t = 1;
* ``weight_decay`` (except in AdamW) adds ``weight_decay * param`` to the
  gradient (the gradient of an L2 penalty ``weight_decay/2 * ||param||^2``);
* state keys are torch's, so state dicts can be exchanged with torch.optim.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer

__all__ = ["Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"]


def _require(ok: bool, what: str, value) -> None:
    # Callers pass comparisons such as `0.0 <= lr`, which are False for NaN: NaN is rejected too.
    if not ok:
        raise ValueError(f"Invalid {what}: {value}")


def _zero_step() -> torch.Tensor:
    # torch keeps the counter as a CPU float tensor (float64 only if that is the default dtype).
    dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return torch.tensor(0.0, dtype=dtype)


def _buffer(state: dict, key: str, p: torch.Tensor) -> torch.Tensor:
    """state[key], created as zeros the first time it is needed."""
    if key not in state:
        state[key] = torch.zeros_like(p)
    return state[key]


class _Adaptive(Optimizer):
    """Shared loop: closure, no-grad update, lazy state, per-parameter step count."""

    def _new_state(self, p: torch.Tensor, group: dict) -> dict:
        raise NotImplementedError

    def _update(self, p, grad, state, group, step: float) -> None:
        raise NotImplementedError

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.is_sparse:
                        raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                    if p.is_complex():
                        raise RuntimeError(f"{type(self).__name__} (reference) supports real parameters only")
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _zero_step()
                        state.update(self._new_state(p, group))
                    state["step"] += 1
                    self._update(p, p.grad, state, group, state["step"].item())
        return loss


class Adagrad(_Adaptive):
    r"""Adagrad (Duchi, Hazan & Singer 2011).

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1} \\
        G_t &\leftarrow G_{t-1} + g_t^2 \qquad (G_0 = \text{initial\_accumulator\_value}) \\
        \theta_t &\leftarrow \theta_{t-1} - \frac{\gamma}{1 + (t-1)\,\eta}\,
                   \frac{g_t}{\sqrt{G_t} + \epsilon}

    with ``lr`` = γ, ``lr_decay`` = η, ``weight_decay`` = λ. G is a cumulative
    sum, not a moving average. As in torch, the state is created in the
    constructor and the accumulator always starts at the constructor's
    ``initial_accumulator_value``: a value given in a param group is ignored.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10):
        _require(0.0 <= lr, "learning rate", lr)
        _require(0.0 <= lr_decay, "lr_decay value", lr_decay)
        _require(0.0 <= weight_decay, "weight_decay value", weight_decay)
        _require(0.0 <= initial_accumulator_value, "initial_accumulator_value value",
                 initial_accumulator_value)
        _require(0.0 <= eps, "epsilon value", eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"step": _zero_step(), **self._new_state(p, group)}

    def _new_state(self, p, group):
        return {"sum": torch.full_like(p, self.defaults["initial_accumulator_value"])}

    def _update(self, p, grad, state, group, step):
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state["sum"].addcmul_(grad, grad)
        p.addcdiv_(grad, state["sum"].sqrt().add_(group["eps"]), value=-clr)


class RMSprop(_Adaptive):
    r"""RMSprop (Tieleman & Hinton 2012, Coursera lecture 6e).

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1} \\
        v_t &\leftarrow \alpha v_{t-1} + (1-\alpha) g_t^2 \\
        \bar g_t &\leftarrow \alpha \bar g_{t-1} + (1-\alpha) g_t
            \quad\text{and}\quad \tilde v_t = v_t - \bar g_t^2 \quad\text{if centered, else } \tilde v_t = v_t \\
        b_t &\leftarrow \mu b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon), \qquad
        \theta_t \leftarrow \theta_{t-1} - \gamma b_t

    (with ``momentum`` μ = 0 the buffer is skipped: θ ← θ − γ g/(√ṽ + ε)).
    α weights the *old* average; eps is added outside the square root. Unlike
    Rprop, the step is not the sign of the gradient but the gradient divided by
    its running RMS. No bias correction.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0,
                 momentum=0, centered=False):
        _require(0.0 <= lr, "learning rate", lr)
        _require(0.0 <= eps, "epsilon value", eps)
        _require(0.0 <= momentum, "momentum value", momentum)
        _require(0.0 <= weight_decay, "weight_decay value", weight_decay)
        _require(0.0 <= alpha, "alpha value", alpha)  # torch sets no upper bound
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _new_state(self, p, group):
        return {"square_avg": torch.zeros_like(p)}

    def _update(self, p, grad, state, group, step):
        alpha, momentum = group["alpha"], group["momentum"]
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = _buffer(state, "grad_avg", p)
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg.add_(group["eps"])
        if momentum > 0:
            buf = _buffer(state, "momentum_buffer", p)
            buf.mul_(momentum).addcdiv_(grad, avg)
            p.add_(buf, alpha=-group["lr"])
        else:
            p.addcdiv_(grad, avg, value=-group["lr"])


class Adadelta(_Adaptive):
    r"""AdaDelta (Zeiler 2012).

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1} \\
        v_t &\leftarrow \rho v_{t-1} + (1-\rho) g_t^2 \\
        \Delta_t &\leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
        u_t &\leftarrow \rho u_{t-1} + (1-\rho) \Delta_t^2 \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma \Delta_t

    The step uses the *previous* accumulated update u_{t-1}; u is refreshed
    only afterwards. eps sits inside both square roots. ``lr`` (γ, default 1)
    scales the step; Zeiler's original has no learning rate.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        _require(0.0 <= lr, "learning rate", lr)
        _require(0.0 <= rho <= 1.0, "rho value", rho)
        _require(0.0 <= eps, "epsilon value", eps)
        _require(0.0 <= weight_decay, "weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _new_state(self, p, group):
        return {"square_avg": torch.zeros_like(p), "acc_delta": torch.zeros_like(p)}

    def _update(self, p, grad, state, group, step):
        rho, eps = group["rho"], group["eps"]
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-group["lr"])


class Adam(_Adaptive):
    r"""Adam (Kingma & Ba 2015), with L2 weight decay added to the gradient.

    .. math::
        g_t &\leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1} \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat m_t &= m_t / (1-\beta_1^t), \qquad \hat v_t = v_t / (1-\beta_2^t) \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    t counts this parameter's updates and starts at 1. eps is added to
    √v̂ (after bias correction), not inside the square root. Because the L2 term
    goes through m and v, it is *not* the same as AdamW's decoupled decay.
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        beta1, beta2 = betas
        _require(0.0 <= lr, "learning rate", lr)
        _require(0.0 <= eps, "epsilon value", eps)
        _require(0.0 <= beta1 < 1.0, "beta parameter at index 0", beta1)
        _require(0.0 <= beta2 < 1.0, "beta parameter at index 1", beta2)
        _require(0.0 <= weight_decay, "weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, betas=(beta1, beta2), eps=eps,
                                      weight_decay=weight_decay))

    def _new_state(self, p, group):
        return {"exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}

    def _update(self, p, grad, state, group, step):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        if wd != 0:
            if self._decoupled:
                p.mul_(1 - lr * wd)  # uses θ_{t-1}: decay before the Adam step
            else:
                grad = grad.add(p, alpha=wd)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        denom = (exp_avg_sq.sqrt() / bias_correction2 ** 0.5).add_(group["eps"])
        p.addcdiv_(exp_avg, denom, value=-lr / bias_correction1)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019).

    .. math::
        \theta' &\leftarrow \theta_{t-1}(1 - \gamma\lambda) \\
        m_t, v_t, \hat m_t, \hat v_t &\text{ as in Adam, from the raw gradient } g_t = \nabla f(\theta_{t-1}) \\
        \theta_t &\leftarrow \theta' - \gamma\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    The decay is multiplied by the learning rate γ (torch's convention; the
    paper's schedule multiplier is folded into γ) and never enters m or v.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
