"""The reference adaptive optimizers (solutions/optimizers.py) against torch.optim.

torch.optim 2.13 is the oracle. Every comparison runs a few hundred steps on
a small nonconvex problem with two param groups with different settings, a
parameter that only gets a gradient on even steps, one that never gets one, and
a learning-rate change half way, so that per-parameter step counts, per-group
hyperparameters and re-reading ``group["lr"]`` all matter.
"""

import inspect
import io
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import solutions  # noqa: E402
from solutions import optimizers as ref  # noqa: E402

NAMES = ["Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"]

# Bounds on the largest absolute parameter deviation from torch after STEPS steps.
# float64: a correct formulation differs from torch only by rounding (~1e-16 per
# operation) and the problems amplify differences at most MAX_AMPLIFICATION-fold
# (test_problem_is_well_conditioned), so it stays far below 1e-10, while each of
# COURSE.md's named mistakes for these optimizers (eps inside the sqrt, no or
# partial bias correction, step off by one, ...) fails. Both were checked by
# mutating the reference. (The reference itself repeats torch's operations in
# torch's order and agrees with it to the last bit.)
# float32: unit roundoff is 6e-8. Correct but differently ordered formulas
# (out-of-place updates, mul_/add_ instead of lerp_) were measured at up to 5e-6
# after STEPS steps on the MLP, so 1e-4 leaves a 20x margin.
TOL = {torch.float64: 1e-10, torch.float32: 1e-4}
STEPS, LR_CHANGE_AT, LR_FACTORS = 240, 120, (0.3, 2.0)

# (id, constructor kwargs) per optimizer: defaults plus non-default settings.
SETTINGS = {
    "Adagrad": [
        ("default", {}),
        ("lr_decay", {"lr": 0.05, "lr_decay": 0.01}),
        ("l2_init_eps", {"weight_decay": 0.01, "initial_accumulator_value": 0.1, "eps": 1e-6}),
    ],
    "RMSprop": [
        ("default", {}),
        ("alpha_eps", {"lr": 3e-3, "alpha": 0.9, "eps": 1e-4}),
        ("momentum", {"lr": 1e-3, "momentum": 0.9}),
        ("centered", {"lr": 3e-3, "centered": True}),
        ("all", {"lr": 1e-3, "alpha": 0.95, "centered": True, "momentum": 0.5, "weight_decay": 0.01}),
    ],
    "Adadelta": [
        ("default", {}),
        ("rho_eps", {"rho": 0.5, "eps": 1e-4}),
        ("lr_l2", {"lr": 0.5, "weight_decay": 0.01}),
    ],
    "Adam": [
        ("default", {}),
        ("betas_eps", {"lr": 1e-2, "betas": (0.5, 0.9), "eps": 1e-4}),
        ("l2", {"lr": 1e-2, "weight_decay": 0.01}),
    ],
    "AdamW": [
        ("default", {}),
        ("decay", {"lr": 1e-2, "weight_decay": 0.1}),
        ("betas_eps", {"lr": 5e-3, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.0}),
    ],
}

# Settings of the second param group (the biases, as in Chapter 2: no decay).
OVERRIDE = {
    "Adagrad": {"lr": 0.03, "lr_decay": 0.05, "eps": 1e-8, "weight_decay": 0.0},
    "RMSprop": {"lr": 3e-3, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.0},
    "Adadelta": {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.0},
    "Adam": {"lr": 3e-3, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.0},
    "AdamW": {"lr": 3e-3, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.0},
}

CASES = [pytest.param(name, kw, id=f"{name}-{sid}") for name in NAMES for sid, kw in SETTINGS[name]]


# ----------------------------------------------------------------------------- problems

def mlp(dtype):
    """2-layer tanh MLP regression on seeded random data (full batch)."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(32, 4, generator=g, dtype=dtype)
    y = torch.sin(2 * X[:, :1]) + X[:, 1:2] * X[:, 2:3]
    W1 = 0.7 * torch.randn(4, 8, generator=g, dtype=dtype)
    b1 = 0.1 * torch.randn(8, generator=g, dtype=dtype)
    W2 = 0.5 * torch.randn(8, 1, generator=g, dtype=dtype)
    b2 = torch.zeros(1, dtype=dtype)
    gate = torch.full((1,), 0.5, dtype=dtype)   # gets a gradient on even steps only
    unused = torch.randn(3, generator=g, dtype=dtype)  # never gets a gradient

    def loss(params, t):
        W1, W2, gate, b1, b2, _ = params
        out = torch.tanh(X @ W1 + b1) @ W2 + b2
        if t % 2 == 0:
            out = out * torch.sigmoid(gate)
        return ((out - y) ** 2).mean()

    return [W1, W2, gate, b1, b2, unused], 3, loss  # first 3 -> group 0, rest -> group 1


def rosenbrock(dtype):
    """Generalized Rosenbrock in 6-D, the coordinates split over two groups.

    Used with every learning rate scaled by LR_SCALE["rosenbrock"]: at full size the
    steps bounce across the curved valley, and where a gradient component changes
    sign the almost sign-like adaptive step amplifies a 1e-16 difference by up to
    ~1e9 within 240 steps, so that no tolerance could tell a correct implementation
    from a wrong one (see test_problem_is_well_conditioned).
    """
    start = torch.tensor([-1.2, 1.0, -0.5, 0.8, 1.5, 0.3], dtype=dtype)

    def loss(params, t):
        z = torch.cat(params)
        return (100 * (z[1:] - z[:-1] ** 2) ** 2 + (1 - z[:-1]) ** 2).sum()

    return [start[:3].clone(), start[3:].clone()], 1, loss


PROBLEMS = {"mlp": mlp, "rosenbrock": rosenbrock}
LR_SCALE = {"mlp": 1.0, "rosenbrock": 0.1}
# A relative perturbation of 1e-12 of the start may grow at most this much by STEPS:
# then rounding differences (1e-16 per operation) stay far below TOL[float64].
MAX_AMPLIFICATION = 1e3


# ----------------------------------------------------------------------------- helpers

def fresh(tensors):
    return [t.detach().clone().requires_grad_() for t in tensors]


def build(cls, params, split, settings, override):
    return cls([{"params": params[:split]}, {"params": params[split:], **override}], **settings)


def torch_cls(name):
    return getattr(torch.optim, name)


def with_lr_scale(name, kwargs, scale):
    if scale == 1.0:
        return kwargs
    default = inspect.signature(torch_cls(name)).parameters["lr"].default
    return {**kwargs, "lr": kwargs.get("lr", default) * scale}


def make(impl, name, params, split, settings, override=None, lr_scale=1.0):
    override = OVERRIDE[name] if override is None else override
    settings, override = with_lr_scale(name, settings, lr_scale), with_lr_scale(name, override, lr_scale)
    if impl == "torch":
        return build(torch_cls(name), params, split, {**settings, "foreach": False}, override)
    return build(getattr(ref, name), params, split, settings, override)


def train(opt, params, loss, start, stop):
    for t in range(start, stop):
        if t == LR_CHANGE_AT:
            for group, factor in zip(opt.param_groups, LR_FACTORS):
                group["lr"] *= factor
        opt.zero_grad(set_to_none=True)
        loss(params, t).backward()
        opt.step()


def max_dev(ps, qs):
    return max((p.detach() - q.detach()).abs().max().item() for p, q in zip(ps, qs))


def assert_same_state(opt_a, opt_b, tol):
    """Same per-parameter state keys (torch's names) and values, same step counts."""
    sa, sb = opt_a.state_dict()["state"], opt_b.state_dict()["state"]
    assert sa.keys() == sb.keys()
    for i in sb:
        assert sa[i].keys() == sb[i].keys(), f"param {i}: {sorted(sa[i])} vs {sorted(sb[i])}"
        assert float(sa[i]["step"]) == float(sb[i]["step"]), f"param {i}: step count"
        for k in sb[i]:  # relative: Adagrad's sum of squares on Rosenbrock reaches ~1e5
            if k != "step":
                assert torch.allclose(sa[i][k], sb[i][k], rtol=tol, atol=tol), f"param {i}: state {k!r}"


def checkpoint(opt):
    # Serialize: torch's load_state_dict deep-copies only the param groups and keeps
    # the state tensors of the dict it is given (same dtype and device) by reference.
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    buf.seek(0)
    return torch.load(buf)


# ----------------------------------------------------------------------------- trajectories

@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("name,settings", CASES)
def test_trajectory_matches_torch_float64(name, settings, problem):
    init, split, loss = PROBLEMS[problem](torch.float64)
    mine, theirs = fresh(init), fresh(init)
    opt_mine = make("ref", name, mine, split, settings, lr_scale=LR_SCALE[problem])
    opt_theirs = make("torch", name, theirs, split, settings, lr_scale=LR_SCALE[problem])
    train(opt_mine, mine, loss, 0, STEPS)
    train(opt_theirs, theirs, loss, 0, STEPS)

    assert all(torch.isfinite(p).all() for p in theirs)
    assert max_dev(theirs, init) > 1e-3, "the oracle barely moved: the comparison would be vacuous"
    assert max_dev(mine, theirs) < TOL[torch.float64]
    assert_same_state(opt_mine, opt_theirs, TOL[torch.float64])
    assert [g["lr"] for g in opt_mine.param_groups] == [g["lr"] for g in opt_theirs.param_groups]
    if problem == "mlp":  # the param without a gradient is untouched
        assert torch.equal(mine[-1], init[-1])


@pytest.mark.parametrize("name,settings", CASES)
def test_trajectory_matches_torch_float32(name, settings):
    init, split, loss = mlp(torch.float32)
    mine, theirs = fresh(init), fresh(init)
    opt_mine = make("ref", name, mine, split, settings)
    opt_theirs = make("torch", name, theirs, split, settings)
    train(opt_mine, mine, loss, 0, STEPS)
    train(opt_theirs, theirs, loss, 0, STEPS)
    assert all(p.dtype == torch.float32 for p in mine)
    assert max_dev(mine, theirs) < TOL[torch.float32]


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("name,settings", CASES)
def test_problem_is_well_conditioned(name, settings, problem):
    """Guards the tolerance: torch itself must not amplify tiny differences much, or
    a correct but differently rounded implementation could miss TOL[float64]."""
    init, split, loss = PROBLEMS[problem](torch.float64)
    g = torch.Generator().manual_seed(1)
    delta = 1e-12
    nudged = [x * (1 + delta * torch.randn(x.shape, generator=g, dtype=x.dtype)) for x in init]
    runs = []
    for start in (init, nudged):
        params = fresh(start)
        train(make("torch", name, params, split, settings, lr_scale=LR_SCALE[problem]), params, loss, 0, STEPS)
        runs.append(params)
    assert max_dev(*runs) < MAX_AMPLIFICATION * delta


def test_default_foreach_is_the_single_tensor_path_on_cpu():
    """On CPU torch's default (foreach=None) is the same for-loop as foreach=False."""
    init, split, loss = mlp(torch.float64)
    for name in NAMES:
        a, b = fresh(init), fresh(init)
        opt_a = build(torch_cls(name), a, split, {}, OVERRIDE[name])
        opt_b = make("torch", name, b, split, {})
        train(opt_a, a, loss, 0, 50)
        train(opt_b, b, loss, 0, 50)
        assert max_dev(a, b) == 0.0, name


# ----------------------------------------------------------------------------- state dicts

@pytest.mark.parametrize("name,settings", CASES)
def test_state_dict_round_trip(name, settings):
    """k steps, checkpoint, fresh optimizer on cloned params, load, continue == uninterrupted torch."""
    init, split, loss = mlp(torch.float64)
    k = LR_CHANGE_AT + 30  # after the lr change: the new lr must travel in the checkpoint

    theirs = fresh(init)
    opt_theirs = make("torch", name, theirs, split, settings)
    train(opt_theirs, theirs, loss, 0, STEPS)

    first = fresh(init)
    opt_first = make("ref", name, first, split, settings)
    train(opt_first, first, loss, 0, k)
    saved = checkpoint(opt_first)

    second = fresh(first)
    # Constructor defaults only: the groups' hyperparameters (and the changed lr)
    # must come from the checkpoint.
    opt_second = getattr(ref, name)([{"params": second[:split]}, {"params": second[split:]}])
    opt_second.load_state_dict(saved)
    train(opt_second, second, loss, k, STEPS)  # k > LR_CHANGE_AT: no second lr change

    assert max_dev(second, theirs) < TOL[torch.float64]
    assert_same_state(opt_second, opt_theirs, TOL[torch.float64])


@pytest.mark.parametrize("direction", ["torch->ref", "ref->torch"])
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_interchangeable_with_torch(name, direction):
    settings = SETTINGS[name][-1][1]
    init, split, loss = mlp(torch.float64)
    k = 100
    oracle = fresh(init)
    opt_oracle = make("torch", name, oracle, split, settings)
    train(opt_oracle, oracle, loss, 0, STEPS)

    src, dst = ("torch", "ref") if direction == "torch->ref" else ("ref", "torch")
    first = fresh(init)
    opt_first = make(src, name, first, split, settings)
    train(opt_first, first, loss, 0, k)
    second = fresh(first)
    opt_second = make(dst, name, second, split, settings)
    opt_second.load_state_dict(checkpoint(opt_first))
    train(opt_second, second, loss, k, STEPS)
    assert max_dev(second, oracle) < TOL[torch.float64]


# ----------------------------------------------------------------------------- API details

@pytest.mark.parametrize("name", NAMES)
def test_is_an_optimizer_with_torchs_defaults(name):
    cls = getattr(ref, name)
    assert issubclass(cls, torch.optim.Optimizer)
    assert getattr(solutions, name) is cls
    mine = inspect.signature(cls).parameters
    theirs = inspect.signature(torch_cls(name)).parameters
    assert list(mine)[0] == "params"
    for arg, p in mine.items():
        if arg != "params":
            assert p.default == theirs[arg].default, arg
            assert list(theirs).index(arg) == list(mine).index(arg), f"{arg}: positional order"


INVALID = [
    *[(n, {"lr": -1e-3}) for n in NAMES],
    *[(n, {"lr": float("nan")}) for n in NAMES],
    *[(n, {"eps": -1e-8}) for n in NAMES],
    *[(n, {"weight_decay": -0.1}) for n in NAMES],
    ("Adagrad", {"lr_decay": -0.1}),
    ("Adagrad", {"initial_accumulator_value": -1.0}),
    ("RMSprop", {"alpha": -0.1}),
    ("RMSprop", {"momentum": -0.9}),
    ("Adadelta", {"rho": -0.1}),
    ("Adadelta", {"rho": 1.1}),
    *[(n, {"betas": b}) for n in ("Adam", "AdamW")
      for b in [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.999), (0.9, -0.1)]],
]


@pytest.mark.parametrize("name,kwargs", INVALID, ids=lambda v: str(v))
def test_invalid_hyperparameters_raise(name, kwargs):
    p = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError):
        torch_cls(name)(p, **kwargs)  # the list itself is checked against torch
    with pytest.raises(ValueError, match="Invalid"):
        getattr(ref, name)(p, **kwargs)


BOUNDARY = [
    *[(n, {"lr": 0.0, "eps": 0.0, "weight_decay": 0.0}) for n in NAMES],
    ("Adadelta", {"rho": 0.0}), ("Adadelta", {"rho": 1.0}),
    ("RMSprop", {"alpha": 0.0}), ("RMSprop", {"alpha": 1.0}),
    ("Adam", {"betas": (0.0, 0.0)}), ("AdamW", {"betas": (0.0, 0.0)}),
]


@pytest.mark.parametrize("name,kwargs", BOUNDARY, ids=lambda v: str(v))
def test_boundary_hyperparameters_accepted(name, kwargs):
    p = [torch.zeros(2, requires_grad=True)]
    torch_cls(name)(p, **kwargs)
    getattr(ref, name)(p, **kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_params_without_grad_are_skipped(name):
    used = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    idle = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    opt = getattr(ref, name)([used, idle], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (used ** 2).sum().backward()
        opt.step()
    assert idle.grad is None
    assert torch.equal(idle, torch.tensor([3.0, 4.0], dtype=torch.float64))
    assert float(opt.state[used]["step"]) == 3
    if name == "Adagrad":  # torch creates Adagrad's state in the constructor
        assert float(opt.state[idle]["step"]) == 0
    else:
        assert len(opt.state[idle]) == 0


@pytest.mark.parametrize("name", NAMES)
def test_closure_loss_is_returned_and_used(name):
    init, split, loss = mlp(torch.float64)
    results = {}
    for impl in ("ref", "torch"):
        params = fresh(init)
        opt = make(impl, name, params, split, SETTINGS[name][-1][1])
        sentinel = []

        def closure():
            opt.zero_grad()
            value = loss(params, 0)
            value.backward()
            sentinel.append(value)
            return value

        returned = [opt.step(closure) for _ in range(5)]
        assert all(r is s for r, s in zip(returned, sentinel)), "step must return the closure's loss"
        assert opt.step() is None
        results[impl] = params
    assert max_dev(results["ref"], results["torch"]) < TOL[torch.float64]


@pytest.mark.parametrize("name", NAMES)
def test_sparse_gradients_raise(name):
    emb = torch.nn.Embedding(5, 3, sparse=True)
    opt = getattr(ref, name)(emb.parameters())
    emb(torch.tensor([0, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()


def test_adagrad_accumulator_starts_at_the_constructor_value():
    """torch quirk, reproduced: a param group's own initial_accumulator_value is ignored."""
    outs = []
    for cls in (torch.optim.Adagrad, ref.Adagrad):
        a = torch.ones(2, dtype=torch.float64, requires_grad=True)
        b = torch.ones(2, dtype=torch.float64, requires_grad=True)
        opt = cls([{"params": [a]}, {"params": [b], "initial_accumulator_value": 5.0}],
                  initial_accumulator_value=0.1)
        assert torch.equal(opt.state[b]["sum"], torch.full((2,), 0.1, dtype=torch.float64))
        (a.sum() + b.sum()).backward()
        opt.step()
        outs.append(torch.cat([a, b]).detach())
    assert torch.equal(outs[0], outs[1])


def test_written_from_scratch():
    """No call into torch.optim's functional code or its per-tensor helpers."""
    src = Path(ref.__file__).read_text()
    for banned in ("_single_tensor", "_multi_tensor", "_functional", "torch.optim.adam",
                   "torch.optim.adagrad", "torch.optim.rmsprop", "torch.optim.adadelta",
                   "_fused_", "from torch.optim import Adam", "F.adam"):
        assert banned not in src, banned
