"""Hidden tests for Chapter 2: L2 regularization and weight decay.

Each part states the contract the exercise's text gives and tries every item of it in a scenario: calls with
hidden inputs sent into the sandbox, judged here against ``solutions.regularization`` and scikit-learn. When a
value matches a known mistake, the message names it. Messages never contain the hidden inputs or the expected
values.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge

from coursekit.checks.regularization import BIASES_DECAYED, NORM_DECAYED, build_net, is_norm_layer
from coursekit.checks.source import inverse_message, matrix_inverse_uses
from coursekit.data import make_polynomial_regression, make_regression, train_val_test_split
from solutions import regularization as ref

from ..harness import _build_net, array_key
from ..verdicts import Credit, Foreign, Part, Scenario
from .common import Failure, Mistake, call, close, expect, pair, probe, returned

CHECKS = "coursekit.checks.regularization:"


def _kept_call(name, *args):
    """``name(*args)`` in the sandbox, reporting also whether the call left its array arguments unchanged."""
    return probe(CHECKS + "call_keeping_inputs", name, *args)


def _kept(what, outs):
    """The answers of :func:`_kept_call` calls; a Mistake when one changed its inputs in place."""
    for out in outs:
        if not isinstance(out, dict) or "kept" not in out:
            raise Failure(f"{what} could not be run")
        if not out["kept"]:
            raise Mistake(f"{what} changed its input arrays in place (e.g. X -= X.mean(axis=0), w **= 2): the "
                          "caller's data is no longer what it passed in; work on new arrays (X - X.mean(axis=0))",
                          key="inputs_changed", plain="the input arrays were changed in place")
    return [out["out"] for out in outs]

# ---------------------------------------------------------------- part 1
PENALTY_CONTRACT = {
    "value": "returns lam/2 times the sum of the squared entries of w, as one number",
    "any_shape": "w may have any shape: the sum runs over every entry",
    "lam_zero": "lam = 0 gives 0",
    "scale": "the result scales linearly with lam, also for a large lam",
    "inputs": "w is left unchanged",
}
_rng = np.random.default_rng(202)
PENALTY_SCENARIOS = [  # (label, covers, [(w, lam), ...])
    ("a weight vector", ("value",), [(_rng.standard_normal(7), 1e-3), (np.array([1.0, -2.0, 3.0]), 0.5)]),
    ("a weight matrix", ("any_shape",), [(_rng.standard_normal((3, 4)), 0.7)]),
    ("a 3-D weight array", ("any_shape",), [(_rng.standard_normal((2, 3, 2)), 0.2)]),
    ("lam = 0", ("lam_zero",), [(_rng.standard_normal(5), 0.0)]),
    ("a large lam", ("scale",), [(_rng.standard_normal(6), 50.0)]),
]


def _check_penalty(cases):
    def check(values):
        for (w, lam), got in zip(cases, returned(values, "l2_penalty")):
            what = f"l2_penalty on a weight array of shape {w.shape}"
            if lam > 0:
                if close(got, lam * np.sum(w ** 2)):
                    raise Mistake(f"{what}: you computed lam * ||w||^2; the course's penalty is lam/2 * ||w||^2 "
                                  "(so that its gradient is exactly lam * w, as torch's weight_decay)",
                                  key="penalty_not_half", plain="twice the penalty")
                if close(got, 0.5 * lam * np.sqrt(np.sum(w ** 2))):
                    raise Mistake(f"{what}: you used the norm ||w||, not its square ||w||^2", key="penalty_norm",
                                  plain="wrong value")
                if close(got, 0.5 * lam * np.sum(np.abs(w))):
                    raise Mistake(f"{what}: that is an L1 penalty (sum of |w|); L2 sums the squares",
                                  key="penalty_l1", plain="wrong value")
                if w.ndim > 1 and (close(got, 0.5 * lam * np.sum(w ** 2, axis=0))
                                   or close(got, 0.5 * lam * np.sum(w ** 2, axis=-1))):
                    raise Mistake(f"{what}: the penalty must sum over every entry of w and return one number",
                                  key="penalty_per_column", plain="not one number")
            expect(got, ref.l2_penalty(w, lam), what)
    return check


# ---------------------------------------------------------------- part 2
GRAD_CONTRACT = {
    "data_term": "the data term is 1/(2n) times the sum of squared residuals, with the intercept b in the residual",
    "penalty_loss": "the loss adds lam/2 * ||w||^2",
    "penalty_grad": "grad_w adds lam * w, the gradient of that penalty",
    "intercept": "b is never penalized: neither the loss nor grad_b has a penalty term for b",
    "lam_zero": "lam = 0 gives the plain least-squares loss and gradients",
    "shapes": "grad_w has the shape of w (also for a single feature); loss and grad_b are numbers",
}
_rng = np.random.default_rng(2022)
_X, _y = _rng.standard_normal((23, 4)), _rng.standard_normal(23)
_rv = np.random.default_rng(0)  # the visible test's inputs, so that passing here implies passing there
_Xv, _yv = _rv.standard_normal((10, 3)), _rv.standard_normal(10)
_X1, _y1 = _rng.standard_normal((9, 1)), _rng.standard_normal(9)
GRAD_SCENARIOS = [  # (label, covers, [(w, b, X, y, lam), ...])
    ("lam = 0", ("lam_zero", "data_term"), [(_rng.standard_normal(4), float(_rng.standard_normal()), _X, _y, 0.0)]),
    ("lam > 0", ("penalty_loss", "penalty_grad"), [(_rng.standard_normal(4), 0.0, _X, _y, 0.3)]),
    ("lam > 0 and an intercept b != 0", ("intercept",), [(_rng.standard_normal(4), 1.7, _X, _y, 4.0)]),
    ("a single feature", ("shapes",), [(_rng.standard_normal(1), -0.4, _X1, _y1, 0.2)]),
    ("the visible test's inputs", ("data_term", "penalty_loss", "penalty_grad"),
     [(_rv.standard_normal(3), 0.5, _Xv, _yv, 0.1)]),
]


def _check_grad(cases):
    def check(values):
        what = "ridge_loss_and_grad"
        for (w, b, X, y, lam), out in zip(cases, returned(values, what)):
            loss, grad_w, grad_b = pair(out, f"{what} should return (loss, grad_w, grad_b):", 3)
            want_loss, want_gw, want_gb = ref.ridge_loss_and_grad(w, b, X, y, lam)
            n = len(y)
            r = X @ w + b - y
            data_loss, data_gw = r @ r / (2 * n), X.T @ r / n
            if lam > 0:
                if b != 0 and close(grad_b, want_gb + lam * b):
                    raise Mistake(f"{what}: grad_b includes lam * b: the intercept must not be penalized",
                                  key="intercept_penalized", plain="grad_b differs")
                if close(grad_w, data_gw) and not close(grad_w, want_gw):
                    raise Mistake(f"{what}: grad_w is missing the penalty's gradient lam * w "
                                  "(the penalty is in the loss but not in the gradient?)", key="grad_no_penalty",
                                  plain="grad_w differs")
                if close(loss, data_loss) and not close(loss, want_loss):
                    raise Mistake(f"{what}: the loss is missing the penalty lam/2 * ||w||^2 "
                                  "(the penalty is in the gradient but not in the loss?)", key="loss_no_penalty",
                                  plain="the loss differs")
                if close(loss, data_loss + lam * w @ w):
                    raise Mistake(f"{what}: the loss uses lam * ||w||^2; the course's penalty is lam/2 * ||w||^2, "
                                  "whose gradient is lam * w (what torch's weight_decay=lam adds)",
                                  key="penalty_not_half", plain="the loss differs")
                if close(grad_w, data_gw + 2 * lam * w):
                    raise Mistake(f"{what}: grad_w uses 2 * lam * w, the gradient of lam * ||w||^2; "
                                  "the gradient of lam/2 * ||w||^2 is lam * w", key="penalty_not_half",
                                  plain="grad_w differs")
                if b != 0 and close(loss, data_loss + 0.5 * lam * (w @ w + b * b)):
                    raise Mistake(f"{what}: the loss penalizes the intercept b; only w is penalized",
                                  key="intercept_penalized", plain="the loss differs")
            if close(loss, 2 * data_loss + 0.5 * lam * w @ w) or close(loss, r @ r / 2 + 0.5 * lam * w @ w):
                raise Mistake(f"{what}: the data term must be 1/(2n) * sum of squared residuals",
                              key="data_term", plain="the loss differs")
            if b != 0:
                r0 = X @ w - y
                if close(loss, r0 @ r0 / (2 * n) + 0.5 * lam * w @ w):
                    raise Mistake(f"{what}: the residual must include the intercept: X @ w + b - y",
                                  key="residual_without_b", plain="the loss differs")
            expect(loss, want_loss, f"{what}: the loss")
            expect(grad_w, want_gw, f"{what}: grad_w")
            expect(grad_b, want_gb, f"{what}: grad_b")
    return check


# ---------------------------------------------------------------- part 3
RIDGE_CONTRACT = {
    "minimizer": "(w, b) is the exact minimizer of J, the model scikit-learn's Ridge(alpha=n*lam) fits",
    "intercept": "b is not penalized: shifting every target by c moves b by exactly c and leaves w alone",
    "small_lam": "a tiny lam (almost least squares) on correlated features",
    "large_lam": "a large lam shrinks w towards 0 but b still fits the mean",
    "wide": "more features than samples (the system is solvable because lam > 0)",
    "one_feature": "a single feature: w has shape (1,)",
    "no_inverse": "solves the linear system; never forms an inverse matrix (read from the code)",
    "inputs": "X and y are left unchanged (centring makes new arrays)",
    "large_means": "features with large means (about 1e4): w and b accurate to rounding, which centring first gives",
}
_Xr, _yr, _ = make_regression(n_samples=40, n_features=6, correlation=0.8, intercept=5.0, seed=7)
_Xs, _ys, _ = make_regression(n_samples=30, n_features=4, noise=0.1, seed=1)  # the visible test's data
_Xw, _yw, _ = make_regression(n_samples=8, n_features=12, intercept=-2.0, seed=5)
_X1r, _y1r, _ = make_regression(n_samples=15, n_features=1, intercept=3.0, seed=9)
RIDGE_SCENARIOS = [  # (label, covers, [(X, y, lam), ...])
    ("a moderate lam on correlated features", ("minimizer",), [(_Xr, _yr, 0.1)]),
    ("a tiny lam", ("small_lam",), [(_Xr, _yr, 1e-4)]),
    ("a large lam", ("large_lam",), [(_Xr, _yr, 3.0)]),
    ("more features than samples", ("wide",), [(_Xw, _yw, 0.5)]),
    ("a single feature", ("one_feature",), [(_X1r, _y1r, 0.2)]),
    ("features with large means (about 10^4)", ("large_means",), [(_Xr + 1e4 * np.arange(1, 7), _yr, 0.1)]),
    ("the visible test's data, and every target shifted by 100", ("intercept", "no_inverse"),
     [(_Xs, _ys, 0.01), (_Xs, _ys, 1.0), (_Xs, _ys + 100.0, 1.0)]),
]


def static_ridge_fit(source):
    """Calls that form an inverse matrix (np.linalg.inv, pinv, .I, ...), not identifiers that contain 'inv'."""
    found = matrix_inverse_uses(source)
    if found:
        # right values computed through an inverse lose only this item's credit (issue 23: partial credit)
        raise Mistake(inverse_message("ridge_fit", found), key="inverse_matrix", plain="an inverse matrix is formed",
                      items=("no_inverse",))


def _check_ridge(cases):
    def check(values):
        what = "ridge_fit"
        for (X, y, lam), out in zip(cases, returned(values, what)):
            w, b = pair(out, f"{what} should return (w, b):", 2)
            n, d = X.shape
            want_w, want_b = ref.ridge_fit(X, y, lam)
            if close(w, Ridge(alpha=lam).fit(X, y).coef_, 1e-6) and not close(w, want_w, 1e-6):
                raise Mistake(f"{what}: you used lam where the objective needs n * lam "
                              "(the data term is an average over n samples)", key="lam_not_n_lam", plain="w differs")
            Xa = np.hstack([X, np.ones((n, 1))])
            wa = np.linalg.solve(Xa.T @ Xa + n * lam * np.eye(d + 1), Xa.T @ y)
            if close(w, wa[:-1], 1e-6) and not close(w, want_w, 1e-6):
                raise Mistake(f"{what}: the intercept is penalized (a column of ones inside the penalty); "
                              "centre X and y instead, and recover b = mean(y) - mean(X) @ w",
                              key="intercept_penalized", plain="w differs")
            if close(w, np.linalg.solve(X.T @ X + n * lam * np.eye(d), X.T @ y), 1e-6) \
                    and not close(w, want_w, 1e-6):
                raise Mistake(f"{what}: you fitted without an intercept: centre X and y first", key="no_intercept",
                              plain="w differs")
            large = np.abs(X.mean(axis=0)).max() > 1e3 * X.std(axis=0).max()
            if large and close(w, want_w, 1e-3) and close(b, want_b, 1e-3) \
                    and not (close(w, want_w, 1e-9) and close(b, want_b, 1e-9)):
                raise Mistake(f"{what}: w and b lose their accuracy on features with large means: the normal "
                              "equations of uncentred data (or X'X - n x̄x̄') cancel catastrophically; centre X and y "
                              "first, as the text says, then solve", key="uncentred_cancellation",
                              plain="w and b are off by more than rounding")
            tol = 1e-9 if large else 1e-6
            expect(w, want_w, f"{what}: w", rtol=tol)
            expect(b, want_b, f"{what}: b", rtol=tol)
    return check


# ---------------------------------------------------------------- part 4
GROUP_CONTRACT = {
    "weights": "Linear and Conv weights (1-D, 2-D and 3-D kernels, layers with or without a bias) are decayed",
    "biases": "biases are never decayed",
    "batchnorm": "BatchNorm1d/2d/3d and SyncBatchNorm scales and shifts are not decayed",
    "instancenorm": "InstanceNorm1d/2d/3d (affine) scales and shifts are not decayed",
    "layernorm": "LayerNorm scales and shifts are not decayed",
    "groupnorm": "GroupNorm scales and shifts are not decayed",
    "rmsnorm": "RMSNorm scales are not decayed",
    "norm_2d": "normalization weights with more than one dimension (LayerNorm/RMSNorm over two axes) are not decayed",
    "shared": "a parameter shared by two layers appears once (torch rejects a parameter in two groups)",
    "nested": "layers nested inside containers (Sequential in Sequential, ModuleList, ModuleDict, custom blocks)",
    "frozen": "frozen parameters (requires_grad=False) may be left out or put in either group",
    "wd_value": "the decayed group uses the weight_decay given, the other 0.0",
    "complete": "every trainable parameter is in exactly one group, and torch.optim.SGD accepts the groups",
}
PROBED_NETS = ("nested", "frozen")    # built by coursekit.checks.regularization, the others by autograder.harness
GROUP_SCENARIOS = [  # (label, covers, [(net name, weight_decay), ...])
    ("an MLP with BatchNorm1d and LayerNorm", ("weights", "biases", "batchnorm", "layernorm", "complete"),
     [("mlp_norms", 5e-4), ("mlp", 0.01)]),
    ("a conv net with GroupNorm, and a large weight_decay", ("groupnorm", "wd_value"), [("conv_groupnorm", 0.3)]),
    ("a conv net with BatchNorm2d and InstanceNorm2d", ("batchnorm", "instancenorm", "weights"),
     [("conv2d_norms", 1e-3)]),
    ("3-D convolutions with BatchNorm3d and InstanceNorm3d", ("batchnorm", "instancenorm", "weights"),
     [("conv3d_norms", 1e-3)]),
    ("InstanceNorm1d, LocalResponseNorm and RMSNorm", ("instancenorm", "rmsnorm"), [("conv1d_rms_lrn", 1e-2)]),
    ("LayerNorm and RMSNorm over two axes (2-D norm weights)", ("norm_2d", "layernorm", "rmsnorm"),
     [("norms_2d_weight", 1e-2)]),
    ("a layer used twice, a tied weight and SyncBatchNorm", ("shared", "batchnorm"), [("shared", 1e-2)]),
    ("layers nested in Sequential, ModuleList, ModuleDict and custom blocks", ("nested",), [("nested", 1e-2)]),
    ("a frozen first layer", ("frozen",), [("frozen", 1e-2)]),
    ("the visible test's network", ("weights", "biases", "layernorm", "batchnorm"), [("visible_norms", 0.01)]),
]


def _groups_call(net, wd):
    if net in PROBED_NETS:
        return probe(CHECKS + "probe_param_groups", "decay_param_groups", net, wd)
    return {"kind": "param_groups", "name": "decay_param_groups", "net": net, "weight_decay": wd}


def _norm_owned(net) -> set[str]:
    """Names (as in named_parameters) of the parameters held by normalization layers."""
    names = {id(p): n for n, p in net.named_parameters()}
    return {names[id(p)] for m in net.modules() if is_norm_layer(m) for p in m.parameters(recurse=False)}


def _check_groups(cases):
    def check(values):
        what = "decay_param_groups"
        for (net_name, wd), out in zip(cases, returned(values, what)):
            if isinstance(out, Foreign) or not isinstance(out, dict) or "groups" not in out:
                raise Failure(f"{what}: return a list of dicts, each with keys 'params' and 'weight_decay'")
            net = build_net(net_name) if net_name in PROBED_NETS else _build_net(net_name)
            want_decay, want_keep = ref.decay_param_groups(net, wd)
            names = {id(p): n for n, p in net.named_parameters()}
            frozen = {n for n, p in net.named_parameters() if not p.requires_grad}
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
                    raise Mistake(f"{what}: the decayed group must use the weight_decay you were given",
                                  key="wrong_weight_decay", plain="a group's weight_decay differs")
                seen += g["params"]
                (decayed if group_wd > 0 else kept).update(g["params"])
            if set(seen) - frozen != want_all:
                raise Failure(f"{what}: some parameters of the network are missing from your groups"
                              if want_all - set(seen) else f"{what}: your groups hold tensors that are not "
                              "parameters of the network")
            decayed -= frozen       # a frozen parameter may sit in either group: the optimizer never steps it
            # as the visible check: plain biases first, then anything of a normalization layer
            if (decayed - want_decayed) & (biases - _norm_owned(net)):
                raise Mistake(f"{what}: " + BIASES_DECAYED.format(which=""), key="biases_decayed",
                              plain="biases are decayed")
            if (decayed - want_decayed) & _norm_owned(net):
                raise Mistake(f"{what}: " + NORM_DECAYED.format(which=""), key="norms_decayed",
                              plain="normalization parameters are decayed")
            if len(seen) != len(set(seen)):
                raise Mistake(f"{what}: a parameter appears twice (a weight shared by two layers is listed once per "
                              "layer?); torch rejects that: collect parameters so each appears once",
                              key="param_twice", plain="a parameter is listed twice")
            if want_decayed - decayed:
                raise Failure(f"{what}: some ordinary weights (Linear/Conv weight matrices and kernels) are not "
                              "decayed")
            if out["torch_error"]:
                raise Failure(f"{what}: torch.optim.SGD rejects your groups: {out['torch_error']}")
    return check


# ---------------------------------------------------------------- part 5
LAMS = np.logspace(-8, 1, 10)
SELECT_CONTRACT = {
    "val_errors": "val_errors[i] is the validation MSE of ridge_fit(X_train, y_train, lams[i])",
    "best_value": "best_lam is the lambda itself (a value of lams, not its index) with the smallest validation error",
    "order": "lams may come in any order: errors follow the order of lams",
    "sequence": "lams may be a Python list as well as an array",
    "single": "a grid of one lambda works",
    "repeated": "a lambda given twice keeps both entries",
    "ties": "on a tie, the first of the tied lambdas in the order of lams (as np.argmin)",
    "array": "val_errors is a numpy array, as the text says",
    "validation": "the errors are measured on the validation data, never on the training data",
}


def _split(seed):
    if seed == "constant":   # every feature constant: each lambda fits w = 0, b = mean(y), so all of them tie
        rng = np.random.default_rng(7)
        Xtr = np.tile(rng.standard_normal(5), (20, 1))
        return Xtr, rng.standard_normal(20), rng.standard_normal((8, 5)), rng.standard_normal(8)
    _, y, Phi = make_polynomial_regression(n_samples=60, degree=12, noise=0.3, seed=seed)
    (Xtr, ytr), (Xva, yva), _ = train_val_test_split(Phi, y, seed=seed)
    return Xtr, ytr, Xva, yva


_SPLITS = {seed: _split(seed) for seed in (3, 11, 0, "constant")}
_UNSORTED = np.array(LAMS)[[6, 2, 9, 0, 4, 8, 1, 7, 3, 5]]
SELECT_SCENARIOS = [  # (label, covers, [(split seed, lams), ...])
    ("two new splits", ("val_errors", "best_value", "validation"), [(3, LAMS), (11, LAMS)]),
    ("an unsorted grid", ("order",), [(3, _UNSORTED)]),
    ("the grid as a Python list", ("sequence",), [(11, [float(v) for v in LAMS[::-1]])]),
    ("a grid of one lambda", ("single",), [(3, np.array([1e-3]))]),
    ("a lambda given twice", ("repeated",), [(11, np.array([1e-2, 1e-5, 1e-2, 1.0]))]),
    ("a tie: constant features, every lambda fits the same model", ("ties",),
     [("constant", np.array([1e-2, 1e-5, 1.0, 1e-3]))]),
    ("the visible test's split", ("val_errors", "best_value"), [(0, LAMS)]),
]


def _select_call(seed, lams):
    """select_lambda on one split, with ridge_fit answering from the reference fits for these inputs,
    so that a mistake in part 3 is not charged again in part 5."""
    Xtr, ytr, Xva, yva = _SPLITS[seed]
    table = [{"key": array_key(Xtr, ytr) + repr(float(lam)),
              "value": [{"__array__": w.tolist(), "shape": list(w.shape)}, b]}
             for lam in lams for w, b in [ref.ridge_fit(Xtr, ytr, lam)]]
    out = call("select_lambda", Xtr, ytr, Xva, yva, lams)
    out["substitutes"] = [{"name": "ridge_fit", "table": table}]
    return out


def _check_select(cases):
    def check(values):
        what = "select_lambda"
        for (seed, lams), out in zip(cases, returned(values, what)):
            Xtr, ytr, Xva, yva = _SPLITS[seed]
            lams_arr = np.asarray(lams, dtype=float)
            best, errors = _seq(out, f"{what} should return (best_lam, val_errors):", 2)
            want_best, want_errors = ref.select_lambda(Xtr, ytr, Xva, yva, lams_arr)
            fits = [ref.ridge_fit(Xtr, ytr, lam) for lam in lams_arr]
            train_errors = np.array([np.mean((Xtr @ w + b - ytr) ** 2) for w, b in fits])
            if close(errors, train_errors, 1e-6) and not close(errors, want_errors, 1e-6):
                raise Mistake(f"{what}: the errors are measured on the training data; use the validation data",
                              key="select_on_train", plain="val_errors differ")
            tied = lams_arr[want_errors == np.min(want_errors)]
            tie = len(set(tied.tolist())) > 1 and np.any(np.isclose(best, tied)) and not close(best, want_best)
            if close(best, np.argmin(want_errors)) and not close(best, want_best) and not tie:
                raise Mistake(f"{what}: return the value of the best lambda, not its index", key="lam_index",
                              plain="best_lam differs")
            if close(errors, want_errors[np.argsort(lams_arr)], 1e-6) and not close(errors, want_errors, 1e-6):
                raise Mistake(f"{what}: the errors are sorted by lambda; return them in the order of lams",
                              key="sorted_grid",
                              plain="val_errors come in the sorted order of lams, not in the order given")
            if tie and close(errors, want_errors, 1e-6):
                raise Mistake(f"{what}: on a tie, return the FIRST of the tied lambdas in the order of lams (what "
                              "np.argmin does); yours returns another of them", key="best_not_first_minimum",
                              plain="best_lam differs on a tie")
            if close(errors, want_errors, 1e-6) and not close(best, want_best) \
                    and isinstance(best, (int, float)) and np.any(np.isclose(best, lams_arr)):
                raise Mistake(f"{what}: your validation errors are right, but best_lam is not the lambda with the "
                              "smallest of them: take the minimum over the whole grid", key="best_not_first_minimum",
                              plain="best_lam differs")
            expect(errors, want_errors, f"{what}: the validation errors", rtol=1e-6)
            expect(best, want_best, f"{what}: the chosen lambda", rtol=1e-9)
    return check


def _check_select_array(values):
    (out,) = returned(values, "select_lambda")
    errors = _seq(out, "select_lambda should return (best_lam, val_errors):", 2)[1]
    if not isinstance(errors, np.ndarray) or errors.ndim != 1:
        raise Failure("select_lambda: val_errors must be a numpy array (np.array(...)), as the exercise says; "
                      f"yours is a {type(errors).__name__}")


def _seq(value, what, n):
    """A tuple, list or 1-D array of ``n`` returned values (they unpack alike), or a Failure."""
    if isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim >= 1):
        if len(value) == n:
            return tuple(value)
    raise Failure(f"{what} return a tuple of {n} values")


def _scenarios(table, make_call, check):
    return [Scenario(label, [make_call(*case) for case in cases], check(cases), covers)
            for label, covers, cases in table]


def _kept_scenario(label, name, cases, covers):
    def check(values):
        _kept(name, returned(values, name))
    return Scenario(label, [_kept_call(name, *args) for args in cases], check, covers)


PARTS = {
    "test_l2_penalty": Part("l2_penalty", contract=PENALTY_CONTRACT, scenarios=_scenarios(
        PENALTY_SCENARIOS, lambda w, lam: call("l2_penalty", w, lam), _check_penalty) + [
        _kept_scenario("w left unchanged", "l2_penalty", [(_rng.standard_normal((3, 2)), 0.4)], ("inputs",))],
        credit=[Credit("lam/2 times the sum of squares", 0.5, ("value", "lam_zero", "scale")),
                Credit("weights of any shape", 0.25, ("any_shape",)),
                Credit("w left unchanged", 0.25, ("inputs",))]),
    "test_ridge_loss_and_grad": Part("ridge_loss_and_grad", contract=GRAD_CONTRACT, scenarios=_scenarios(
        GRAD_SCENARIOS, lambda *args: call("ridge_loss_and_grad", *args), _check_grad),
        credit=[Credit("the loss and its gradient", 2.0, ("data_term", "penalty_loss", "penalty_grad", "lam_zero")),
                Credit("an unpenalized intercept", 0.5, ("intercept",)),
                Credit("a single feature", 0.5, ("shapes",))]),
    "test_ridge_fit": Part("ridge_fit", contract=RIDGE_CONTRACT, static=static_ridge_fit, scenarios=_scenarios(
        RIDGE_SCENARIOS, lambda *args: call("ridge_fit", *args), _check_ridge) + [
        _kept_scenario("X and y left unchanged", "ridge_fit", [(_Xr, _yr, 0.1)], ("inputs",))],
        credit=[Credit("the ridge minimizer", 2.0, ("minimizer", "intercept", "small_lam", "large_lam")),
                Credit("solved without an inverse matrix", 0.25, ("no_inverse",)),
                Credit("more features than samples, a single feature, features with large means", 0.5,
                       ("wide", "one_feature", "large_means")),
                Credit("X and y left unchanged", 0.25, ("inputs",))]),
    "test_decay_param_groups": Part("decay_param_groups", contract=GROUP_CONTRACT, scenarios=_scenarios(
        GROUP_SCENARIOS, _groups_call, _check_groups),
        credit=[Credit("weights decayed, biases and BatchNorm/LayerNorm not", 1.25,
                       ("weights", "biases", "batchnorm", "layernorm", "wd_value", "complete", "frozen")),
                Credit("every normalization layer type", 0.25, ("instancenorm", "groupnorm", "rmsnorm", "norm_2d")),
                Credit("shared parameters", 0.25, ("shared",)),
                Credit("nested modules", 0.25, ("nested",))]),
    "test_select_lambda": Part("select_lambda", contract=SELECT_CONTRACT, scenarios=_scenarios(
        SELECT_SCENARIOS, _select_call, _check_select) + [
        Scenario("the val_errors' type", [_select_call(3, [float(v) for v in LAMS[:4]])], _check_select_array,
                 ("array",))],
        credit=[Credit("the lambda with the smallest validation error", 1.25,
                       ("val_errors", "best_value", "validation", "single")),
                Credit("grids in any order, as lists, with repeats", 0.25, ("order", "sequence", "repeated")),
                Credit("ties", 0.25, ("ties",)),
                Credit("a numpy array", 0.25, ("array",))]),
}
