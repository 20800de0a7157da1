"""Visible checks for Chapter 7 (gradient descent, SGD and mini-batch SGD), and the sandbox-side drivers the
grader's hidden tests run the student's code through.

The checks test properties the exercise's text states (every example once per epoch, X and y kept together, a
new order every epoch, the stability limit seen in a gradient-descent run, one SGD step against torch.optim.SGD,
the epoch's mean loss against one forward pass) rather than comparing with a hidden implementation. Each message
names the mistake it recognises. The wordings in ``MESSAGES`` are shared with the grader.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from .optimizers import compare_with_torch

# One wording per named mistake, for the visible checks and the grader's feedback.
MESSAGES = {
    "unpaired": "X and y are shuffled differently: the rows of a batch no longer match their labels. "
                "Draw one permutation and index both X and y with it",
    "dropped": "the last, smaller batch is dropped although drop_last=False: "
               "keep it, as torch's DataLoader does by default",
    "same_order": "every epoch has the same order: draw a new permutation from rng at every call "
                  "(don't re-create or re-seed the generator inside the function)",
    "not_once": "an epoch must hold every example exactly once",
    "empty": "an empty batch at the end: when batch_size divides n there is no partial batch",
    "kept_partial": "drop_last=True must drop the last batch when it is smaller than batch_size",
    "not_rng_order": "with shuffle=True the order of an epoch must be rng.permutation(n) (one call per epoch)",
    "shuffled_anyway": "shuffle=False must keep the original order 0, 1, ..., n-1",
    "modified": "the function changed X or y in place (np.random.shuffle / rng.shuffle shuffle their argument): "
                "index with a permutation instead",
    "one_over_L": "your stability limit is 1/L: gradient descent on a quadratic is stable for every step size "
                  "below 2/L (L the largest eigenvalue of A); 1/L is a safe choice, not the limit",
    "weight_decay_after": "weight_decay is applied after the update: torch adds weight_decay * p to the gradient "
                          "first, with p before the step, and then steps p -= lr * (grad + weight_decay * p)",
    "maximize_decay": "with maximize=True torch negates the gradient first and then adds weight_decay * p: "
                      "the decay still shrinks p (p -= lr * (-grad + weight_decay * p))",
    "summed": "the batch loss is summed over the examples; the specification averages it "
              "(F.cross_entropy's default reduction='mean'), so your steps are batch_size times too large",
    "unweighted": "the returned loss is the plain mean of the batch losses; weight each batch by its size "
                  "(a smaller last batch counts less), i.e. the mean over the epoch's examples",
    "no_zero_grad": "gradients accumulate: call optimizer.zero_grad() before every backward pass",
    "zero_after_backward": "every optimizer.step() sees zero gradients, so the parameters never move: "
                           "optimizer.zero_grad() comes between loss.backward() and optimizer.step(), or step() comes "
                           "right after zero_grad(), before backward(); the order is zero_grad(), backward(), step()",
    "eval_mode": "the batches ran with the net in eval mode (net.train() comes only after them): put the net in "
                 "training mode before the loop, so that batch norm and dropout train",
    "global_state": "with rng=None your orders follow numpy's global random state (np.random.seed): make a "
                    "fresh generator, rng = np.random.default_rng(), as the text says",
}


# ---------------------------------------------------------------- data with traceable rows
def traceable_data(n: int, kind: str = "numpy"):
    """X whose row i starts with the number i, and y[i] = 1000 + i, so a batch shows which examples it holds.

    ``kind``: "numpy" (X of shape (n, 3)), "tensor" (the same as torch tensors), "images" (X of shape (n, 2, 3)),
    "labels2d" (y of shape (n, 2)), "labels" (X float32 and y integer class labels, as numpy arrays),
    "tensor_labels" (the same as torch tensors: X float32, y int64).
    """
    i = np.arange(n, dtype=float)
    if kind == "images":
        X = i[:, None, None] + np.linspace(0, 0.5, 6).reshape(1, 2, 3)
    else:
        X = i[:, None] + np.array([0.0, 0.25, 0.5])
    y = 1000.0 + i
    if kind == "labels2d":
        y = np.stack([y, -y], axis=1)
    if kind in ("labels", "tensor_labels"):
        X, y = X.astype(np.float32), y.astype(np.int64)
    if kind in ("tensor", "tensor_labels"):
        return torch.from_numpy(X), torch.from_numpy(y)
    return X, y


def _ids(batch, what):
    a = batch.detach().cpu().numpy() if isinstance(batch, torch.Tensor) else np.asarray(batch, dtype=float)
    if a.ndim == 0 or a.size == 0:
        return np.zeros(0)
    a = a.reshape(len(a), -1).astype(float)
    return a[:, 0] - (1000.0 if what == "y" else 0.0)


def minibatch_epochs(minibatches, n, batch_size, shuffle=True, drop_last=False, seed=0, num_epochs=2,
                     kind="numpy"):
    """Driver: ``num_epochs`` calls of the student's ``minibatches`` with one generator (``seed=None``: rng=None).

    Returns {"epochs": per epoch a list of (ids of X's rows, ids of y's rows) per batch, "rows_ok": every batch
    row is a whole row of X (or y), "types_ok": batches have the input's type, "dtypes_ok": and its dtype,
    "dtypes": the (X, y) dtypes of the first batch whose dtypes differ from the input's, "modified": X or y was
    changed}.
    """
    n, batch_size = int(n), int(batch_size)
    X, y = traceable_data(n, kind)
    X0, y0 = copy.deepcopy(X), copy.deepcopy(y)
    rng = None if seed is None else np.random.default_rng(int(seed))
    epochs, rows_ok, types_ok, dtypes = [], True, True, None
    for _ in range(int(num_epochs)):
        batches = []
        for Xb, yb in minibatches(X, y, batch_size, shuffle=bool(shuffle), drop_last=bool(drop_last), rng=rng):
            types_ok &= isinstance(Xb, type(X)) and isinstance(yb, type(y))
            got = (str(getattr(Xb, "dtype", type(Xb).__name__)), str(getattr(yb, "dtype", type(yb).__name__)))
            if dtypes is None and got != (str(X.dtype), str(y.dtype)):
                dtypes = [d.replace("torch.", "") for d in got]
            xi, yi = _ids(Xb, "X"), _ids(yb, "y")
            ok_x = np.all(np.isclose(xi, np.round(xi))) and tuple(np.shape(Xb))[1:] == tuple(X.shape)[1:]
            if ok_x and len(xi) and 0 <= xi.min() and xi.max() < n:
                ok_x = bool(np.allclose(np.asarray(Xb, dtype=float), np.asarray(X0, dtype=float)[xi.astype(int)]))
            rows_ok &= bool(ok_x) and tuple(np.shape(yb))[1:] == tuple(y.shape)[1:]
            batches.append((xi, yi))
        epochs.append(batches)
    modified = not (np.array_equal(np.asarray(X), np.asarray(X0)) and np.array_equal(np.asarray(y), np.asarray(y0)))
    return {"epochs": epochs, "rows_ok": bool(rows_ok), "types_ok": bool(types_ok), "dtypes_ok": dtypes is None,
            "dtypes": dtypes or [], "modified": bool(modified)}


def minibatch_frequencies(minibatches, n, batch_size, num_epochs, seeded=False, reseeded_epochs=0):
    """Driver for the statistical test: how often example i lands at position k of an epoch, over ``num_epochs``
    epochs drawn with rng=None (or with one seeded generator if ``seeded``). Returns an (n, n) count matrix and
    the number of epochs whose order equals the previous epoch's; then ``reseeded_epochs`` more epochs with rng=None,
    each after numpy's, random's and torch's global seeds are set to the same value, and how many of their orders
    are equal to the first one's ("global_repeats": a fresh np.random.default_rng() does not follow them)."""
    import random

    n = int(n)
    X, y = traceable_data(n)
    rng = np.random.default_rng(12345) if seeded else None

    sizes = []

    def order():
        batches = [_ids(Xb, "X") for Xb, _ in minibatches(X, y, int(batch_size), shuffle=True, drop_last=False,
                                                          rng=rng)]
        sizes[:] = [len(b) for b in batches]
        out = np.concatenate(batches) if batches else np.zeros(0)
        if len(out) != n or not np.all(np.isin(out, np.arange(n))):
            return None
        return out.astype(int)

    counts, repeats, previous = np.zeros((n, n)), 0, None
    for _ in range(int(num_epochs)):
        current = order()
        if current is None:
            return {"counts": None, "repeats": None, "valid": False, "global_repeats": 0, "sizes": sizes}
        counts[current, np.arange(n)] += 1
        repeats += previous is not None and np.array_equal(current, previous)
        previous = current
    first, global_repeats = None, 0
    for _ in range(int(reseeded_epochs)):
        np.random.seed(0)
        random.seed(0)
        torch.manual_seed(0)
        current = order()
        if current is None:
            break
        if first is None:
            first = current
        else:
            global_repeats += bool(np.array_equal(current, first))
    return {"counts": counts, "repeats": int(repeats), "valid": True, "global_repeats": int(global_repeats)}


def check_minibatches(minibatches) -> None:
    """Visible check of Part 1 on inputs other than the grader's: raise AssertionError naming the mistake."""
    what = "minibatches"
    for n, bs in ((10, 4), (9, 3)):
        out = minibatch_epochs(minibatches, n, bs, shuffle=True, drop_last=False, seed=7, num_epochs=3)
        rng = np.random.default_rng(7)
        if out["modified"]:
            raise AssertionError(f"{what}: {MESSAGES['modified']}")
        if not out["rows_ok"]:
            raise AssertionError(f"{what}: a batch must hold whole rows of X and y (index the first axis)")
        for epoch in out["epochs"]:
            xs = np.concatenate([x for x, _ in epoch]) if epoch else np.array([])
            ys = np.concatenate([yy for _, yy in epoch]) if epoch else np.array([])
            if not np.array_equal(xs, ys):
                raise AssertionError(f"{what}: {MESSAGES['unpaired']}")
            sizes = [len(x) for x, _ in epoch]
            if 0 in sizes:
                raise AssertionError(f"{what}: {MESSAGES['empty']}")
            if len(xs) == n - n % bs and n % bs and len(set(xs.tolist())) == len(xs):
                raise AssertionError(f"{what} (n={n}, batch_size={bs}): {MESSAGES['dropped']}")
            if sorted(xs.tolist()) != list(range(n)):
                raise AssertionError(f"{what}: {MESSAGES['not_once']}")
            if sizes != [bs] * (n // bs) + ([n % bs] if n % bs else []):
                raise AssertionError(f"{what}: batches must have batch_size examples, except a smaller last one "
                                     f"(n={n}, batch_size={bs}: sizes {[bs] * (n // bs) + ([n % bs] if n % bs else [])}"
                                     f", yours {sizes})")
        orders = [np.concatenate([x for x, _ in e]) for e in out["epochs"]]
        if all(np.array_equal(orders[0], o) for o in orders[1:]):
            raise AssertionError(f"{what}: {MESSAGES['same_order']}")
        for o in orders:
            if not np.array_equal(o, rng.permutation(n)):
                raise AssertionError(f"{what}: {MESSAGES['not_rng_order']}")
    out = minibatch_epochs(minibatches, 10, 4, shuffle=True, drop_last=True, seed=1, num_epochs=1)
    if [len(x) for x, _ in out["epochs"][0]] != [4, 4]:
        raise AssertionError(f"{what} (n=10, batch_size=4, drop_last=True): {MESSAGES['kept_partial']}")
    out = minibatch_epochs(minibatches, 7, 3, shuffle=False, seed=1, num_epochs=1)
    if np.concatenate([x for x, _ in out["epochs"][0]]).tolist() != list(range(7)):
        raise AssertionError(f"{what}: {MESSAGES['shuffled_anyway']}")


# ---------------------------------------------------------------- Part 2: the step sizes of a quadratic
def gd_distances(A, lr, num_steps=200, seed=0):
    """Distances to the minimizer of 1/2 w^T A w (b = 0, w* = 0) along plain gradient descent from a seeded start."""
    A = np.asarray(A, dtype=float)
    w = np.random.default_rng(seed).standard_normal(len(A))
    out = [np.linalg.norm(w)]
    for _ in range(num_steps):
        w = w - lr * (A @ w)
        out.append(np.linalg.norm(w))
    return np.array(out)


def check_step_sizes(quadratic_step_sizes) -> None:
    """Visible check of Part 2, by running gradient descent (not by recomputing the formulas)."""
    what = "quadratic_step_sizes"
    Q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((3, 3)))
    A = Q @ np.diag([0.5, 2.0, 8.0]) @ Q.T
    out = quadratic_step_sizes(A)
    if not (isinstance(out, (tuple, list, np.ndarray)) and np.shape(out) == (3,)):
        raise AssertionError(f"{what}: return a tuple (lr_max, lr_opt, rate)")
    lr_max, lr_opt, rate = (float(v) for v in out)
    near = [gd_distances(A, f * lr_max) for f in (1.9, 2.1)]
    if near[0][-1] < near[0][0] and near[1][-1] > 1e3 * near[1][0]:
        raise AssertionError(f"{what}: {MESSAGES['one_over_L']}")
    if not gd_distances(A, 0.95 * lr_max)[-1] < gd_distances(A, 0.95 * lr_max)[0]:
        raise AssertionError(f"{what}: gradient descent with a step just below your lr_max does not converge: "
                             "lr_max is too large (which eigenvalue of A limits the step?)")
    if not gd_distances(A, 1.05 * lr_max)[-1] > 1e3 * gd_distances(A, 1.05 * lr_max)[0]:
        raise AssertionError(f"{what}: gradient descent with a step just above your lr_max still converges: "
                             "lr_max is not the stability limit")
    d = gd_distances(A, lr_opt, num_steps=40)
    observed = (d[-1] / d[0]) ** (1 / 40)
    if not np.isclose(observed, rate, rtol=0.05):
        raise AssertionError(f"{what}: with your lr_opt gradient descent shrinks the distance to the minimum by "
                             f"about {observed:.3f} per step, but your rate says {rate:.3f}")
    def late_rate(lr):
        dd = gd_distances(A, lr, num_steps=300)
        return (dd[300] / dd[250]) ** (1 / 50)

    best = late_rate(lr_opt)
    for factor in (0.9, 1.1):
        if late_rate(factor * lr_opt) < best:
            raise AssertionError(f"{what}: a constant step {factor} times your lr_opt converges faster: "
                                 "lr_opt is not the best constant step (balance the smallest and largest "
                                 "eigenvalue)")


# ---------------------------------------------------------------- Part 3: SGD against torch.optim.SGD
def _one_step(opt_cls, p0, grad, **kwargs):
    p = torch.tensor([p0], dtype=torch.float64, requires_grad=True)
    opt = opt_cls([p], **kwargs)
    p.grad = torch.tensor([grad], dtype=torch.float64)
    opt.step()
    return float(p.detach()[0])


def check_sgd(student_cls) -> None:
    """Visible check of Part 3: the student's SGD against torch.optim.SGD on a few settings; a scalar probe names
    two mistakes."""
    settings = [("lr=0.05", {"lr": 0.05}, {}), ("weight_decay=0.3", {"lr": 0.02, "weight_decay": 0.3}, {}),
                ("maximize=True with weight_decay", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}, {}),
                ("two parameter groups", {"lr": 0.05},
                 {"groups": [{"params": [0, 1], "lr": 0.2}, {"params": [2, 3, 4, 5]}]}),
                ("some gradients None (p.grad is None: skip p, no weight decay either)",
                 {"lr": 0.05, "weight_decay": 0.1}, {"none_grads": {3: [0, 5], 4: [0]}})]
    for label, kwargs, run in settings:
        try:
            compare_with_torch(student_cls, torch.optim.SGD, kwargs, label=label, steps=15, **run)
        except AssertionError as exc:
            hint = None
            try:
                if kwargs.get("weight_decay") and not kwargs.get("maximize"):
                    got = _one_step(student_cls, 2.0, 1.0, lr=0.1, weight_decay=0.5)
                    if np.isclose(got, (2.0 - 0.1) * (1 - 0.05)):
                        hint = MESSAGES["weight_decay_after"]
                if kwargs.get("maximize"):
                    got = _one_step(student_cls, 2.0, 1.0, lr=0.1, weight_decay=0.5, maximize=True)
                    if np.isclose(got, 2.0 + 0.1 * (1.0 + 0.5 * 2.0)):
                        hint = MESSAGES["maximize_decay"]
            except Exception:
                pass
            raise AssertionError(f"{exc}. Likely cause: {hint}" if hint else str(exc)) from None


# ---------------------------------------------------------------- Part 4: one training epoch
def _net(seed=0, kind="tanh"):
    """The seeded classifier of the training probes: a tanh MLP, or with ``kind="bn"`` one with a batch-norm layer
    (it computes differently in training and in eval mode)."""
    torch.manual_seed(seed)
    if kind == "bn":
        return torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Tanh(),
                                   torch.nn.Linear(6, 3)).double()
    return torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3)).double()


def _batches(sizes, seed=1):
    g = torch.Generator().manual_seed(seed)
    n = int(sum(sizes))
    X = torch.randn(n, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (n,), generator=g)
    out, start = [], 0
    for s in sizes:
        out.append((X[start:start + int(s)], y[start:start + int(s)]))
        start += int(s)
    return out


def run_train_epoch(train_epoch, sizes, optimizer="SGD", lr=0.1, stale=False, generator=False, eval_first=False,
                    num_epochs=1, net="tanh", seed=0):
    """Driver: the student's ``train_epoch`` on a seeded MLP (float64; ``net="bn"``: with batch norm) with batches
    of the given sizes.

    ``stale``: the parameters hold leftover gradients when the epoch starts. ``generator``: the batches arrive as
    a one-shot generator. ``eval_first``: the net is in eval mode before the call. Returns {"losses": what each
    epoch returned, "is_float": all of them were Python floats, "params": the parameters after, flattened (and
    the batch-norm running statistics), "steps": optimizer.step() calls, "training": net.training after the
    call}.
    """
    net = _net(int(seed), str(net))
    if eval_first:
        net.eval()
    params = list(net.parameters())
    if stale:
        for p in params:
            p.grad = torch.ones_like(p)
    opt = (torch.optim.Adam if optimizer == "Adam" else torch.optim.SGD)(params, lr=float(lr))
    calls = [0]
    step = opt.step

    def counting_step(*args, **kwargs):
        calls[0] += 1
        return step(*args, **kwargs)

    opt.step = counting_step
    batches = _batches([int(s) for s in sizes], seed=int(seed) + 1)
    losses, is_float = [], True
    for _ in range(int(num_epochs)):
        source = (b for b in batches) if generator else list(batches)
        out = train_epoch(net, opt, source)
        is_float &= isinstance(out, float)
        losses.append(float(out.detach()) if isinstance(out, torch.Tensor) and out.numel() == 1 else out)
    flat = torch.cat([p.detach().reshape(-1) for p in params]
                     + [b.detach().reshape(-1).double() for b in net.buffers() if b.is_floating_point()])
    return {"losses": losses, "is_float": bool(is_float), "params": flat.numpy().copy(), "steps": calls[0],
            "training": bool(net.training)}


def check_train_epoch(train_epoch) -> None:
    """Visible check of Part 4 from properties (a one-batch step, the loss at lr = 0, step counts)."""
    what = "train_epoch"
    sizes = [5, 5, 2]
    out = run_train_epoch(train_epoch, sizes, lr=0.0)
    if not out["is_float"]:
        raise AssertionError(f"{what}: return the epoch's mean loss as a Python float (loss.item())")
    if out["steps"] != len(sizes):
        raise AssertionError(f"{what}: one optimizer step per batch ({len(sizes)} batches, "
                             f"{out['steps']} calls of optimizer.step())")
    net = _net(0)
    X = torch.cat([b[0] for b in _batches(sizes)])
    y = torch.cat([b[1] for b in _batches(sizes)])
    with torch.no_grad():
        want = float(F.cross_entropy(net(X), y))
        per_batch = [float(F.cross_entropy(net(Xb), yb)) for Xb, yb in _batches(sizes)]
    got = out["losses"][0]
    if np.isclose(got, np.mean(per_batch)) and not np.isclose(got, want):
        raise AssertionError(f"{what}: {MESSAGES['unweighted']}")
    if np.isclose(got, want * len(y)) or np.isclose(got, np.mean([v * s for v, s in zip(per_batch, sizes)])):
        raise AssertionError(f"{what}: {MESSAGES['summed']}")
    if not np.isclose(got, want, rtol=1e-9):
        raise AssertionError(f"{what}: with lr = 0 the returned loss must be the mean cross-entropy over all "
                             "examples of the epoch")
    # one batch: the step must be -lr times the gradient of the batch's mean loss, whatever .grad held before
    lr = 0.5
    net = _net(0)
    (Xb, yb), = _batches([6])
    F.cross_entropy(net(Xb), yb).backward()
    want_p = torch.cat([(p - lr * p.grad).detach().reshape(-1) for p in net.parameters()]).numpy()
    got_p = run_train_epoch(train_epoch, [6], lr=lr, stale=True)["params"]
    fresh_p = run_train_epoch(train_epoch, [6], lr=lr)["params"]
    start = torch.cat([p.detach().reshape(-1) for p in _net(0).parameters()]).numpy()
    if np.allclose(fresh_p, start + 6 * (want_p - start)):
        raise AssertionError(f"{what}: {MESSAGES['summed']}")
    if not np.allclose(got_p, want_p, rtol=1e-9, atol=1e-12):
        if np.allclose(fresh_p, want_p, rtol=1e-9, atol=1e-12):
            raise AssertionError(f"{what}: {MESSAGES['no_zero_grad']} (the parameters held leftover gradients)")
        raise AssertionError(f"{what}: after one batch the parameters must be p - lr * (gradient of the batch's "
                             "mean cross-entropy) for torch.optim.SGD")
    # two batches in one call = two one-batch calls
    two = run_train_epoch(train_epoch, [4, 4], lr=lr)["params"]
    net = _net(0)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for Xb, yb in _batches([4, 4]):
        train_epoch(net, opt, [(Xb, yb)])
        opt.zero_grad()
    sequential = torch.cat([p.detach().reshape(-1) for p in net.parameters()]).numpy()
    if not np.allclose(two, sequential, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"{what}: {MESSAGES['no_zero_grad']} (within the epoch)")
    if not run_train_epoch(train_epoch, [3], eval_first=True)["training"]:
        raise AssertionError(f"{what}: put the net in training mode (net.train()) at the start of the epoch")
