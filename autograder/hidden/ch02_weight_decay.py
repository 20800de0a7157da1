"""Hidden tests for Chapter 2: L2 regularization and weight decay."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from sklearn.linear_model import Ridge
from torch import nn

from coursekit.checks import assert_close
from coursekit.data import make_polynomial_regression, make_regression, train_val_test_split
from solutions import regularization as ref


def _close(a, b, rtol=1e-7, atol=1e-9) -> bool:
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _fail(what: str, hint: str):
    raise AssertionError(f"{what}: {hint}")


# ---------------------------------------------------------------- part 1
def check_l2_penalty(l2_penalty) -> None:
    rng = np.random.default_rng(202)
    for lam, shape in [(0.0, (5,)), (1e-3, (7,)), (0.7, (3, 4)), (50.0, (6,))]:
        w = rng.standard_normal(shape)
        got, want = l2_penalty(w.copy(), lam), ref.l2_penalty(w, lam)
        what = f"l2_penalty on a weight array of shape {shape}"
        if lam > 0 and _close(got, 2 * want):
            _fail(what, "you computed lam * ||w||^2; the course's penalty is lam/2 * ||w||^2 "
                        "(so that its gradient is exactly lam * w, as torch's weight_decay)")
        if lam > 0 and _close(got, 0.5 * lam * np.sqrt(np.sum(w ** 2))):
            _fail(what, "you used the norm ||w||, not its square ||w||^2")
        if lam > 0 and _close(got, 0.5 * lam * np.sum(np.abs(w))):
            _fail(what, "that is an L1 penalty (sum of |w|); L2 sums the squares")
        if lam > 0 and w.ndim > 1 and _close(got, 0.5 * lam * np.sum(w ** 2, axis=0)):
            _fail(what, "the penalty must sum over every entry of w and return one number")
        assert_close(got, want, what)


# ---------------------------------------------------------------- part 2
def check_ridge_loss_and_grad(ridge_loss_and_grad) -> None:
    rng = np.random.default_rng(2022)
    n, d = 23, 4
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    for lam in (0.0, 0.3, 4.0):
        w, b = rng.standard_normal(d), float(rng.standard_normal())
        out = ridge_loss_and_grad(w.copy(), b, X.copy(), y.copy(), lam)
        if not (isinstance(out, tuple) and len(out) == 3):
            _fail("ridge_loss_and_grad", "return a tuple (loss, grad_w, grad_b)")
        loss, grad_w, grad_b = out
        want_loss, want_gw, want_gb = ref.ridge_loss_and_grad(w, b, X, y, lam)
        r = X @ w + b - y
        data_loss, data_gw = r @ r / (2 * n), X.T @ r / n
        what = "ridge_loss_and_grad"
        if lam > 0:
            if _close(grad_b, want_gb + lam * b):
                _fail(what, "grad_b includes lam * b: the intercept must not be penalized")
            if _close(grad_w, data_gw) and not _close(grad_w, want_gw):
                _fail(what, "grad_w is missing the penalty's gradient lam * w "
                            "(the penalty is in the loss but not in the gradient?)")
            if _close(loss, data_loss) and not _close(loss, want_loss):
                _fail(what, "the loss is missing the penalty lam/2 * ||w||^2 "
                            "(the penalty is in the gradient but not in the loss?)")
            if _close(loss, data_loss + lam * w @ w):
                _fail(what, "the loss uses lam * ||w||^2; the course's penalty is lam/2 * ||w||^2")
            if _close(grad_w, data_gw + 2 * lam * w):
                _fail(what, "grad_w uses 2 * lam * w, the gradient of lam * ||w||^2; "
                            "the gradient of lam/2 * ||w||^2 is lam * w")
            if _close(loss, data_loss + 0.5 * lam * (w @ w + b * b)):
                _fail(what, "the loss penalizes the intercept b; only w is penalized")
        if _close(loss, 2 * data_loss + 0.5 * lam * w @ w) or _close(loss, r @ r / 2 + 0.5 * lam * w @ w):
            _fail(what, "the data term must be 1/(2n) * sum of squared residuals")
        assert_close(loss, want_loss, "ridge_loss_and_grad: the loss")
        assert_close(grad_w, want_gw, "ridge_loss_and_grad: grad_w")
        assert_close(grad_b, want_gb, "ridge_loss_and_grad: grad_b")


# ---------------------------------------------------------------- part 3
@contextlib.contextmanager
def _no_explicit_inverse():
    """Make np.linalg.inv / pinv raise while the student's ridge_fit runs."""
    def trap(*args, **kwargs):
        raise AssertionError("ridge_fit: do not form the inverse matrix (np.linalg.inv/pinv); "
                             "solve the linear system with np.linalg.solve, which is cheaper "
                             "and numerically more accurate")
    saved = np.linalg.inv, np.linalg.pinv
    np.linalg.inv = np.linalg.pinv = trap
    try:
        yield
    finally:
        np.linalg.inv, np.linalg.pinv = saved


def check_ridge_fit(ridge_fit) -> None:
    X, y, _ = make_regression(n_samples=40, n_features=6, correlation=0.8, intercept=5.0, seed=7)
    n = len(X)
    for lam in (1e-4, 0.1, 3.0):
        with _no_explicit_inverse():
            out = ridge_fit(X.copy(), y.copy(), lam)
        if not (isinstance(out, tuple) and len(out) == 2):
            _fail("ridge_fit", "return a tuple (w, b)")
        w, b = out
        want_w, want_b = ref.ridge_fit(X, y, lam)
        what = "ridge_fit"
        sk = Ridge(alpha=lam).fit(X, y)
        if _close(w, sk.coef_, 1e-6) and not _close(w, want_w, 1e-6):
            _fail(what, "you used lam where the objective needs n * lam "
                        "(the data term is an average over n samples)")
        Xa = np.hstack([X, np.ones((n, 1))])
        wa = np.linalg.solve(Xa.T @ Xa + n * lam * np.eye(7), Xa.T @ y)
        if _close(w, wa[:-1], 1e-6) and not _close(w, want_w, 1e-6):
            _fail(what, "the intercept is penalized (a column of ones inside the penalty); "
                        "centre X and y instead, and recover b = mean(y) - mean(X) @ w")
        w0 = np.linalg.solve(X.T @ X + n * lam * np.eye(6), X.T @ y)
        if _close(w, w0, 1e-6):
            _fail(what, "you fitted without an intercept: centre X and y first")
        assert_close(w, want_w, "ridge_fit: w", rtol=1e-6)
        assert_close(b, want_b, "ridge_fit: b", rtol=1e-6)


# ---------------------------------------------------------------- part 4
def _nets():
    torch.manual_seed(0)
    yield nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8, bias=False),
                        nn.LayerNorm(8), nn.Linear(8, 3))
    yield nn.Sequential(nn.Conv2d(1, 4, 3), nn.GroupNorm(2, 4), nn.ReLU(), nn.Flatten(),
                        nn.Linear(4 * 4 * 4, 2))


def check_decay_param_groups(decay_param_groups) -> None:
    what = "decay_param_groups"
    for weight_decay in (5e-4, 0.3):
        for net in _nets():
            groups = decay_param_groups(net, weight_decay)
            if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
                _fail(what, "return a list of dicts, each with keys 'params' and 'weight_decay'")
            decayed, kept, counts = set(), set(), {}
            for g in groups:
                if "params" not in g or "weight_decay" not in g:
                    _fail(what, "every group needs both 'params' and 'weight_decay'")
                for p in g["params"]:
                    counts[id(p)] = counts.get(id(p), 0) + 1
                    (decayed if g["weight_decay"] > 0 else kept).add(id(p))
                    if g["weight_decay"] > 0 and g["weight_decay"] != weight_decay:
                        _fail(what, "the decayed group must use the weight_decay you were given")
            if any(c > 1 for c in counts.values()):
                _fail(what, "a parameter appears in more than one group (torch rejects that)")
            want_groups = ref.decay_param_groups(net, weight_decay)
            want_decayed = {id(p) for p in want_groups[0]["params"]}
            want_kept = {id(p) for p in want_groups[1]["params"]}
            if (decayed | kept) != (want_decayed | want_kept):
                _fail(what, "some parameters of the network are missing from your groups")
            biases = {id(p) for name, p in net.named_parameters() if name.endswith("bias")}
            norms = want_kept - biases
            if decayed & biases:
                _fail(what, "biases are decayed; they should go in the weight_decay=0 group")
            if decayed & norms:
                _fail(what, "normalization parameters (BatchNorm/LayerNorm/GroupNorm scale and shift) "
                            "are decayed; they should not be")
            if kept & want_decayed:
                _fail(what, "some ordinary weights (Linear/Conv weight matrices) are not decayed")
            torch.optim.SGD(groups, lr=0.1)  # torch must accept the groups as they are


# ---------------------------------------------------------------- part 5
@contextlib.contextmanager
def _reference_ridge_fit(fn):
    """Run the student's select_lambda with the reference ridge_fit in its namespace,
    so that a mistake in part 3 is not charged again in part 5."""
    namespace = getattr(fn, "__globals__", {})
    saved = namespace.get("ridge_fit")
    if saved is not None:
        namespace["ridge_fit"] = ref.ridge_fit
    try:
        yield
    finally:
        if saved is not None:
            namespace["ridge_fit"] = saved


def check_select_lambda(select_lambda) -> None:
    what = "select_lambda"
    for seed in (3, 11):
        _, y, Phi = make_polynomial_regression(n_samples=60, degree=12, noise=0.3, seed=seed)
        (Xtr, ytr), (Xva, yva), _ = train_val_test_split(Phi, y, seed=seed)
        lams = np.logspace(-8, 1, 10)
        with _reference_ridge_fit(select_lambda):
            out = select_lambda(Xtr.copy(), ytr.copy(), Xva.copy(), yva.copy(), lams.copy())
        if not (isinstance(out, tuple) and len(out) == 2):
            _fail(what, "return a tuple (best_lam, val_errors)")
        best, errors = out
        want_best, want_errors = ref.select_lambda(Xtr, ytr, Xva, yva, lams)
        train_errors = [np.mean((Xtr @ w + b - ytr) ** 2)
                        for w, b in (ref.ridge_fit(Xtr, ytr, lam) for lam in lams)]
        if _close(errors, train_errors, 1e-6):
            _fail(what, "the errors are measured on the training data; use the validation data")
        if _close(best, np.argmin(want_errors)) and not _close(best, want_best):
            _fail(what, "return the value of the best lambda, not its index")
        assert_close(errors, want_errors, "select_lambda: the validation errors", rtol=1e-6)
        assert_close(best, want_best, "select_lambda: the chosen lambda", rtol=1e-9)
