"""Hidden tests for Chapter 2: L2 regularization and weight decay.

Each part sends calls with hidden inputs into the sandbox and judges the
returned values here, against ``solutions.regularization`` and scikit-learn.
When a value matches a known mistake, the message names it. Messages never
contain the hidden inputs or the expected values.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge

from coursekit.checks.source import inverse_message, matrix_inverse_uses
from coursekit.data import make_polynomial_regression, make_regression, train_val_test_split
from solutions import regularization as ref

from ..harness import _build_net, array_key
from ..verdicts import Failure, Foreign, Part, returned


def _close(a, b, rtol=1e-7, atol=1e-9) -> bool:
    if isinstance(a, Foreign) or a is None:
        return False
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _expect(got, want, what, rtol=1e-7, atol=1e-9) -> None:
    """A Failure naming ``what`` unless ``got`` matches; never shows ``want``."""
    if got is None:
        raise Failure(f"{what}: your function returned None (did you forget `return`?)")
    if isinstance(got, (Foreign, str)):
        raise Failure(f"{what}: expected numbers, got a {getattr(got, 'what', 'string')}")
    try:
        arr, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        raise Failure(f"{what}: expected numbers or an array of numbers") from None
    if arr.shape != want.shape:
        raise Failure(f"{what}: expected shape {want.shape}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise Failure(f"{what}: the result contains NaN or inf")
    if not np.allclose(arr, want, rtol=rtol, atol=atol):
        raise Failure(f"{what}: wrong value (largest absolute error {float(np.max(np.abs(arr - want))):.3g})")


def _call(name, *args):
    enc = [{"__array__": np.asarray(a, float).ravel().tolist(), "shape": list(np.shape(a))}
           if isinstance(a, np.ndarray) else a for a in args]
    return {"kind": "call", "name": name, "args": enc}


def _pair(value, what, n):
    if not (isinstance(value, tuple) and len(value) == n):
        raise Failure(f"{what}: return a tuple of {n} values")
    return value


# ---------------------------------------------------------------- part 1
_rng = np.random.default_rng(202)
PENALTY_CASES = [(_rng.standard_normal(shape), lam)
                 for lam, shape in [(0.0, (5,)), (1e-3, (7,)), (0.7, (3, 4)), (50.0, (6,)), (0.5, (3,))]]


def judge_l2_penalty(values):
    for (w, lam), got in zip(PENALTY_CASES, returned(values, "l2_penalty")):
        what = f"l2_penalty on a weight array of shape {w.shape}"
        if lam > 0:
            if _close(got, lam * np.sum(w ** 2)):
                raise Failure(f"{what}: you computed lam * ||w||^2; the course's penalty is lam/2 * ||w||^2 "
                              "(so that its gradient is exactly lam * w, as torch's weight_decay)")
            if _close(got, 0.5 * lam * np.sqrt(np.sum(w ** 2))):
                raise Failure(f"{what}: you used the norm ||w||, not its square ||w||^2")
            if _close(got, 0.5 * lam * np.sum(np.abs(w))):
                raise Failure(f"{what}: that is an L1 penalty (sum of |w|); L2 sums the squares")
            if w.ndim > 1 and _close(got, 0.5 * lam * np.sum(w ** 2, axis=0)):
                raise Failure(f"{what}: the penalty must sum over every entry of w and return one number")
        _expect(got, ref.l2_penalty(w, lam), what)


# ---------------------------------------------------------------- part 2
_rng = np.random.default_rng(2022)
_X, _y = _rng.standard_normal((23, 4)), _rng.standard_normal(23)
GRAD_CASES = [(_rng.standard_normal(4), float(_rng.standard_normal()), _X, _y, lam) for lam in (0.0, 0.3, 4.0)]
# the visible test's case, so that passing here implies passing there
_rv = np.random.default_rng(0)
_Xv, _yv = _rv.standard_normal((10, 3)), _rv.standard_normal(10)
GRAD_CASES.append((_rv.standard_normal(3), 0.5, _Xv, _yv, 0.1))


def judge_ridge_loss_and_grad(values):
    what = "ridge_loss_and_grad"
    for (w, b, X, y, lam), out in zip(GRAD_CASES, returned(values, what)):
        loss, grad_w, grad_b = _pair(out, f"{what} should return (loss, grad_w, grad_b):", 3)
        want_loss, want_gw, want_gb = ref.ridge_loss_and_grad(w, b, X, y, lam)
        n = len(y)
        r = X @ w + b - y
        data_loss, data_gw = r @ r / (2 * n), X.T @ r / n
        if lam > 0:
            if _close(grad_b, want_gb + lam * b):
                raise Failure(f"{what}: grad_b includes lam * b: the intercept must not be penalized")
            if _close(grad_w, data_gw) and not _close(grad_w, want_gw):
                raise Failure(f"{what}: grad_w is missing the penalty's gradient lam * w "
                              "(the penalty is in the loss but not in the gradient?)")
            if _close(loss, data_loss) and not _close(loss, want_loss):
                raise Failure(f"{what}: the loss is missing the penalty lam/2 * ||w||^2 "
                              "(the penalty is in the gradient but not in the loss?)")
            if _close(loss, data_loss + lam * w @ w):
                raise Failure(f"{what}: the loss uses lam * ||w||^2; the course's penalty is lam/2 * ||w||^2, "
                              "whose gradient is lam * w (what torch's weight_decay=lam adds)")
            if _close(grad_w, data_gw + 2 * lam * w):
                raise Failure(f"{what}: grad_w uses 2 * lam * w, the gradient of lam * ||w||^2; "
                              "the gradient of lam/2 * ||w||^2 is lam * w")
            if _close(loss, data_loss + 0.5 * lam * (w @ w + b * b)):
                raise Failure(f"{what}: the loss penalizes the intercept b; only w is penalized")
        if _close(loss, 2 * data_loss + 0.5 * lam * w @ w) or _close(loss, r @ r / 2 + 0.5 * lam * w @ w):
            raise Failure(f"{what}: the data term must be 1/(2n) * sum of squared residuals")
        _expect(loss, want_loss, f"{what}: the loss")
        _expect(grad_w, want_gw, f"{what}: grad_w")
        _expect(grad_b, want_gb, f"{what}: grad_b")


# ---------------------------------------------------------------- part 3
_Xr, _yr, _ = make_regression(n_samples=40, n_features=6, correlation=0.8, intercept=5.0, seed=7)
_Xs, _ys, _ = make_regression(n_samples=30, n_features=4, noise=0.1, seed=1)  # the visible test's data
# the visible test's cases too: its two lambdas, and every target shifted by 100 (b must move by exactly 100)
RIDGE_CASES = [(_Xr, _yr, lam) for lam in (1e-4, 0.1, 3.0)] + [(_Xs, _ys, lam) for lam in (0.01, 1.0)] \
    + [(_Xs, _ys + 100.0, 1.0)]


def static_ridge_fit(source):
    """Calls that form an inverse matrix (np.linalg.inv, pinv, .I, ...), not identifiers that contain 'inv'."""
    found = matrix_inverse_uses(source)
    if found:
        raise Failure(inverse_message("ridge_fit", found))


def judge_ridge_fit(values):
    what = "ridge_fit"
    for (X, y, lam), out in zip(RIDGE_CASES, returned(values, what)):
        w, b = _pair(out, f"{what} should return (w, b):", 2)
        n, d = X.shape
        want_w, want_b = ref.ridge_fit(X, y, lam)
        if _close(w, Ridge(alpha=lam).fit(X, y).coef_, 1e-6) and not _close(w, want_w, 1e-6):
            raise Failure(f"{what}: you used lam where the objective needs n * lam "
                          "(the data term is an average over n samples)")
        Xa = np.hstack([X, np.ones((n, 1))])
        wa = np.linalg.solve(Xa.T @ Xa + n * lam * np.eye(d + 1), Xa.T @ y)
        if _close(w, wa[:-1], 1e-6) and not _close(w, want_w, 1e-6):
            raise Failure(f"{what}: the intercept is penalized (a column of ones inside the penalty); "
                          "centre X and y instead, and recover b = mean(y) - mean(X) @ w")
        if _close(w, np.linalg.solve(X.T @ X + n * lam * np.eye(d), X.T @ y), 1e-6):
            raise Failure(f"{what}: you fitted without an intercept: centre X and y first")
        _expect(w, want_w, f"{what}: w", rtol=1e-6)
        _expect(b, want_b, f"{what}: b", rtol=1e-6)


# ---------------------------------------------------------------- part 4
# ("visible_norms", 0.01) is the visible test's case; "mlp" was the visible net before it had normalization layers
GROUP_CASES = [(net, wd) for wd in (5e-4, 0.3) for net in ("mlp_norms", "conv_groupnorm")] + [("mlp", 0.01),
                                                                                            ("visible_norms", 0.01)]


def judge_decay_param_groups(values):
    what = "decay_param_groups"
    for (net_name, wd), out in zip(GROUP_CASES, returned(values, what)):
        if isinstance(out, Foreign) or not isinstance(out, dict) or "groups" not in out:
            raise Failure(f"{what}: return a list of dicts, each with keys 'params' and 'weight_decay'")
        net = _build_net(net_name)
        want_decay, want_keep = ref.decay_param_groups(net, wd)
        names = {id(p): n for n, p in net.named_parameters()}
        want_decayed = {names[id(p)] for p in want_decay["params"]}
        want_all = want_decayed | {names[id(p)] for p in want_keep["params"]}
        biases = {n for n in want_all if n.endswith("bias")}
        decayed, kept, seen = set(), set(), []
        for g in out["groups"]:
            if "params" not in g["keys"] or "weight_decay" not in g["keys"]:
                raise Failure(f"{what}: every group needs both 'params' and 'weight_decay'")
            group_wd = g["weight_decay"]
            if not isinstance(group_wd, (int, float)):
                raise Failure(f"{what}: 'weight_decay' must be a number")
            if group_wd > 0 and group_wd != wd:
                raise Failure(f"{what}: the decayed group must use the weight_decay you were given")
            seen += g["params"]
            (decayed if group_wd > 0 else kept).update(g["params"])
        if len(seen) != len(set(seen)):
            raise Failure(f"{what}: a parameter appears in more than one group (torch rejects that)")
        if set(seen) != want_all:
            raise Failure(f"{what}: some parameters of the network are missing from your groups")
        if decayed & biases:
            raise Failure(f"{what}: biases are decayed; they should go in the weight_decay=0 group")
        if decayed - want_decayed:
            raise Failure(f"{what}: normalization parameters are decayed: a BatchNorm/LayerNorm/GroupNorm layer's "
                          "weight (its scale) and bias (its shift) go in the weight_decay=0 group, although the "
                          "scale is called 'weight'")
        if want_decayed - decayed:
            raise Failure(f"{what}: some ordinary weights (Linear/Conv weight matrices) are not decayed")
        if out["torch_error"]:
            raise Failure(f"{what}: torch.optim.SGD rejects your groups: {out['torch_error']}")


# ---------------------------------------------------------------- part 5
LAMS = np.logspace(-8, 1, 10)
SELECT_CASES = []
for _seed in (3, 11, 0):
    _, _ys5, _Phi = make_polynomial_regression(n_samples=60, degree=12, noise=0.3, seed=_seed)
    (_Xtr, _ytr), (_Xva, _yva), _ = train_val_test_split(_Phi, _ys5, seed=_seed)
    SELECT_CASES.append((_Xtr, _ytr, _Xva, _yva))


def _select_calls():
    """select_lambda on each split, with ridge_fit answering from the reference fits for these inputs,
    so that a mistake in part 3 is not charged again in part 5."""
    calls = []
    for Xtr, ytr, Xva, yva in SELECT_CASES:
        table = [{"key": array_key(Xtr, ytr) + repr(float(lam)),
                  "value": [{"__array__": w.tolist(), "shape": list(w.shape)}, b]}
                 for lam in LAMS for w, b in [ref.ridge_fit(Xtr, ytr, lam)]]
        call = _call("select_lambda", Xtr, ytr, Xva, yva, LAMS)
        call["substitutes"] = [{"name": "ridge_fit", "table": table}]
        calls.append(call)
    return calls


def judge_select_lambda(values):
    what = "select_lambda"
    for (Xtr, ytr, Xva, yva), out in zip(SELECT_CASES, returned(values, what)):
        best, errors = _pair(out, f"{what} should return (best_lam, val_errors):", 2)
        want_best, want_errors = ref.select_lambda(Xtr, ytr, Xva, yva, LAMS)
        fits = [ref.ridge_fit(Xtr, ytr, lam) for lam in LAMS]
        train_errors = np.array([np.mean((Xtr @ w + b - ytr) ** 2) for w, b in fits])
        if _close(errors, train_errors, 1e-6):
            raise Failure(f"{what}: the errors are measured on the training data; use the validation data")
        if _close(best, np.argmin(want_errors)) and not _close(best, want_best):
            raise Failure(f"{what}: return the value of the best lambda, not its index")
        _expect(errors, want_errors, f"{what}: the validation errors", rtol=1e-6)
        _expect(best, want_best, f"{what}: the chosen lambda", rtol=1e-9)


PARTS = {
    "test_l2_penalty": Part("l2_penalty", [_call("l2_penalty", w, lam) for w, lam in PENALTY_CASES],
                            judge_l2_penalty),
    "test_ridge_loss_and_grad": Part("ridge_loss_and_grad",
                                     [_call("ridge_loss_and_grad", w, b, X, y, lam) for w, b, X, y, lam in GRAD_CASES],
                                     judge_ridge_loss_and_grad),
    "test_ridge_fit": Part("ridge_fit", [_call("ridge_fit", X, y, lam) for X, y, lam in RIDGE_CASES],
                           judge_ridge_fit, static=static_ridge_fit),
    "test_decay_param_groups": Part("decay_param_groups",
                                    [{"kind": "param_groups", "name": "decay_param_groups", "net": net,
                                      "weight_decay": wd} for net, wd in GROUP_CASES],
                                    judge_decay_param_groups),
    "test_select_lambda": Part("select_lambda", _select_calls(), judge_select_lambda),
}
