"""Hidden tests for Chapter 3: L1 regularization and the lasso.

Every part is a set of scenarios, each trying one behaviour of the exercise's written contract on hidden
inputs. The references are ``solutions.lasso``, scikit-learn's ``Lasso``/``lasso_path`` and torch; the
named mistakes come from ``coursekit.checks.lasso`` (the visible tests use the same words). Messages never
contain the hidden inputs or the expected values.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from coursekit.checks import lasso as named
from coursekit.data import make_regression
from solutions import lasso as ref

from ..verdicts import Credit, Part, Scenario
from .common import Failure, Foreign, Mistake, call, close, expect, forbid, pair, probe, returned

LASSO = "coursekit.checks.lasso"

# A stable key per named mistake (the framework names a mistake only when every failing scenario names the same
# key); two messages share a key where one input cannot tell them apart.
KEYS = {named.SIGN_NOT_PROX: "sign_not_prox", named.ONE_SIDED: "one_sided", named.HARD_THRESHOLD: "hard_threshold",
        named.SUBGRADIENT_SIGN0: "subgradient_sign0", named.SUBGRADIENT_PLUS: "subgradient_plus",
        named.PENALTY_HALF: "penalty_half", named.PENALTY_SQUARED: "penalty_squared",
        named.INTERCEPT_PENALIZED: "intercept", named.ZERO_INTERCEPT: "intercept", named.NO_INTERCEPT: "intercept",
        named.FIXED_STEP: "fixed_step", named.THRESHOLD_NOT_STEP: "threshold_not_step",
        named.CONSTANT_FEATURE: "constant_feature",
        named.THRESHOLD_ON_GRADIENT: "not_exact_zeros", named.NOT_EXACT_ZEROS: "not_exact_zeros",
        named.PROX_LAM_NOT_LR_LAM: "prox_lam_not_lr_lam", named.PROX_FIRST_L1: "prox_first_l1",
        named.PROX_NOT_IN_PLACE: "prox_not_in_place", named.PROX_ON_GRADIENT: "threshold_on_gradient",
        named.PROX_ALL_GROUPS: "prox_all_groups", named.PATH_NOT_SORTED: "path_not_sorted",
        named.PATH_TRANSPOSED: "path_transposed", named.PATH_NO_WARM_START: "path_no_warm_start"}
INPUTS_CHANGED = ("{what} changed its input arrays in place (e.g. X -= X.mean(axis=0), alphas.sort(), or w_init "
                  "updated in place): the caller's data is no longer what it passed in; work on copies")


def _with_soft(name, *args):
    """``name(*args)`` with the student's soft_threshold replaced by torch's softshrink while it runs: a mistake in
    Part 1 is charged there only."""
    return probe(f"{LASSO}:with_exact_soft_threshold", name, *args)


def _mistake(message, plain="wrong values"):
    if message:
        key = next((k for m, k in KEYS.items() if message.startswith(m)), message)
        raise Mistake(message, key=key, plain=plain)


def _failing(models, agrees) -> frozenset:
    """The keys of ``models`` (key -> the forms of that mistake) whose every form fails: ``agrees(form)`` is False,
    the form differing from the reference beyond the check's tolerances. A passing answer rules them out.

    The forms are coursekit.checks.lasso's models (``*_models``), the ones its ``diagnose_*`` functions match, keyed
    here by KEYS."""
    return frozenset(key for key, forms in models.items() if not any(agrees(f) for f in forms))


def _kept(out, what):
    """The answer of a ``*_kept`` probe; a Mistake when the call changed its inputs in place."""
    if not isinstance(out, dict) or "kept" not in out:
        raise Failure(f"{what} could not be run")
    if not out["kept"]:
        raise Mistake(INPUTS_CHANGED.format(what=what), key="inputs_changed", plain="the inputs were changed in place")
    return out["out"]


# ---------------------------------------------------------------- part 1: soft_threshold
_r1 = np.random.default_rng(301)
_X1 = _r1.standard_normal(9) * 2.0
_X1[[1, 4]] = [0.7, -0.7]                       # exactly on the threshold below: must give exactly 0
_M1 = _r1.standard_normal((3, 4))


def _keyed(models) -> dict:
    """coursekit's models (message -> forms) keyed by KEYS."""
    return {KEYS[message]: forms for message, forms in models.items()}


def _soft_models(x, t):
    """key -> the soft-threshold of (x, t) by each form of that mistake (diagnose_soft_threshold's)."""
    return _keyed(named.soft_threshold_models(x, t))


def _soft_failing(models, x, t, rtol=1e-7, atol=1e-9) -> frozenset:
    """The keys of ``models`` whose every form fails on (x, t): off by more than the tolerances, or not exactly 0
    where the soft-threshold is."""
    want = ref.soft_threshold(x, t)
    return _failing(models, lambda f: close(f, want, rtol, atol) and not np.any(np.asarray(f)[want == 0] != 0))


def _soft_scenario(label, x, t, covers):
    ruled_out = lru_cache(maxsize=None)(lambda: _soft_failing(_soft_models(x, t), x, t))

    def check(values):
        (got,) = returned(values, "soft_threshold")
        what = f"soft_threshold on {label}"
        if isinstance(got, Foreign) or got is None:
            expect(got, ref.soft_threshold(x, t), what)
        _mistake(named.diagnose_soft_threshold(x, t, got), "wrong values")
        want = ref.soft_threshold(x, t)
        expect(got, want, what)
        if np.any(np.asarray(got, float)[want == 0] != 0):
            raise Failure(f"{what}: entries with |x| <= t must be exactly 0.0")
        return ruled_out()   # passed: the mistakes whose models fail here are not the answer's
    return Scenario(label, [call("soft_threshold", x, t)], check, covers)


_X32 = (_X1 * 1.1).astype(np.float32)
_X_INT = np.array([-3.0, -1.0, 0.0, 1.0, 2.0, 5.0])   # the integer array's values


@lru_cache(maxsize=None)
def _soft_special():
    """The mistakes' models on the float32 array and on the integer one, and the keys whose models fail there."""
    on_integers = {**_soft_models(_X_INT, 1.5), "integer_result": [np.trunc(ref.soft_threshold(_X_INT, 1.5))]}
    return (_soft_failing(_soft_models(_X32.astype(float), 0.5), _X32.astype(float), 0.5, 1e-6, 1e-6),
            on_integers, _soft_failing(on_integers, _X_INT, 1.5) | {"inputs_changed"})


def _soft_float32(values):
    """float32 in: the soft-threshold to float32 precision, returned as float32 (as torch's softshrink) or float64
    (as numpy's arithmetic with a Python float t may give): the text allows both."""
    (got,) = returned(values, "soft_threshold")
    what = "soft_threshold on a float32 array"
    want = ref.soft_threshold(_X32.astype(float), 0.5)
    if isinstance(got, Foreign) or got is None:
        expect(got, want, what)
    dtype = getattr(got, "returned_dtype", None)
    if dtype not in (None, "float32", "float64"):
        raise Failure(f"{what}: the result is a {dtype} array; return float32 or float64")
    _mistake(named.diagnose_soft_threshold(_X32.astype(float), 0.5, got), "wrong values on float32")
    expect(got, want, what, rtol=1e-6, atol=1e-6)
    if np.any(np.asarray(got, float)[want == 0] != 0):
        raise Failure(f"{what}: entries with |x| <= t must be exactly 0.0")
    return _soft_special()[0]   # passed: the mistakes whose models fail here are not the answer's


def _soft_integers(values):
    out, floats = returned(values, "soft_threshold")
    _kept(floats, "soft_threshold")        # a float array left unchanged (an integer one is copied by astype)
    x, (_, models, ruled_out) = _X_INT, _soft_special()
    got = _kept(out, "soft_threshold")
    what = "soft_threshold on an integer array"
    if close(got, models["integer_result"][0]) and not close(got, ref.soft_threshold(x, 1.5)):
        raise Mistake(f"{what}: the result was cut to integers (np.zeros_like(x) or an in-place update keeps x's "
                      "integer dtype): the soft-threshold of integers is a float array", key="integer_result",
                      plain="the result of integers was truncated")
    _mistake(named.diagnose_soft_threshold(x, 1.5, got), "wrong values on integers")
    expect(got, ref.soft_threshold(x, 1.5), what)
    return ruled_out   # passed (the inputs compared before and after too): these mistakes are not the answer's


P1 = Part("soft_threshold", contract={
    "values": "returns sign(x) * max(|x| - t, 0) elementwise, a float array of the shape of x",
    "zeros": "entries with |x| <= t become exactly 0.0, including |x| == t",
    "negative": "negative entries are shrunk towards 0 like positive ones (symmetric)",
    "t0": "t = 0 returns x unchanged",
    "large_t": "t larger than every |x| returns all zeros",
    "shape": "x of any shape: 1-D, 2-D, or a plain float",
    "integers": "x may be an integer array; the result is a float array",
    "float32": "a float32 x gives the soft-threshold to float32 precision, as a float32 or float64 array",
    "inputs": "x itself is left unchanged",
}, scenarios=[
    _soft_scenario("a 1-D array with entries on both sides of t", _X1, 0.7, ("values", "zeros", "negative")),
    _soft_scenario("t = 0", _X1, 0.0, ("t0",)),
    _soft_scenario("t above every |x|", _X1, 50.0, ("large_t",)),
    _soft_scenario("a 2-D array", _M1, 0.5, ("shape",)),
    _soft_scenario("a plain float", -1.25, 0.5, ("shape", "negative")),
    Scenario("a float32 array", [call("soft_threshold", _X32, 0.5)], _soft_float32, ("float32",)),
    Scenario("an integer array; x left unchanged", [probe(f"{LASSO}:call_on_integers", "soft_threshold",
                                                        _X_INT, 1.5),
                                                  probe(f"{LASSO}:call_keeping_inputs", "soft_threshold", _X1 * 1.3,
                                                        0.4)],
             _soft_integers, ("integers", "inputs")),
    # the visible test's input
    _soft_scenario("the visible test's input", np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 3.0]), 1.0,
                   ("values", "zeros")),
], credit=[
    Credit("the soft-threshold of float arrays", 0.5, ("values", "zeros", "negative", "t0", "large_t")),
    Credit("any shape, a plain float, float32", 0.25, ("shape", "float32")),
    Credit("integer input, x left unchanged", 0.25, ("integers", "inputs")),
])


# ---------------------------------------------------------------- part 2: objective and subgradient
_r2 = np.random.default_rng(302)
_X2, _y2 = _r2.standard_normal((25, 6)), _r2.standard_normal(25)
_W2_DENSE = _r2.standard_normal(6)
_W2_SPARSE = np.array([0.8, 0.0, -0.4, 0.0, 0.0, 1.1])


def _grad2(w, b, alpha):
    r = _X2 @ w + b - _y2
    return _X2.T @ r / len(_y2)


def _alpha_between(w, b):
    """An alpha with every zero coordinate of w strictly inside [-alpha, alpha] of its gradient, and one
    with every zero coordinate outside, so that the two cases at 0 are tried separately."""
    g = np.abs(_grad2(w, b, 0.0))[w == 0]
    return 1.5 * g.max(), 0.5 * g.min()


_A_IN, _A_OUT = _alpha_between(_W2_SPARSE, 0.3)
_W2_MIN, _B2_MIN = ref.lasso_fit(_X2, _y2, 0.05)


def _subgradient_models(w, b, X, y, alpha):
    """key -> the forms of that mistake (diagnose_subgradient's): (which of loss, g_w, g_b differs, its value)."""
    return _keyed(named.subgradient_models(w, X, y, b, alpha))


def _subgrad_scenario(label, w, b, alpha, covers, X=_X2, y=_y2, at_minimum=False):
    atol = (1e-9, 1e-8 if at_minimum else 1e-9, 1e-9)   # of the loss, g_w and g_b

    @lru_cache(maxsize=None)
    def ruled_out():   # the mistakes whose models fail here: once per grading process
        want = ref.lasso_loss_and_subgradient(w, b, X, y, alpha)
        return _failing(_subgradient_models(w, b, X, y, alpha), lambda f: close(f[1], want[f[0]], atol=atol[f[0]]))

    def check(values):
        (out,) = returned(values, "lasso_loss_and_subgradient")
        loss, g_w, g_b = pair(out, "lasso_loss_and_subgradient should return (loss, g_w, g_b)", 3)
        _mistake(named.diagnose_subgradient(w, X, y, b, alpha, loss, g_w, g_b), "wrong loss or subgradient")
        want_loss, want_gw, want_gb = ref.lasso_loss_and_subgradient(w, b, X, y, alpha)
        expect(loss, want_loss, "the objective", atol=atol[0])
        expect(g_w, want_gw, "g_w" + (" at the lasso's minimizer (it must be 0 there)" if at_minimum else ""),
               atol=atol[1])
        expect(g_b, want_gb, "g_b", atol=atol[2])
        return ruled_out()   # passed: the mistakes whose models fail here are not the answer's
    return Scenario(label, [_with_soft("lasso_loss_and_subgradient", w, b, X, y, alpha)], check, covers)


_rv2 = np.random.default_rng(0)       # the visible test's data
_Xv2, _yv2 = _rv2.standard_normal((12, 4)), _rv2.standard_normal(12)

P2 = Part("lasso_loss_and_subgradient", contract={
    "loss": "loss is 1/(2n) * ||X w + b - y||^2 + alpha * ||w||_1",
    "nonzero": "where w_j != 0, g_w[j] = grad_j + alpha * sign(w_j), grad the gradient of the squared-error term",
    "zero_inside": "where w_j = 0 and |grad_j| <= alpha, g_w[j] = 0 (the minimum-norm subgradient)",
    "zero_outside": "where w_j = 0 and |grad_j| > alpha, g_w[j] = grad_j - alpha * sign(grad_j)",
    "intercept": "g_b is the derivative in b of the squared-error term only (b is not penalized), for any b",
    "alpha0": "alpha = 0 gives the plain gradient, also at zero weights",
    "minimizer": "at the lasso's minimizer g_w is 0",
}, scenarios=[
    _subgrad_scenario("weights with no zero entry", _W2_DENSE, -0.7, 0.2, ("loss", "nonzero", "intercept")),
    _subgrad_scenario("zero weights whose gradient is inside [-alpha, alpha]", _W2_SPARSE, 0.3, _A_IN,
                      ("zero_inside", "loss")),
    _subgrad_scenario("zero weights whose gradient is outside [-alpha, alpha]", _W2_SPARSE, 0.3, _A_OUT,
                      ("zero_outside",)),
    _subgrad_scenario("alpha = 0", _W2_SPARSE, 0.3, 0.0, ("alpha0",)),
    _subgrad_scenario("at the lasso's minimizer", _W2_MIN, _B2_MIN, 0.05, ("minimizer", "zero_inside"),
                      at_minimum=True),
    _subgrad_scenario("the visible test's data", np.array([0.0, 0.5, 0.0, -1.0]), 0.2, 0.3,
                      ("loss", "nonzero", "zero_inside", "zero_outside"), X=_Xv2, y=_yv2),
], credit=[
    Credit("the objective and its gradient where w has no zero", 1.0, ("loss", "nonzero", "intercept")),
    Credit("the minimum-norm subgradient at zero weights", 0.75, ("zero_inside", "zero_outside", "minimizer")),
    Credit("alpha = 0", 0.25, ("alpha0",)),
])


# ---------------------------------------------------------------- part 3: the solver
_X3, _y3, _ = make_regression(n_samples=50, n_features=8, n_informative=3, correlation=0.5, seed=303)
_X3 = _X3 + np.arange(8) - 2.0                     # features with nonzero means: the intercept matters
_X3s = _X3 * 40.0                                  # badly scaled: L grows 1600-fold
_Xv3, _yv3, _ = make_regression(n_samples=40, n_features=6, n_informative=2, seed=1)   # the visible data
_AMAX3 = ref.alpha_max(_X3, _y3)


@lru_cache(maxsize=None)
def _fit_ref(key):
    X, y, alpha = _FIT_INPUTS[key]
    return ref.lasso_fit(X, y, alpha)


_FIT_INPUTS = {
    "plain": (_X3, _y3, 0.1),
    "small": (_X3, _y3, 0.005),
    "shift": (_X3, _y3 + 100.0, 0.1),
    "scaled": (_X3s, _y3, 0.1),
    "max": (_X3, _y3, 1.2 * _AMAX3),
    "constant": (np.column_stack([_X3[:25, :3], np.full(25, 2.5)]), _y3[:25], 0.1),
    "visible": (_Xv3, _yv3, 0.1),
}


def _pair(value, what, n):
    """A tuple, list or 1-D array of ``n`` returned values (they unpack alike), or a Failure."""
    if isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim >= 1):
        if len(value) == n:
            return tuple(value)
    return pair(value, what, n)


def _fit_agrees(w, b, want_w, want_b) -> bool:
    """(w, b) within the check's tolerances, with exact zeros where the lasso's weights are 0."""
    return close(w, want_w, 1e-5, 1e-7) and close(b, want_b, 1e-5, 1e-7) \
        and not np.any(np.asarray(w, float)[want_w == 0] != 0)


FIXED_STEP = 1e-3   # the smallest fixed step (one that ignores L) modelled: FIT_FIXED_STEP of the corpus takes 0.1
WARM_START = 3.0    # every entry of the w_init of the warm-start scenario


def _threshold_on_gradient(X, y, alpha, start, max_iter=100_000, tol=1e-12):
    """(w, b) of a solver that soft-thresholds the gradient, not the iterate: w <- w - S(grad, alpha) / L from w_init =
    ``start`` everywhere (FIT_THRESHOLD_GRADIENT of the corpus). It stops wherever every |grad_j| <= alpha, so it can
    agree with the lasso (at alpha_max and above, from w = 0)."""
    n, d = X.shape
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    L = named.lipschitz(X)
    w = np.full(d, float(start))
    for _ in range(max_iter):
        new = w - ref.soft_threshold(Xc.T @ (Xc @ w - yc) / n, alpha) / L
        done = np.max(np.abs(new - w)) <= tol * max(1.0, np.max(np.abs(new)))
        w = new
        if done:
            break
    return w, float(y.mean() - X.mean(axis=0) @ w)


@lru_cache(maxsize=None)
def _fit_ruled_out(key, start=0.0) -> frozenset:
    """The mistakes diagnose_lasso_fit names whose every form fails on one of _FIT_INPUTS (solvers started from w_init
    = ``start`` everywhere): a passing answer did not make them. Once per grading process."""
    X, y, alpha = _FIT_INPUTS[key]
    want_w, want_b = _fit_ref(key)
    L = named.lipschitz(X)
    constant = np.all(X == X[:1], axis=0)
    converged = named.lasso_fit_models(X, y, alpha)
    models = {  # key -> the (w, b) of each form
        "threshold_not_step": converged[named.THRESHOLD_NOT_STEP],
        # the intercept thresholded with the weights; not fitted (uncentred X, b = 0); b = 0 after centring
        "intercept": [*converged[named.INTERCEPT_PENALIZED],
                      (named.sklearn_lasso(X, y, alpha, fit_intercept=False)[0], 0.0), (want_w, 0.0)],
        "not_exact_zeros": [_threshold_on_gradient(X, y, alpha, start)],
    }
    out = set(_failing(models, lambda f: _fit_agrees(*f, want_w, want_b)))
    if not np.any((want_w == 0) & ~constant):
        # its other form, a subgradient step, never lands on 0: it fails only where the lasso has zeros (a constant
        # feature's weight aside, whose gradient is 0)
        out.discard("not_exact_zeros")
    if FIXED_STEP * L > 2:                  # every fixed step of FIXED_STEP or more diverges
        out.add("fixed_step")
    if constant.any():                      # coordinate descent without a guard divides 0 by 0 there
        out.add("constant_feature")
    return frozenset(out)


def _check_fit(out, key, what):
    X, y, alpha = _FIT_INPUTS[key]
    w, b = _pair(out, f"{what}: lasso_fit should return (w, b)", 2)
    want_w, want_b = _fit_ref(key)
    right = close(w, want_w, 1e-5, 1e-7) and close(b, want_b, 1e-5, 1e-7)
    if not right or np.any(np.asarray(w, float)[want_w == 0] != 0):    # sklearn's diagnoses only for a wrong one
        _mistake(named.diagnose_lasso_fit(X, y, alpha, w, b), "w or b differs")
    expect(w, want_w, f"{what}: w", rtol=1e-5, atol=1e-7)
    expect(b, want_b, f"{what}: b", rtol=1e-5, atol=1e-7)
    if np.any(np.asarray(w, float)[want_w == 0] != 0):
        _mistake(named.NOT_EXACT_ZEROS, "weights that should be 0 are not exactly 0")


def _check_warm(values):
    (out,) = returned(values, "lasso_fit")
    _check_fit(_kept(out, "lasso_fit"), "plain", "a warm start far from the answer")
    return _fit_ruled_out("plain", WARM_START) | {"inputs_changed"}   # passed: these mistakes are not the answer's


def _fit_scenario(label, key, covers, w_init=None):
    X, y, alpha = _FIT_INPUTS[key]
    args = (X, y, alpha) if w_init is None else (X, y, alpha, w_init)

    def check(values):
        (out,) = returned(values, "lasso_fit")
        _check_fit(out, key, label)
        return _fit_ruled_out(key)   # passed: the mistakes whose models fail here are not the answer's
    return Scenario(label, [_with_soft("lasso_fit", *args)], check, covers)


def _check_shift(values):
    base, shifted = returned(values, "lasso_fit")
    (w0, b0), (w1, b1) = _pair(base, "lasso_fit should return (w, b)", 2), _pair(shifted, "lasso_fit", 2)
    if close(b0, 0.0) and close(b1, 0.0):
        _mistake(named.NO_INTERCEPT, "b is 0")
    if not (close(w1, w0, 1e-6, 1e-8) and close(float(b1) - float(b0), 100.0, 1e-6)):
        if not (close(w1, w0, 1e-6, 1e-8) and close(w0, _fit_ref("plain")[0], 1e-5, 1e-7)):
            # w itself is wrong (or moved): a wrong solver, not (only) a penalized intercept
            _check_fit(base, "plain", "features with nonzero means")
        _mistake(named.INTERCEPT_PENALIZED, "b does not move with the targets")
    _check_fit(shifted, "shift", "targets shifted by 100")
    return _fit_ruled_out("shift")   # passed: the shifted fit was judged in full


P3 = Part("lasso_fit", contract={
    "matches": "(w, b) equal scikit-learn's Lasso(alpha).fit(X, y).coef_ and .intercept_ (to about 1e-6)",
    "intercept": "the intercept is not penalized: adding c to every target moves b by c and leaves w alone",
    "uncentred": "features need not have mean 0",
    "scaling": "converges for features of any scale (the step follows L, or coordinate descent needs none)",
    "exact_zeros": "weights the lasso sets to zero are exactly 0.0",
    "alpha_max": "alpha at or above alpha_max gives w = 0 exactly and b = mean(y)",
    "small_alpha": "a small alpha, where most weights are nonzero",
    "w_init": "w_init, when given, only warm-starts: the answer is the same",
    "constant": "a constant feature (its centred column is 0: its weight is 0, no division by its norm)",
    "inputs": "X, y and w_init are left unchanged (w_init is copied before it is updated)",
}, scenarios=[
    _fit_scenario("features with nonzero means", "plain", ("matches", "uncentred", "exact_zeros")),
    _fit_scenario("a small alpha", "small", ("small_alpha", "matches")),
    Scenario("targets shifted by 100", [_with_soft("lasso_fit", *_FIT_INPUTS["plain"]),
                                        _with_soft("lasso_fit", *_FIT_INPUTS["shift"])], _check_shift, ("intercept",)),
    _fit_scenario("badly scaled features", "scaled", ("scaling",)),
    _fit_scenario("alpha above alpha_max", "max", ("alpha_max", "exact_zeros")),
    Scenario("a warm start far from the answer; X, y and w_init left unchanged",
             [probe(f"{LASSO}:with_exact_soft_threshold_kept", "lasso_fit", *_FIT_INPUTS["plain"],
                    np.full(8, WARM_START))],
             _check_warm, ("w_init", "inputs")),
    _fit_scenario("a constant feature", "constant", ("constant",)),
    _fit_scenario("the visible test's data", "visible", ("matches",)),
], credit=[
    Credit("scikit-learn's lasso, with an unpenalized intercept", 1.75,
           ("matches", "intercept", "uncentred", "exact_zeros", "alpha_max", "small_alpha")),
    Credit("badly scaled features", 0.5, ("scaling",)),
    Credit("a constant feature", 0.25, ("constant",)),
    Credit("warm starts that leave the inputs unchanged", 0.5, ("w_init", "inputs")),
])


# ---------------------------------------------------------------- part 4: the path
_X4, _y4, _ = make_regression(n_samples=40, n_features=7, n_informative=3, correlation=0.6, intercept=4.0,
                              seed=304)
_X4 = _X4 + 1.5
_AMAX4 = ref.alpha_max(_X4, _y4)
_Xv4, _yv4, _ = make_regression(n_samples=30, n_features=5, n_informative=2, seed=2)   # the visible data


def _path_scenario(label, X, y, alphas, covers, check_warm=True, check_types=False):
    def check(values):
        (out,) = returned(values, "lasso_path")
        if check_types:
            _path_types(out)
        if not isinstance(out, dict) or "out" not in out:
            raise Failure("lasso_path could not be run")
        result = _pair(out["out"], "lasso_path should return (alphas, coefs)", 2)
        got_alphas, coefs = result
        want_alphas, want_coefs = _path_ref(label)
        given, transposed = _path_models(label)
        if close(got_alphas, given) and not close(got_alphas, want_alphas):
            _mistake(named.PATH_NOT_SORTED, "alphas in the order given")
        if close(got_alphas, np.unique(alphas)[::-1]) and not close(got_alphas, want_alphas):
            raise Failure("lasso_path: an alpha given twice must keep both of its entries (and columns); "
                          "np.unique or set() dropped one")
        expect(got_alphas, want_alphas, "alphas")
        if close(coefs, transposed, 1e-6, 1e-8) and want_coefs.shape[0] != want_coefs.shape[1]:
            _mistake(named.PATH_TRANSPOSED, "coefs transposed")
        expect(coefs, want_coefs, "coefs", rtol=1e-6, atol=1e-8)
        if check_warm:
            calls = out["calls"]
            if not calls:
                raise Failure("lasso_path must call your lasso_fit once per alpha (with w_init for warm starts)")
            seen = [c["alpha"] for c in calls]
            if sorted(seen, reverse=True) != seen:
                _mistake(named.PATH_NO_WARM_START + " (the fits did not run from the largest alpha down)",
                         "the fits are not warm-started")
            for prev, cur in zip(calls, calls[1:]):
                if cur["w_init"] is None or not close(cur["w_init"], prev["w"], 1e-12, 1e-14):
                    _mistake(named.PATH_NO_WARM_START, "the fits are not warm-started")
        return _path_ruled_out(label, check_warm, check_types)   # passed: these mistakes are not the answer's
    _PATHS[label] = (X, y, alphas)
    return Scenario(label, [probe(f"{LASSO}:path_probe", "lasso_path", X, y, np.asarray(alphas, float))],
                    check, covers)


_PATHS = {}


@lru_cache(maxsize=None)
def _path_ref(label):
    X, y, alphas = _PATHS[label]
    return ref.lasso_path(X, y, alphas, fit=named.sklearn_lasso)


@lru_cache(maxsize=None)
def _path_models(label):
    """The alphas in the order given (PATH_NOT_SORTED's), and coefs of shape (n_alphas, n_features)
    (PATH_TRANSPOSED's)."""
    return np.asarray(_PATHS[label][2], dtype=float), _path_ref(label)[1].T


@lru_cache(maxsize=None)
def _path_ruled_out(label, check_warm, check_types) -> frozenset:
    """The mistakes whose every form fails on a scenario's grid, once per process."""
    want_alphas, want_coefs = _path_ref(label)
    given, transposed = _path_models(label)
    out = {key for key, fails in (("path_not_sorted", not close(given, want_alphas)),
                                  ("path_transposed", not close(transposed, want_coefs, 1e-6, 1e-8)),
                                  ("inputs_changed", check_types)) if fails}
    # not warm-started: cold fits fail wherever the calls are checked (two alphas or more); fits warm-started in the
    # order given fail only where that order is not decreasing
    if check_warm and len(given) > 1 and np.any(np.diff(given) > 0):
        out.add("path_no_warm_start")
    return frozenset(out)


def _path_types(out):
    if not isinstance(out, dict) or "out" not in out:
        raise Failure("lasso_path could not be run")
    if not out.get("kept", 1.0):
        raise Mistake(INPUTS_CHANGED.format(what="lasso_path"), key="inputs_changed",
                      plain="the inputs were changed in place")
    got_alphas, coefs = _pair(out["out"], "lasso_path should return (alphas, coefs)", 2)
    for value, name in ((got_alphas, "alphas"), (coefs, "coefs")):
        if not isinstance(value, np.ndarray):
            raise Failure(f"lasso_path: return {name} as a numpy array, as scikit-learn's lasso_path does (yours is "
                          f"a {type(value).__name__})")


P4 = Part("lasso_path", contract={
    "values": "coefs[:, k] is the lasso's w for alphas[k] (scikit-learn's lasso_path on centred X and y)",
    "shape": "coefs has shape (n_features, n_alphas), as scikit-learn's",
    "sorted": "alphas are returned in decreasing order even when given unsorted, coefs in the same order",
    "warm": "each fit after the first calls lasso_fit with w_init = the previous alpha's weights",
    "uncentred": "X and y need not be centred (the intercept is fitted and not returned)",
    "alpha_max": "a column for an alpha at or above alpha_max is all zeros",
    "single": "a grid of one alpha",
    "repeated": "an alpha given twice keeps both entries and both columns",
    "types": "alphas and coefs are numpy arrays; the caller's X, y and alphas are left unchanged",
}, scenarios=[
    _path_scenario("a decreasing grid", _X4, _y4, np.logspace(0, -3, 12) * _AMAX4,
                   ("values", "shape", "warm", "uncentred")),
    _path_scenario("an unsorted grid", _X4, _y4, [0.05, 0.5, 0.01, 0.2], ("sorted", "warm")),
    _path_scenario("a grid reaching above alpha_max", _X4, _y4, [2 * _AMAX4, _AMAX4, 0.3 * _AMAX4], ("alpha_max",)),
    _path_scenario("a grid of one alpha", _X4, _y4, [0.1], ("single",), check_warm=False),
    _path_scenario("an alpha given twice; the return types; the inputs left unchanged", _X4, _y4,
                   [0.1, 0.02, 0.1, 0.5], ("repeated", "types"), check_types=True),
    _path_scenario("the visible test's data", _Xv4, _yv4, [1.0, 0.3, 0.1, 0.03], ("values", "warm")),
], credit=[
    Credit("scikit-learn's path, alphas in decreasing order", 1.25,
           ("values", "shape", "uncentred", "alpha_max", "sorted")),
    Credit("warm starts", 0.25, ("warm",)),
    Credit("one alpha, an alpha given twice, numpy arrays, inputs left unchanged", 0.5,
           ("single", "repeated", "types")),
])


# ---------------------------------------------------------------- part 5: the proximal step in torch
def _prox_right(p, a, lr, l1) -> bool:
    """Does a parameter after l1_prox_ (``a``; before: ``p``) pass the check? Unchanged in a group without l1; else the
    soft-threshold by lr * l1 to 1e-5, with exact zeros, away from the edge |p| = lr * l1 (float32 rounding)."""
    p, a = np.asarray(p, float), np.asarray(a, float)
    if not l1:
        return close(a, p, 0, 0)
    t = lr * l1
    want = ref.soft_threshold(p, t)
    clear = np.abs(np.abs(p) - t) > 1e-5 * max(t, 1e-12)
    return close(a[clear], want[clear], 1e-5, 1e-7) and not np.any(a[clear & (want == 0)] != 0)


def _prox_models(p, g, lr, l1, k, first, some, no_grad):
    """key -> parameter ``k`` after l1_prox_ by each form of that mistake: diagnose_prox's (coursekit's prox_models,
    see there for the arguments) and the check's own, a parameter without a gradient (``no_grad``) skipped."""
    skipped = p if k in no_grad else (ref.soft_threshold(p, lr * l1) if l1 else p)
    return {**_keyed(named.prox_models(p, g, lr, l1, first, some)), "prox_skips_no_grad": [skipped]}


def _prox_ruled_out(spec) -> frozenset:
    """The mistakes whose every form fails on a run of the reference l1_prox_ (prox_probe's report in this process):
    a passing answer follows that run, so these forms would have failed on it."""
    no_grad = spec.get("no_grad", ())
    rep = named.prox_probe(ref.l1_prox_, spec)
    fails = {"prox_none_grad_crash"} if no_grad else set()   # p.grad read where it is None: the call raises
    for before, after, grads, lrs, l1s in zip(rep["before"], rep["after"], rep["grads"], rep["lrs"], rep["l1s"]):
        before, grads = [t.double().numpy() for t in before], [t.double().numpy() for t in grads]
        first = next((l1 for l1 in l1s if l1), 0.0)
        some = next(((lr, l1) for lr, l1 in zip(lrs, l1s) if l1), (0.0, 0.0))
        for k, (p, g, lr, l1) in enumerate(zip(before, grads, lrs, l1s)):
            models = _prox_models(p, g, lr, l1, k, first, some, no_grad)
            fails |= _failing(models, lambda f: _prox_right(p, f, lr, l1))
    return frozenset(fails)


def _prox_scenario(label, spec, covers):
    no_grad = spec.get("no_grad", ())
    ruled_out = lru_cache(maxsize=None)(lambda: _prox_ruled_out(spec))

    def check(values):
        try:
            (rep,) = returned(values, "l1_prox_")
        except Failure as exc:
            if no_grad and "NoneType" in str(exc):   # p.grad read without a None check: says nothing of the formula
                raise Mistake(f"{exc} (a parameter whose grad is None must be thresholded too, without its gradient)",
                              key="prox_none_grad_crash", plain=str(exc), also=tuple(set(KEYS.values()))) from None
            raise
        if not isinstance(rep, dict) or "after" not in rep:
            raise Failure("l1_prox_ could not be run")
        for before, after, grads, lrs, l1s in zip(rep["before"], rep["after"], rep["grads"], rep["lrs"],
                                                  rep["l1s"]):
            others_changed = any(not close(a, b, 0, 0) for j, (a, b) in enumerate(zip(after, before))
                                 if j not in no_grad)
            for k in no_grad:
                p = np.asarray(before[k], float)
                if others_changed and l1s[k] and close(after[k], p, 0, 0) \
                        and not close(ref.soft_threshold(p, lrs[k] * l1s[k]), p, 0, 0):
                    raise Mistake("a parameter whose grad is None was left alone: the penalty applies to it all the "
                                  "same (p.grad is None only says the loss did not use it at this step), so "
                                  "l1_prox_ thresholds every parameter of a group with 'l1'", key="prox_skips_no_grad",
                                  plain="a parameter without a gradient was not thresholded")
            _mistake(named.diagnose_prox(before, after, grads, lrs, l1s), "the parameters after l1_prox_ differ")
            for k, (p, a, lr, l1) in enumerate(zip(before, after, lrs, l1s)):
                p = np.asarray(p, float)
                if _prox_right(p, a, lr, l1):
                    continue
                if not l1:
                    _mistake(named.PROX_ALL_GROUPS, "a group without 'l1' changed")
                t = lr * l1
                want = ref.soft_threshold(p, t)
                clear = np.abs(np.abs(p) - t) > 1e-5 * max(t, 1e-12)   # float32 rounding at the edge aside
                expect(np.asarray(a, float)[clear], want[clear], f"parameter {k + 1} after l1_prox_",
                       rtol=1e-5, atol=1e-7)
                if np.any(np.asarray(a, float)[clear & (want == 0)] != 0):
                    _mistake(named.SIGN_NOT_PROX, "entries that should be 0 are not exactly 0")
        if not rep["leaf"]:
            raise Failure("the parameters are no longer trainable leaf tensors: change them in place under "
                          "torch.no_grad()")
        if not rep["dtype_kept"]:
            raise Failure("the parameters changed dtype: keep each parameter's dtype")
        return ruled_out()   # passed: the mistakes whose models fail here are not the answer's
    return Scenario(label, [probe(f"{LASSO}:prox_probe", "l1_prox_", spec)], check, covers)


P5 = Part("l1_prox_", contract={
    "threshold": "each parameter of a group with 'l1' becomes soft_threshold(p, group['lr'] * group['l1'])",
    "zeros": "entries with |p| <= lr * l1 become exactly 0",
    "no_l1": "groups without an 'l1' entry, or with l1 = 0, are left unchanged",
    "per_group": "each group uses its own lr and l1",
    "lr_now": "the lr a group has when l1_prox_ is called (a scheduler may have changed it)",
    "in_place": "in place: the same parameter tensors, still trainable leaves",
    "float64": "float32 (torch's default) and float64 parameters, dtype kept",
    "no_grad": "every parameter of a group with 'l1', one whose grad is None included (the penalty still applies)",
    "steps": "called after every optimizer.step() of a training loop, with momentum",
}, scenarios=[
    _prox_scenario("one group of float32 parameters",
                   {"seed": 1, "lr": 0.1, "groups": [{"shapes": [[4, 6], [3]], "l1": 0.8}]},
                   ("threshold", "zeros", "in_place", "float64")),
    _prox_scenario("two groups with their own lr and l1",
                   {"seed": 2, "lr": 0.1, "groups": [{"shapes": [[5, 3]], "l1": 0.5},
                                                     {"shapes": [[6]], "l1": 2.0, "lr": 0.02}]},
                   ("per_group",)),
    _prox_scenario("a group without 'l1' and one with l1 = 0",
                   {"seed": 3, "lr": 0.1, "groups": [{"shapes": [[4, 4]], "l1": 0.6}, {"shapes": [[4]]},
                                                     {"shapes": [[2, 3]], "l1": 0.0}]},
                   ("no_l1",)),
    _prox_scenario("the lr changed after the optimizer was made",
                   {"seed": 4, "lr": 0.1, "new_lr": 0.4, "steps": 2,
                    "groups": [{"shapes": [[5, 5]], "l1": 0.3}]}, ("lr_now",)),
    _prox_scenario("float64 parameters",
                   {"seed": 5, "lr": 0.05, "dtype": "float64", "groups": [{"shapes": [[3, 7]], "l1": 1.5}]},
                   ("float64",)),
    _prox_scenario("a parameter without a gradient (p.grad is None) in a group with l1",
                   {"seed": 7, "lr": 0.1, "no_grad": [1], "groups": [{"shapes": [[4, 5], [5]], "l1": 0.7}]},
                   ("no_grad",)),
    _prox_scenario("a training loop of 8 steps with momentum",
                   {"seed": 6, "lr": 0.1, "momentum": 0.9, "steps": 8,
                    "groups": [{"shapes": [[6, 4]], "l1": 0.2}, {"shapes": [[4]]}]}, ("steps",)),
], credit=[
    Credit("the soft-threshold by lr * l1, in place, over a training loop", 1.25,
           ("threshold", "zeros", "in_place", "steps")),
    Credit("each group on its own, groups without l1 left alone", 0.5, ("per_group", "no_l1")),
    Credit("the current lr, float64 parameters, parameters without a gradient", 0.25, ("lr_now", "float64", "no_grad")),
])


# The parts the student writes themselves: not scikit-learn's solvers (the tests' oracles), torch's softshrink, or
# coursekit's wrappers of them.
_SOLVERS = ("linear_model", "Lasso", "LassoCV", "LassoLars", "ElasticNet", "ElasticNetCV", "enet_path",
            "sklearn_lasso")
P1.static = forbid(("softshrink", "Softshrink", "_exact_soft_threshold"), "soft_threshold")
P3.static = forbid(_SOLVERS, "lasso_fit")
P4.static = forbid(_SOLVERS, "lasso_path")

PARTS = {
    "test_soft_threshold": P1,
    "test_lasso_loss_and_subgradient": P2,
    "test_lasso_fit": P3,
    "test_lasso_path": P4,
    "test_l1_prox": P5,
}
