"""Hidden tests for Chapter 2: L2 regularization and weight decay.

Each part states the contract the exercise's text gives and tries every item of it in a scenario: calls with
hidden inputs sent into the sandbox, judged here against ``solutions.regularization`` and scikit-learn. When a
value matches a known mistake, the message names it. Messages never contain the hidden inputs or the expected
values.
"""

from __future__ import annotations

from functools import lru_cache

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


def _failing(models, agrees) -> frozenset:
    """The keys of ``models`` (key -> the forms of that mistake) whose every form fails: ``agrees(form)`` is False,
    the form differing from the reference beyond the check's tolerances. A passing answer rules them out."""
    return frozenset(key for key, forms in models.items() if not any(agrees(f) for f in forms))


def _cached(compute):
    """``compute()`` once per grading process (the references and the mistakes' models of a scenario)."""
    return lru_cache(maxsize=None)(compute)


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


PENALTY_MISTAKES = (  # (key, message, plain), in the order they are tried
    ("penalty_not_half", "you computed lam * ||w||^2; the course's penalty is lam/2 * ||w||^2 (so that its gradient is "
                         "exactly lam * w, as torch's weight_decay)", "twice the penalty"),
    ("penalty_norm", "you used the norm ||w||, not its square ||w||^2", "wrong value"),
    ("penalty_l1", "that is an L1 penalty (sum of |w|); L2 sums the squares", "wrong value"),
    ("penalty_per_column", "the penalty must sum over every entry of w and return one number", "not one number"),
)


def _penalty_models(w, lam):
    """The reference, and key -> the values the forms of that mistake return for (w, lam)."""
    return ref.l2_penalty(w, lam), {
        "penalty_not_half": [lam * np.sum(w ** 2)],
        "penalty_norm": [0.5 * lam * np.sqrt(np.sum(w ** 2))],
        "penalty_l1": [0.5 * lam * np.sum(np.abs(w))],
        # one number per column or per row (for a 1-D w both are the right number)
        "penalty_per_column": [0.5 * lam * np.sum(w ** 2, axis=0), 0.5 * lam * np.sum(w ** 2, axis=-1)],
    }


def _check_penalty(cases):
    @_cached
    def models():   # per case (reference, models), and the keys whose models fail some case
        per_case = [_penalty_models(w, lam) for w, lam in cases]
        return per_case, frozenset().union(*(_failing(m, lambda f, want=want: close(f, want)) for want, m in per_case))

    def check(values):
        per_case, ruled_out = models()
        for (w, lam), (want, wrong), got in zip(cases, per_case, returned(values, "l2_penalty")):
            what = f"l2_penalty on a weight array of shape {w.shape}"
            for key, message, plain in PENALTY_MISTAKES:   # a form that coincides with the reference names nothing
                if any(close(got, f) and not close(f, want) for f in wrong[key]):
                    raise Mistake(f"{what}: {message}", key=key, plain=plain)
            expect(got, want, what)
        return ruled_out   # passed: the mistakes whose models fail here are not the answer's
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


GRAD_OUTPUTS = ("the loss", "grad_w", "grad_b")
DATA_TERM = "the data term must be 1/(2n) * sum of squared residuals"
GRAD_MISTAKES = (  # (key, form of _grad_models, message, plain), in the order they are tried
    ("intercept_penalized", 0, "grad_b includes lam * b: the intercept must not be penalized", "grad_b differs"),
    ("grad_no_penalty", 0, "grad_w is missing the penalty's gradient lam * w (the penalty is in the loss but not in "
                           "the gradient?)", "grad_w differs"),
    ("loss_no_penalty", 0, "the loss is missing the penalty lam/2 * ||w||^2 (the penalty is in the gradient but not "
                           "in the loss?)", "the loss differs"),
    ("penalty_not_half", 0, "the loss uses lam * ||w||^2; the course's penalty is lam/2 * ||w||^2, whose gradient is "
                            "lam * w (what torch's weight_decay=lam adds)", "the loss differs"),
    ("penalty_not_half", 1, "grad_w uses 2 * lam * w, the gradient of lam * ||w||^2; the gradient of lam/2 * ||w||^2 "
                            "is lam * w", "grad_w differs"),
    ("intercept_penalized", 1, "the loss penalizes the intercept b; only w is penalized", "the loss differs"),
    ("data_term", 0, DATA_TERM, "the loss differs"),
    ("data_term", 1, DATA_TERM, "the loss differs"),
    ("residual_without_b", 0, "the residual must include the intercept: X @ w + b - y", "the loss differs"),
)


def _grad_models(w, b, X, y, lam):
    """The reference (loss, grad_w, grad_b), and key -> the forms of that mistake: (which of the three outputs
    differs, its value); the other two are the reference's."""
    want = ref.ridge_loss_and_grad(w, b, X, y, lam)
    n = len(y)
    r, r0 = X @ w + b - y, X @ w - y
    data_loss, data_gw, penalty = r @ r / (2 * n), X.T @ r / n, 0.5 * lam * w @ w
    return want, {
        "intercept_penalized": [(2, want[2] + lam * b), (0, data_loss + 0.5 * lam * (w @ w + b * b))],
        "grad_no_penalty": [(1, data_gw)],
        "loss_no_penalty": [(0, data_loss)],
        "penalty_not_half": [(0, data_loss + lam * w @ w), (1, data_gw + 2 * lam * w)],
        "data_term": [(0, 2 * data_loss + penalty), (0, r @ r / 2 + penalty)],
        "residual_without_b": [(0, r0 @ r0 / (2 * n) + penalty)],
    }


def _check_grad(cases):
    @_cached
    def models():   # per case (reference, models), and the keys whose models fail some case
        per_case = [_grad_models(*case) for case in cases]
        return per_case, frozenset().union(*(_failing(m, lambda f, want=want: close(f[1], want[f[0]]))
                                             for want, m in per_case))

    def check(values):
        what = "ridge_loss_and_grad"
        per_case, ruled_out = models()
        for (want, wrong), out in zip(per_case, returned(values, what)):
            got = pair(out, f"{what} should return (loss, grad_w, grad_b):", 3)
            for key, form, message, plain in GRAD_MISTAKES:   # a form that coincides with the reference names nothing
                i, value = wrong[key][form]
                if close(got[i], value) and not close(value, want[i]):
                    raise Mistake(f"{what}: {message}", key=key, plain=plain)
            for g, w_, output in zip(got, want, GRAD_OUTPUTS):
                expect(g, w_, f"{what}: {output}")
        return ruled_out   # passed: the mistakes whose models fail here are not the answer's
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


RIDGE_MISTAKES = (  # (key, message, plain), in the order they are tried on w
    ("lam_not_n_lam", "you used lam where the objective needs n * lam (the data term is an average over n samples)",
     "w differs"),
    ("intercept_penalized", "the intercept is penalized (a column of ones inside the penalty); centre X and y instead, "
                            "and recover b = mean(y) - mean(X) @ w", "w differs"),
    ("no_intercept", "you fitted without an intercept: centre X and y first", "w differs"),
)


def _large_means(X) -> bool:
    return np.abs(X.mean(axis=0)).max() > 1e3 * X.std(axis=0).max()


def _ridge_tol(X) -> float:
    """The rtol of w and b: rounding only where the features have large means, which centring first gives."""
    return 1e-9 if _large_means(X) else 1e-6


def _ridge_models(X, y, lam):
    """The reference (w, b), and key -> the (w, b) of each form of that mistake."""
    n, d = X.shape
    Xa = np.hstack([X, np.ones((n, 1))])
    wa = np.linalg.solve(Xa.T @ Xa + n * lam * np.eye(d + 1), Xa.T @ y)
    # the normal equations of (w, b) together, uncentred, the penalty on w only (tests/submissions: RIDGE_KKT_SYSTEM)
    kkt = np.linalg.solve(Xa.T @ Xa + n * lam * np.diag([1.0] * d + [0.0]), Xa.T @ y)
    sklearn = Ridge(alpha=lam).fit(X, y)
    return ref.ridge_fit(X, y, lam), {
        "lam_not_n_lam": [(sklearn.coef_, sklearn.intercept_)],
        "intercept_penalized": [(wa[:-1], wa[-1])],
        "no_intercept": [(np.linalg.solve(X.T @ X + n * lam * np.eye(d), X.T @ y), 0.0)],
        "uncentred_cancellation": [(kkt[:-1], kkt[-1])],
    }


def _check_ridge(cases):
    @_cached
    def models():   # per case (reference, models), and the keys whose models fail some case
        per_case = [_ridge_models(X, y, lam) for X, y, lam in cases]
        return per_case, frozenset().union(*(
            _failing(m, lambda f, want=want, tol=_ridge_tol(X): close(f[0], want[0], tol) and close(f[1], want[1], tol))
            for (X, _, _), (want, m) in zip(cases, per_case)))

    def check(values):
        what = "ridge_fit"
        per_case, ruled_out = models()
        for (X, y, lam), ((want_w, want_b), wrong), out in zip(cases, per_case, returned(values, what)):
            w, b = pair(out, f"{what} should return (w, b):", 2)
            for key, message, plain in RIDGE_MISTAKES:   # told apart by w, to 1e-6
                model_w = wrong[key][0][0]
                if close(w, model_w, 1e-6) and not close(w, want_w, 1e-6):
                    raise Mistake(f"{what}: {message}", key=key, plain=plain)
            large = _large_means(X)
            if large and close(w, want_w, 1e-3) and close(b, want_b, 1e-3) \
                    and not (close(w, want_w, 1e-9) and close(b, want_b, 1e-9)):
                raise Mistake(f"{what}: w and b lose their accuracy on features with large means: the normal "
                              "equations of uncentred data (or X'X - n x̄x̄') cancel catastrophically; centre X and y "
                              "first, as the text says, then solve", key="uncentred_cancellation",
                              plain="w and b are off by more than rounding")
            tol = _ridge_tol(X)
            expect(w, want_w, f"{what}: w", rtol=tol)
            expect(b, want_b, f"{what}: b", rtol=tol)
        return ruled_out   # passed: the mistakes whose models fail here are not the answer's
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


@lru_cache(maxsize=None)
def _groups_reference(net_name, wd):
    """Names of the parameters of a network, once per process: (decayed, all trainable, plain biases, held by
    normalization layers, frozen), and whether a parameter is reachable twice (shared by two layers)."""
    net = build_net(net_name) if net_name in PROBED_NETS else _build_net(net_name)
    want_decay, want_keep = ref.decay_param_groups(net, wd)
    names = {id(p): n for n, p in net.named_parameters()}
    want_decayed = frozenset(names[id(p)] for p in want_decay["params"])
    want_all = want_decayed | {names[id(p)] for p in want_keep["params"]}
    norms = frozenset(_norm_owned(net))
    biases = frozenset(n for n in want_all if n.endswith("bias")) - norms
    frozen = frozenset(n for n, p in net.named_parameters() if not p.requires_grad)
    shared = len(list(net.named_parameters(remove_duplicate=False))) > len(names)
    return want_decayed, want_all, biases, norms, frozen, shared


def _groups_ruled_out(cases) -> frozenset:
    """The mistakes whose every form fails on these cases. A weight_decay other than the one given: a constant
    matches at most one of two different values. A parameter listed once per layer that holds it: a network with a
    shared one. Biases or normalization parameters decayed: never, as their forms include those of one layer type
    only (DECAY_BATCHNORM_ONLY in tests/submissions/ch02.py), which coincide with the right groups wherever that
    type is absent; and the check sees them in the groups rather than in a value that may coincide."""
    out = set()
    if len({wd for _, wd in cases}) > 1:
        out.add("wrong_weight_decay")
    if any(_groups_reference(*case)[5] for case in cases):
        out.add("param_twice")
    return frozenset(out)


def _check_groups(cases):
    ruled_out = _cached(lambda: _groups_ruled_out(cases))

    def check(values):
        what = "decay_param_groups"
        for (net_name, wd), out in zip(cases, returned(values, what)):
            if isinstance(out, Foreign) or not isinstance(out, dict) or "groups" not in out:
                raise Failure(f"{what}: return a list of dicts, each with keys 'params' and 'weight_decay'")
            want_decayed, want_all, plain_biases, norms, frozen, _ = _groups_reference(net_name, wd)
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
            if (decayed - want_decayed) & plain_biases:
                raise Mistake(f"{what}: " + BIASES_DECAYED.format(which=""), key="biases_decayed",
                              plain="biases are decayed")
            if (decayed - want_decayed) & norms:
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
        return ruled_out()   # passed: the mistakes whose every form fails here are not the answer's
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


def _select_models(seed, lams):
    """The reference (best_lam, val_errors), and key -> the (best_lam, val_errors) of each form of that mistake."""
    Xtr, ytr, Xva, yva = _SPLITS[seed]
    lams = np.asarray(lams, dtype=float)
    best, errors = ref.select_lambda(Xtr, ytr, Xva, yva, lams)
    train = np.array([np.mean((Xtr @ w + b - ytr) ** 2) for w, b in (ref.ridge_fit(Xtr, ytr, lam) for lam in lams)])
    tied = [lam for lam, e in zip(lams, errors) if e == np.min(errors) and lam != best]

    def scan(rises):   # the first lambda whose successor is worse, or not better (SELECT_FIRST_OF_GRID's scan)
        return next((lams[i] for i in range(len(lams) - 1) if rises(errors[i + 1], errors[i])), lams[-1])
    return (best, errors), {
        "select_on_train": [(lams[np.argmin(train)], train)],
        "lam_index": [(int(np.argmin(errors)), errors)],
        "sorted_grid": [(best, errors[np.argsort(lams)])],
        # another of the tied lambdas (none: the reference, ties show nothing here), or a scan that stops early:
        # never ruled out, as the first coincide wherever no lambdas tie and a scan by >= where all of them do
        "best_not_first_minimum": [(lam, errors) for lam in tied] + [(best, errors)] * (not tied)
                                  + [(scan(np.greater), errors), (scan(np.greater_equal), errors)],
    }


def _select_agrees(form, want) -> bool:
    """(best_lam, val_errors) within the check's tolerances of the reference."""
    return close(form[1], want[1], 1e-6) and close(form[0], want[0], 1e-9)


def _check_select(cases):
    @_cached
    def models():   # per case (reference, models), and the keys whose models fail some case
        per_case = [_select_models(seed, lams) for seed, lams in cases]
        return per_case, frozenset().union(*(_failing(m, lambda f, want=want: _select_agrees(f, want))
                                             for want, m in per_case))

    def check(values):
        what = "select_lambda"
        per_case, ruled_out = models()
        for (_, lams), ((want_best, want_errors), wrong), out in zip(cases, per_case, returned(values, what)):
            lams_arr = np.asarray(lams, dtype=float)
            best, errors = _seq(out, f"{what} should return (best_lam, val_errors):", 2)
            train_errors = wrong["select_on_train"][0][1]
            if close(errors, train_errors, 1e-6) and not close(errors, want_errors, 1e-6):
                raise Mistake(f"{what}: the errors are measured on the training data; use the validation data",
                              key="select_on_train", plain="val_errors differ")
            tied = lams_arr[want_errors == np.min(want_errors)]
            tie = len(set(tied.tolist())) > 1 and np.any(np.isclose(best, tied)) and not close(best, want_best)
            if close(best, wrong["lam_index"][0][0]) and not close(best, want_best) and not tie:
                raise Mistake(f"{what}: return the value of the best lambda, not its index", key="lam_index",
                              plain="best_lam differs")
            sorted_errors = wrong["sorted_grid"][0][1]
            if close(errors, sorted_errors, 1e-6) and not close(errors, want_errors, 1e-6):
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
        return ruled_out   # passed: the mistakes whose models fail here are not the answer's
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
        return {"inputs_changed"}   # passed: the arrays were compared before and after the calls
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
