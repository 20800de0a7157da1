"""Visible checks for Chapter 3 (the lasso), and the drivers the grader runs in its sandbox.

Convention (scikit-learn's): ``Lasso(alpha=alpha)`` minimizes
``1/(2n) * ||y - X w - b||^2 + alpha * ||w||_1`` with the intercept ``b`` unpenalized.

The ``diagnose_*`` functions recognise the chapter's named mistakes from an answer's values; the visible
tests (in the notebook) and the hidden tests (in the grader) both use them, so they name a mistake in the
same words. The oracles here are scikit-learn's ``Lasso`` and torch's ``softshrink``; nothing here solves
an exercise part for the student.
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------- the named mistakes, in the student's terms
SIGN_NOT_PROX = ("sign() used where the proximal step is needed: w - t*sign(w) moves every entry by t and "
                 "overshoots zero, so no entry is ever exactly 0; soft-thresholding sets every |w| <= t to "
                 "exactly 0 and shrinks the others by t")
ONE_SIDED = ("only positive entries are handled: max(x - t, 0) sets every negative entry to 0; "
             "soft-thresholding is sign(x) * max(|x| - t, 0), symmetric about 0")
HARD_THRESHOLD = ("that is hard-thresholding (entries above t are kept unchanged); soft-thresholding also "
                  "shrinks the surviving entries by t")
SUBGRADIENT_SIGN0 = ("wrong subgradient at 0: np.sign(0) = 0 gives g_j = grad_j where w_j = 0, one element "
                     "of the subdifferential [grad_j - alpha, grad_j + alpha] but not the minimum-norm one the "
                     "exercise asks for; at w_j = 0 take the element closest to 0, soft_threshold(grad_j, alpha)")
SUBGRADIENT_PLUS = ("wrong subgradient at 0: you took sign(0) = +1 (grad_j + alpha where w_j = 0); at w_j = 0 "
                    "the minimum-norm subgradient is soft_threshold(grad_j, alpha)")
PENALTY_HALF = ("the penalty is alpha * ||w||_1 (scikit-learn's Lasso), not alpha/2 * ||w||_1: the 1/2 "
                "belongs to the squared-error term only")
PENALTY_SQUARED = "that is an L2 penalty (squares); the lasso penalizes alpha * sum of |w_j|"
INTERCEPT_PENALIZED = ("the intercept is penalized: adding a constant to every target should move b by exactly "
                       "that constant and leave w unchanged; centre X and y (or leave b out of the threshold "
                       "and the penalty), then b = mean(y) - mean(X) @ w")
ZERO_INTERCEPT = ("b is 0: the intercept is penalized (thresholded with the weights) or not fitted; leave b "
                  "out of the penalty: centre X and y, then b = mean(y) - mean(X) @ w")
NO_INTERCEPT = "b is 0: fit the intercept too (centre X and y, then b = mean(y) - mean(X) @ w)"
FIXED_STEP = ("the solver diverges on badly scaled features: a fixed step size ignores L, the Lipschitz "
              "constant of the gradient (the largest eigenvalue of Xc.T @ Xc / n), and any fixed step fails "
              "once the features are scaled up; use step 1/L (ISTA) or coordinate descent, which needs no step")
CONSTANT_FEATURE = ("the weight of a constant feature is NaN or inf: its centred column is all zeros, so coordinate "
                    "descent divides 0 by 0 there; skip such a column (its weight is 0)")
THRESHOLD_NOT_STEP = ("the threshold is alpha, not step * alpha: the proximal step of a gradient step of size "
                      "1/L thresholds by alpha/L (in torch, lr * lam)")
THRESHOLD_ON_GRADIENT = ("the threshold was applied to the gradient instead of the iterate: take the gradient "
                         "step first, then soft-threshold the new weights, w <- S(w - step*grad, step*alpha)")
NOT_EXACT_ZEROS = ("weights that the lasso sets to 0 are small but not exactly 0: sign() used where the proximal "
                   "step is needed; a subgradient step (grad + alpha * sign(w)) never lands on 0, the proximal "
                   "step (soft-thresholding) sets them to exactly 0.0")
PROX_LAM_NOT_LR_LAM = ("the threshold is lam, not lr * lam: a step of size lr on lam * |w| is the "
                       "soft-threshold by lr * lam (use each group's own group['lr'])")
PROX_NOT_IN_PLACE = ("the parameters did not change: update them in place (p.copy_(...), or p.mul_/sub_ "
                     "under torch.no_grad()); rebinding a name or replacing the tensor in the group leaves "
                     "the network's weights as they were")
PROX_ON_GRADIENT = ("the threshold was applied to the gradient instead of the iterate: after "
                    "optimizer.step() the proximal step soft-thresholds the parameters themselves")
PROX_ALL_GROUPS = "a group without an 'l1' entry was changed: only groups with 'l1' > 0 are thresholded"
PROX_FIRST_L1 = ("every group is thresholded with the first group's l1 (a group without an 'l1' entry was changed "
                 "too, or a group's own l1 ignored): read each group's own group.get('l1') and skip groups without it")
PATH_NOT_SORTED = ("return the alphas in decreasing order, as scikit-learn's lasso_path does, with coefs[:, k] "
                   "the weights for alphas[k]")
PATH_TRANSPOSED = "coefs has shape (n_alphas, n_features); scikit-learn's lasso_path returns (n_features, n_alphas)"
PATH_NO_WARM_START = ("the path is not warm-started: fit the alphas from the largest down and pass the previous "
                      "weights as lasso_fit's w_init")


def _close(a, b, rtol=1e-7, atol=1e-9) -> bool:
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _soft(x, t):
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)


# ---------------------------------------------------------------- the named mistakes' models
# Each returns message -> the forms of that mistake on one input, in the order its diagnosis tries them. The
# diagnoses below name the first form the answer matches; the hidden tests use the same models to rule a mistake
# out where an answer passes and every form of that mistake fails.
def soft_threshold_models(x, t) -> dict[str, list]:
    """The soft-threshold of (x, t) by each form of each mistake."""
    x = np.asarray(x, dtype=float)
    return {ONE_SIDED: [np.maximum(x - t, 0.0)], SIGN_NOT_PROX: [x - t * np.sign(x)],
            HARD_THRESHOLD: [np.where(np.abs(x) > t, x, 0.0)]}


def subgradient_models(w, X, y, b, alpha) -> dict[str, list[tuple[int, object]]]:
    """Each form as (which of loss, g_w, g_b it gets wrong: 0, 1 or 2; that value)."""
    w, X, y = np.asarray(w, float), np.asarray(X, float), np.asarray(y, float)
    n = len(y)
    r = X @ w + b - y
    grad, data = X.T @ r / n, r @ r / (2 * n)
    return {SUBGRADIENT_SIGN0: [(1, grad + alpha * np.sign(w))],
            SUBGRADIENT_PLUS: [(1, grad + alpha * np.where(w == 0, 1.0, np.sign(w)))],
            PENALTY_HALF: [(0, data + 0.5 * alpha * np.abs(w).sum())],
            PENALTY_SQUARED: [(0, data + alpha * w @ w), (0, data + 0.5 * alpha * w @ w)],
            INTERCEPT_PENALIZED: [(2, r.mean() + alpha * np.sign(b))]}


def prox_models(p, g, lr, l1, first, some) -> dict[str, list]:
    """One parameter after l1_prox_ by each form, from the parameter ``p`` and its gradient ``g`` before the call,
    its group's ``lr`` and ``l1`` (None or 0: no entry), the first nonzero l1 of the groups (``first``, 0 if none)
    and the (lr, l1) of the first group with one (``some``)."""
    p, g = np.asarray(p, float), np.asarray(g, float)

    def keep(after):   # a form that leaves the groups without l1 alone
        return after if l1 else p
    return {PROX_NOT_IN_PLACE: [p], SIGN_NOT_PROX: [keep(p - lr * (l1 or 0) * np.sign(p))],
            PROX_LAM_NOT_LR_LAM: [keep(_soft(p, l1 or 0))],
            PROX_ON_GRADIENT: [keep(p - lr * _soft(g, l1 or 0)), keep(p + lr * g - lr * _soft(g, l1 or 0))],
            PROX_FIRST_L1: [_soft(p, lr * first)], PROX_ALL_GROUPS: [_soft(p, lr * l1 if l1 else some[0] * some[1])]}


# ---------------------------------------------------------------- diagnoses (visible and hidden tests)
def diagnose_soft_threshold(x, t, got) -> str | None:
    """The named mistake ``got = soft_threshold(x, t)`` matches, if any."""
    x = np.asarray(x, dtype=float)
    if _close(got, _soft(x, t)):
        return None
    # inputs on which each form differs from the soft-threshold (elsewhere it coincides with it)
    differs = {ONE_SIDED: np.any(x < -t), SIGN_NOT_PROX: t > 0 and np.any(np.abs(x) < t),
               HARD_THRESHOLD: t > 0 and np.any(np.abs(x) > t)}
    return next((message for message, forms in soft_threshold_models(x, t).items()
                 if differs[message] and any(_close(got, f) for f in forms)), None)


def diagnose_subgradient(w, X, y, b, alpha, loss, g_w, g_b) -> str | None:
    """The named mistake the answer of ``lasso_loss_and_subgradient`` matches, if any."""
    w, X, y = np.asarray(w, float), np.asarray(X, float), np.asarray(y, float)
    grad = X.T @ (X @ w + b - y) / len(y)
    at_zero = w == 0
    right_g_w = np.where(at_zero, _soft(grad, alpha), grad + alpha * np.sign(w))
    wrong_at_zero = alpha > 0 and at_zero.any() and not _close(g_w, right_g_w)
    penalized = alpha > 0 and np.any(w != 0)
    applies = {SUBGRADIENT_SIGN0: wrong_at_zero, SUBGRADIENT_PLUS: wrong_at_zero, PENALTY_HALF: penalized,
               PENALTY_SQUARED: penalized, INTERCEPT_PENALIZED: penalized and b != 0}
    got = (loss, g_w, g_b)
    return next((message for message, forms in subgradient_models(w, X, y, b, alpha).items()
                 if applies[message] and any(_close(got[i], value) for i, value in forms)), None)


def diagnose_prox(before, after, grads, lrs, l1s) -> str | None:
    """The named mistake of a proximal step, from each parameter ``before`` and ``after`` the call, the
    gradients of the optimizer step just taken, and each parameter's group ``lr`` and ``l1`` (None: no
    entry)."""
    right = [_soft(p, lr * l1) if l1 else np.asarray(p, float) for p, lr, l1 in zip(before, lrs, l1s)]
    if all(_close(a, r, rtol=1e-5, atol=1e-6) for a, r in zip(after, right)):
        return None
    first = next((l1 for l1 in l1s if l1), None)
    some = next(((lr, l1) for lr, l1 in zip(lrs, l1s) if l1), None)
    applies = {PROX_NOT_IN_PLACE: first is not None, SIGN_NOT_PROX: True, PROX_LAM_NOT_LR_LAM: True,
               PROX_ON_GRADIENT: True, PROX_FIRST_L1: first is not None and len(set(l1s)) > 1,
               PROX_ALL_GROUPS: some is not None and any(not l1 for l1 in l1s)}
    per_param = [prox_models(p, g, lr, l1, first or 0.0, some or (0.0, 0.0))
                 for p, g, lr, l1 in zip(before, grads, lrs, l1s)]
    for message, applicable in applies.items():
        forms = range(len(per_param[0][message])) if per_param else ()
        if applicable and any(all(_close(a, models[message][i], rtol=1e-5, atol=1e-6)
                                  for a, models in zip(after, per_param)) for i in forms):
            return message
    return None


def lipschitz(X) -> float:
    """L for the lasso's smooth part: the largest eigenvalue of Xc.T @ Xc / n."""
    X = np.asarray(X, dtype=float)
    Xc = X - X.mean(axis=0)
    return float(np.linalg.eigvalsh(Xc.T @ Xc / len(X))[-1])


def sklearn_lasso(X, y, alpha, w_init=None, fit_intercept=True):
    """scikit-learn's Lasso to tight tolerance: ``(coef_, intercept_)``, optionally warm-started."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Lasso

    model = Lasso(alpha=alpha, tol=1e-14, max_iter=200_000, warm_start=w_init is not None,
                  fit_intercept=fit_intercept)
    if w_init is not None:
        model.coef_ = np.array(w_init, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(np.asarray(X, float), np.asarray(y, float))
    return model.coef_.copy(), float(model.intercept_)


def lasso_fit_models(X, y, alpha) -> dict[str, list[tuple]]:
    """(w, b) by each form of the fit's mistakes that converge somewhere else: the threshold alpha where a step of
    1/L thresholds by alpha/L (the lasso of alpha * L), and the intercept thresholded with the weights."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    penalized = sklearn_lasso(np.hstack([X, np.ones((len(y), 1))]), y, alpha, fit_intercept=False)[0]
    return {THRESHOLD_NOT_STEP: [sklearn_lasso(X, y, alpha * lipschitz(X))],
            INTERCEPT_PENALIZED: [(penalized[:-1], penalized[-1])]}


def diagnose_lasso_fit(X, y, alpha, w, b) -> str | None:
    """The named mistake ``(w, b) = lasso_fit(X, y, alpha)`` matches, if any (one call's worth)."""
    try:
        w_arr = np.asarray(w, dtype=float)
        b_val = float(b)
    except (TypeError, ValueError):
        return None
    X, y = np.asarray(X, float), np.asarray(y, float)
    if not np.all(np.isfinite(w_arr)) or not np.isfinite(b_val) or np.max(np.abs(w_arr)) > 1e6:
        constant = np.all(X == X[:1], axis=0)
        if w_arr.shape == constant.shape and not np.all(np.isfinite(w_arr[constant])):
            return CONSTANT_FEATURE
        return FIXED_STEP
    want, want_b = sklearn_lasso(X, y, alpha)
    if w_arr.shape != want.shape:
        return None
    if _close(w_arr, want, 1e-5, 1e-7) and _close(b_val, want_b, 1e-5, 1e-7):
        zeros = want == 0
        if np.any(w_arr[zeros] != 0):
            return NOT_EXACT_ZEROS
        return None
    L = lipschitz(X)
    models = lasso_fit_models(X, y, alpha)
    if abs(L - 1) > 0.01 and _close(w_arr, models[THRESHOLD_NOT_STEP][0][0], 1e-4, 1e-6):
        return THRESHOLD_NOT_STEP
    (penalized_w, penalized_b), = models[INTERCEPT_PENALIZED]
    if _close(w_arr, penalized_w, 1e-4, 1e-6) and _close(b_val, penalized_b, 1e-4, 1e-6):
        return INTERCEPT_PENALIZED if b_val != 0 else ZERO_INTERCEPT
    if b_val == 0 and abs(want_b) > 1e-3:
        return NO_INTERCEPT
    zeros = (want == 0) & ~np.all(X == X[:1], axis=0)     # a constant feature's weight may stay 0 regardless
    if zeros.any() and np.all(w_arr[zeros] != 0) and (
            np.max(np.abs(w_arr[zeros])) < 0.1 * np.max(np.abs(w_arr))
            or np.max(np.abs(w_arr - want)) <= 2 * alpha / L):   # a subgradient step of 1/L oscillates within ~alpha/L
        return NOT_EXACT_ZEROS
    # Thresholding the gradient stops wherever every |grad_j| <= alpha: inside the box, but with weights
    # that the lasso would set to zero left nonzero and the subgradient condition violated.
    Xc = X - X.mean(axis=0)
    grad = Xc.T @ (Xc @ w_arr - (y - y.mean())) / len(y)
    if np.all(np.abs(grad) <= alpha * (1 + 1e-4)) and np.any((w_arr != 0) & (want == 0)):
        return THRESHOLD_ON_GRADIENT
    return None


# ---------------------------------------------------------------- visible checks (notebook)
def check_l1_prox(l1_prox_) -> None:
    """Run ``l1_prox_`` after a step of ``torch.optim.SGD`` on a small net with two parameter groups, and
    compare with torch's ``softshrink``; raise AssertionError naming the mistake."""
    import torch

    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    opt = torch.optim.SGD([{"params": [net[0].weight], "l1": 0.5},
                           {"params": [net[0].bias, net[2].weight, net[2].bias]}], lr=0.2)
    x, target = torch.randn(8, 6), 10.0 * torch.randn(8, 2)
    opt.zero_grad()
    torch.nn.functional.mse_loss(net(x), target).backward()
    opt.step()
    params = [net[0].weight, net[0].bias, net[2].weight, net[2].bias]
    before = [p.detach().clone() for p in params]
    grads = [p.grad.detach().clone() for p in params]
    l1_prox_(opt)
    after = [p.detach() for p in params]
    lrs, l1s = [0.2] * 4, [0.5, None, None, None]
    found = diagnose_prox([t.double().numpy() for t in before], [t.double().numpy() for t in after],
                          [t.double().numpy() for t in grads], lrs, l1s)
    if found:
        raise AssertionError(f"l1_prox_: {found}")
    for p, name in zip(params, ("net[0].weight", "net[0].bias", "net[2].weight", "net[2].bias")):
        if not (p.requires_grad and p.is_leaf and isinstance(p, torch.nn.Parameter)):
            raise AssertionError(f"l1_prox_: {name} is no longer a trainable leaf parameter: change it in place "
                                 "under torch.no_grad()")
    want = torch.nn.functional.softshrink(before[0], 0.2 * 0.5)
    if not torch.allclose(after[0], want, rtol=1e-5, atol=1e-7):
        raise AssertionError("l1_prox_: net[0].weight differs from torch's softshrink(p, lr * l1) "
                             f"(largest error {float((after[0] - want).abs().max()):.3g})")
    if not torch.equal(after[0] == 0, want == 0):
        raise AssertionError("l1_prox_: the entries with |p| <= lr * l1 must become exactly 0.0")
    for k in (1, 2, 3):
        if not torch.equal(after[k], before[k]):
            raise AssertionError(f"l1_prox_: {PROX_ALL_GROUPS}")


# ---------------------------------------------------------------- sandbox drivers (hidden tests)
def path_probe(lasso_path, X, y, alphas):
    """Run the student's ``lasso_path`` with their ``lasso_fit`` replaced by scikit-learn's Lasso (so a
    mistake in the solver is not charged again here), recording each call's alpha and ``w_init``."""
    namespace = getattr(lasso_path, "__globals__", {})
    original = namespace.get("lasso_fit")
    calls = []

    def lasso_fit(X_, y_, alpha, w_init=None, *args, **kwargs):
        w, b = sklearn_lasso(X_, y_, float(alpha), None if w_init is None else np.asarray(w_init, float))
        calls.append({"alpha": float(alpha),
                      "w_init": None if w_init is None else np.asarray(w_init, dtype=float).copy(),
                      "w": w.copy()})
        return w, b

    namespace["lasso_fit"] = lasso_fit
    copies = [np.array(a, copy=True) for a in (X, y, alphas)]
    try:
        out = lasso_path(X, y, alphas)
        kept = all(np.array_equal(a, c) for a, c in zip((X, y, alphas), copies))
    finally:
        if original is None:
            namespace.pop("lasso_fit", None)
        else:
            namespace["lasso_fit"] = original
    return {"out": out, "calls": calls, "kept": float(kept)}


def prox_probe(l1_prox_, spec):
    """Build parameters and an SGD optimizer from ``spec``, take ``spec['steps']`` steps (each: random
    gradients, ``optimizer.step()``, the student's ``l1_prox_(optimizer)``) and report every parameter
    before and after each call, with the gradients (zero for the parameters of ``spec['no_grad']``, whose
    ``grad`` is None) and each parameter's group lr and l1."""
    import torch

    gen = torch.Generator().manual_seed(int(spec["seed"]))
    dtype = torch.float64 if spec.get("dtype") == "float64" else torch.float32
    groups, params = [], []
    for g in spec["groups"]:
        ps = [torch.nn.Parameter(float(g.get("scale", 0.1)) * torch.randn(*shape, generator=gen, dtype=dtype))
              for shape in g["shapes"]]
        params += ps
        group = {"params": ps}
        group.update({k: g[k] for k in ("lr", "l1") if k in g})
        groups.append(group)
    opt = torch.optim.SGD(groups, lr=float(spec["lr"]), momentum=float(spec.get("momentum", 0.0)))
    owner = [gi for gi, g in enumerate(opt.param_groups) for _ in g["params"]]
    report = {"before": [], "after": [], "grads": [], "lrs": [], "l1s": [], "leaf": True, "dtype_kept": True}
    for step in range(int(spec.get("steps", 1))):
        if step == 1 and "new_lr" in spec:
            for g in opt.param_groups:
                g["lr"] = float(spec["new_lr"])
        for k, p in enumerate(params):
            p.grad = torch.randn(p.shape, generator=gen, dtype=dtype)
            if k in spec.get("no_grad", ()):   # not used by the loss at this step: SGD skips it
                p.grad = None
        opt.step()
        report["before"].append([p.detach().clone() for p in params])
        report["grads"].append([torch.zeros_like(p) if p.grad is None else p.grad.detach().clone() for p in params])
        report["lrs"].append([float(opt.param_groups[gi]["lr"]) for gi in owner])
        report["l1s"].append([opt.param_groups[gi].get("l1") for gi in owner])
        l1_prox_(opt)
        report["after"].append([p.detach().clone() for p in params])
        report["leaf"] = report["leaf"] and all(p.is_leaf and p.requires_grad for p in params)
        report["dtype_kept"] = report["dtype_kept"] and all(p.dtype == dtype for p in params)
    return report


def _exact_soft_threshold(x, t):
    """torch's softshrink on float64 (the oracle of Part 1), with the student's calling convention."""
    import torch

    out = torch.nn.functional.softshrink(torch.as_tensor(np.asarray(x, dtype=float)), float(t)).numpy()
    return out if out.ndim else float(out)


def with_exact_soft_threshold(function, *args):
    """``function(*args)`` with the student's ``soft_threshold`` replaced by torch's softshrink while it runs,
    so that a mistake in Part 1 is not charged again in the parts that use it."""
    namespace = getattr(function, "__globals__", {})
    original = namespace.get("soft_threshold")
    namespace["soft_threshold"] = _exact_soft_threshold
    try:
        return function(*args)
    finally:
        if original is None:
            namespace.pop("soft_threshold", None)
        else:
            namespace["soft_threshold"] = original


def _kept(args, copies) -> float:
    return float(all(c is None or (np.shape(a) == c.shape and np.array_equal(a, c)) for a, c in zip(args, copies)))


def _copies(args):
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else None for a in args]


def with_exact_soft_threshold_kept(function, *args):
    """:func:`with_exact_soft_threshold`, reporting also whether the call left its array arguments (``X``, ``y``,
    ``w_init``) as they were: ``{"out": ..., "kept": 1.0 or 0.0}``."""
    copies = _copies(args)
    out = with_exact_soft_threshold(function, *args)
    return {"out": out, "kept": _kept(args, copies)}


def call_on_integers(function, x, t):
    """``function(x, t)`` with ``x`` as an integer array (the values are whole numbers), reporting also whether
    the call left ``x`` unchanged."""
    x = np.asarray(x).astype(np.int64)
    copy = x.copy()
    out = function(x, t)
    return {"out": out, "kept": float(np.array_equal(x, copy))}


def call_keeping_inputs(function, *args):
    """``function(*args)``, reporting also whether it left its array arguments unchanged."""
    copies = _copies(args)
    out = function(*args)
    return {"out": out, "kept": _kept(args, copies)}
