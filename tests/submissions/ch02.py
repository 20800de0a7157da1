"""Chapter 2 (L2 regularization and weight decay): known-buggy and correct answers.

Each buggy answer reproduces one mistake of COURSE.md's list and says, in ``visible`` and ``hidden``,
the words the visible test's message and the grader's feedback must contain. The correct ones are the
ways of writing an answer that must keep full marks (loops, other solvers, names that merely contain
``inv``).
"""

from __future__ import annotations

from submissions import Variant

# ---------------------------------------------------------------- buggy answers
L2_PENALTY_DOUBLE = '''
def l2_penalty(w, lam):
    return lam * float(np.sum(np.asarray(w) ** 2))
'''
GRAD_WITHOUT_PENALTY = '''
def ridge_loss_and_grad(w, b, X, y, lam):
    n = X.shape[0]
    r = X @ w + b - y
    return float(r @ r / (2 * n) + 0.5 * lam * w @ w), X.T @ r / n, float(r.sum() / n)
'''
LOSS_WITHOUT_PENALTY = '''
def ridge_loss_and_grad(w, b, X, y, lam):
    n = X.shape[0]
    r = X @ w + b - y
    return float(r @ r / (2 * n)), X.T @ r / n + lam * w, float(r.sum() / n)
'''
BIAS_PENALIZED_GRAD = '''
def ridge_loss_and_grad(w, b, X, y, lam):
    n = X.shape[0]
    r = X @ w + b - y
    return float(r @ r / (2 * n) + 0.5 * lam * (w @ w + b * b)), X.T @ r / n + lam * w, float(r.sum() / n + lam * b)
'''
GRAD_TWICE_LAM = '''
def ridge_loss_and_grad(w, b, X, y, lam):
    n = X.shape[0]
    r = X @ w + b - y
    return float(r @ r / (2 * n) + lam * w @ w), X.T @ r / n + 2 * lam * w, float(r.sum() / n)
'''
RIDGE_INTERCEPT_PENALIZED = '''
def ridge_fit(X, y, lam):
    n, d = X.shape
    Xa = np.hstack([X, np.ones((n, 1))])
    wa = np.linalg.solve(Xa.T @ Xa + n * lam * np.eye(d + 1), Xa.T @ y)
    return wa[:-1], float(wa[-1])
'''
RIDGE_INV = '''
def ridge_fit(X, y, lam):
    n, d = X.shape
    xm, ym = X.mean(axis=0), y.mean()
    Xc, yc = X - xm, y - ym
    w = np.linalg.inv(Xc.T @ Xc + n * lam * np.eye(d)) @ (Xc.T @ yc)
    return w, float(ym - xm @ w)
'''
DECAY_EVERYTHING = '''
def decay_param_groups(net, weight_decay):
    return [{"params": list(net.parameters()), "weight_decay": weight_decay}]
'''
DECAY_NORMS = '''
def decay_param_groups(net, weight_decay):
    decay = [p for n, p in net.named_parameters() if not n.endswith("bias")]
    rest = [p for n, p in net.named_parameters() if n.endswith("bias")]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
'''
SELECT_ON_TRAIN = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    errors = []
    for lam in lams:
        w, b = ridge_fit(X_train, y_train, lam)
        errors.append(np.mean((X_train @ w + b - y_train) ** 2))
    return float(lams[int(np.argmin(errors))]), np.array(errors)
'''
PENALTY_NORM = '''
def l2_penalty(w, lam):
    return 0.5 * lam * float(np.linalg.norm(np.ravel(w)))
'''
PENALTY_L1 = '''
def l2_penalty(w, lam):
    return 0.5 * lam * float(np.sum(np.abs(w)))
'''
RIDGE_LAM_NOT_N_LAM = '''
def ridge_fit(X, y, lam):
    xm, ym = X.mean(axis=0), y.mean()
    Xc, yc = X - xm, y - ym
    w = np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ yc)
    return w, float(ym - xm @ w)
'''
RIDGE_NO_INTERCEPT = '''
def ridge_fit(X, y, lam):
    n, d = X.shape
    return np.linalg.solve(X.T @ X + n * lam * np.eye(d), X.T @ y), 0.0
'''
SELECT_INDEX = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    errors = np.array([np.mean((X_val @ w + b - y_val) ** 2)
                       for w, b in (ridge_fit(X_train, y_train, lam) for lam in lams)])
    return int(np.argmin(errors)), errors
'''
RIDGE_INV_IMPORTED = '''
from scipy.linalg import inv


def ridge_fit(X, y, lam):
    n, d = X.shape
    xm, ym = X.mean(axis=0), y.mean()
    Xc, yc = X - xm, y - ym
    w = inv(Xc.T @ Xc + n * lam * np.eye(d)) @ Xc.T @ yc
    return w, float(ym - xm @ w)
'''
RIDGE_PINV = '''
def ridge_fit(X, y, lam):
    n, d = X.shape
    xm, ym = X.mean(axis=0), y.mean()
    Xc, yc = X - xm, y - ym
    w = np.linalg.pinv(Xc.T @ Xc + n * lam * np.eye(d)) @ (Xc.T @ yc)
    return w, float(ym - xm @ w)
'''
RIDGE_MATRIX_I = '''
def ridge_fit(X, y, lam):
    n, d = X.shape
    xm, ym = X.mean(axis=0), y.mean()
    Xc, yc = X - xm, y - ym
    A = np.asmatrix(Xc.T @ Xc + n * lam * np.eye(d))
    w = np.asarray(A.I @ (Xc.T @ yc)).ravel()
    return w, float(ym - xm @ w)
'''
RIDGE_SOLVE_IDENTITY = '''
def ridge_fit(X, y, lam):
    n, d = X.shape
    xm, ym = X.mean(axis=0), y.mean()
    Xc, yc = X - xm, y - ym
    A_inverse = np.linalg.solve(Xc.T @ Xc + n * lam * np.eye(d), np.eye(d))
    w = A_inverse @ (Xc.T @ yc)
    return w, float(ym - xm @ w)
'''
DECAY_BATCHNORM_ONLY = '''
def decay_param_groups(net, weight_decay):
    decay, rest = [], []
    for module in net.modules():
        for name, p in module.named_parameters(recurse=False):
            if isinstance(module, nn.BatchNorm1d) or name == "bias":
                rest.append(p)
            else:
                decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
'''

# ---------------------------------------------------------------- correct answers, written differently
PENALTY_LOOP = '''
def l2_penalty(w, lam):
    total = 0.0
    for value in np.ravel(w):
        total += value * value
    return lam / 2 * total
'''
RIDGE_LSTSQ = '''
def ridge_fit(X, y, lam):
    n, d = X.shape
    xm, ym = X.mean(axis=0), y.mean()
    A = np.vstack([X - xm, np.sqrt(n * lam) * np.eye(d)])
    rhs = np.concatenate([y - ym, np.zeros(d)])
    w = np.linalg.lstsq(A, rhs, rcond=None)[0]
    return w, float(ym - xm @ w)
'''
RIDGE_AUGMENTED_LSTSQ = '''
def ridge_fit(X, y, lam):
    # Least squares on [X 1] with sqrt(n lam) I rows under w only: QR on the data, no Gram matrix to cancel.
    n, d = X.shape
    A = np.vstack([np.hstack([X, np.ones((n, 1))]), np.hstack([np.sqrt(n * lam) * np.eye(d), np.zeros((d, 1))])])
    sol = np.linalg.lstsq(A, np.concatenate([y, np.zeros(d)]), rcond=None)[0]
    return sol[:-1], float(sol[-1])
'''
DECAY_FEW_NORM_TYPES = '''
def decay_param_groups(net, weight_decay):
    norm = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)
    skip = {id(p) for m in net.modules() if isinstance(m, norm) for p in m.parameters()}
    params = [p for p in net.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1 and id(p) not in skip]
    rest = [p for p in params if not (p.ndim > 1 and id(p) not in skip)]
    return [{"params": rest, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]
'''
LOSS_GRAD_EINSUM = '''
def ridge_loss_and_grad(w, b, X, y, lam):
    n = len(y)
    residual = np.einsum("ij,j->i", X, w) + b - y
    loss = 0.5 * np.mean(residual ** 2) + lam / 2 * np.dot(w, w)
    grad_w = np.einsum("ij,i->j", X, residual) / n + lam * w
    return loss, grad_w, np.mean(residual)
'''
SELECT_LOOP = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    best_lam, best_err, errors = None, np.inf, np.empty(len(lams))
    for i, lam in enumerate(lams):
        w, b = ridge_fit(X_train, y_train, lam)
        pred = X_val @ w + b
        errors[i] = ((pred - y_val) ** 2).sum() / len(y_val)
        if errors[i] < best_err:
            best_lam, best_err = lam, errors[i]
    return best_lam, errors
'''
RIDGE_KKT_SYSTEM = '''
def ridge_fit(X, y, lam):
    # The normal equations for (w, b) together, with the penalty on w only: exact in exact arithmetic, but the
    # uncentred Gram matrix cancels when the features have large means (the text asks to centre first).
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    P = n * lam * np.eye(d + 1)
    P[-1, -1] = 0.0
    sol = np.linalg.solve(A.T @ A + P, A.T @ y)
    return sol[:-1], float(sol[-1])
'''
PENALTY_VDOT = '''
def l2_penalty(w, lam):
    w = np.asarray(w, dtype=float)
    return float(lam * np.vdot(w, w) / 2)
'''
LOSS_GRAD_LOOPS = '''
def ridge_loss_and_grad(w, b, X, y, lam):
    n, d = X.shape
    loss, grad_w, grad_b = 0.0, np.zeros(d), 0.0
    for i in range(n):
        r = float(X[i] @ w + b - y[i])
        loss += r * r / (2 * n)
        grad_w += r * X[i] / n
        grad_b += r / n
    return loss + lam / 2 * float(w @ w), grad_w + lam * w, grad_b
'''
DECAY_TIED_TWICE = '''
def decay_param_groups(net, weight_decay):
    decay, other = [], []
    for module_name, module in net.named_modules():
        is_norm = "Norm" in type(module).__name__
        for name, p in module.named_parameters(recurse=False):
            (other if is_norm or name == "bias" else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": other, "weight_decay": 0}]
'''
SELECT_COMPREHENSION = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    fits = [ridge_fit(X_train, y_train, lam) for lam in lams]
    errors = np.array([np.mean((X_val @ w + b - y_val) ** 2) for w, b in fits])
    return lams[np.argmin(errors)], errors
'''
RIDGE_NAMED_INV = '''
def ridge_fit(X, y, lam):
    n, d = X.shape
    inv = 1.0 / n  # each sample's weight in the averages; no inverse matrix anywhere
    x_mean, y_mean = inv * X.sum(axis=0), inv * y.sum()
    Xc, yc = X - x_mean, y - y_mean
    w = np.linalg.solve(inv * (Xc.T @ Xc) + lam * np.eye(d), inv * (Xc.T @ yc))
    return w, float(y_mean - x_mean @ w)
'''
RIDGE_CHO_SOLVE = '''
from scipy.linalg import cho_factor, cho_solve


def ridge_fit(X, y, lam):
    """Ridge through a Cholesky factorization: the system is solved, never inverted (no np.linalg.inv)."""
    n, d = X.shape
    inv_n = 1.0 / n
    x_mean = X.mean(axis=0)
    Xc = X - x_mean
    w = cho_solve(cho_factor(inv_n * Xc.T @ Xc + lam * np.eye(d)), inv_n * Xc.T @ (y - y.mean()))
    return w, float(y.mean() - x_mean @ w)
'''

# ---------------------------------------------------------------- buggy on the contract's edge cases
PENALTY_PER_COLUMN = '''
def l2_penalty(w, lam):
    return 0.5 * lam * np.sum(np.asarray(w) ** 2, axis=0)
'''
GRAD_RESIDUAL_WITHOUT_B = '''
def ridge_loss_and_grad(w, b, X, y, lam):
    n = len(y)
    r = X @ w - y
    return float(r @ r / (2 * n) + lam / 2 * w @ w), X.T @ r / n + lam * w, float(r.mean())
'''
DECAY_BY_NDIM_ONLY = '''
def decay_param_groups(net, weight_decay):
    # "matrices are weights, vectors are biases and norm scales": wrong for a LayerNorm over two axes
    params = [p for p in net.parameters() if p.requires_grad]
    return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
'''
SELECT_SORTED = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    lams = np.sort(np.asarray(lams, dtype=float))
    errors = np.array([np.mean((X_val @ w + b - y_val) ** 2)
                       for w, b in (ridge_fit(X_train, y_train, lam) for lam in lams)])
    return float(lams[np.argmin(errors)]), errors
'''
SELECT_FIRST_OF_GRID = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    errors = np.array([np.mean((X_val @ w + b - y_val) ** 2)
                       for w, b in (ridge_fit(X_train, y_train, lam) for lam in lams)])
    # stops at the first lambda whose successor is worse: right only when the errors fall, then rise
    for i in range(len(lams) - 1):
        if errors[i + 1] > errors[i]:
            return float(lams[i]), errors
    return float(lams[-1]), errors
'''
SELECT_MASK = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    errors = np.array([np.mean((X_val @ w + b - y_val) ** 2)
                       for w, b in (ridge_fit(X_train, y_train, lam) for lam in lams)])
    return float(lams[errors == errors.min()][0]), errors
'''

# ---------------------------------------------------------------- more correct answers
DECAY_BY_TYPE = '''
def decay_param_groups(net, weight_decay):
    norm_ids = {id(p) for m in net.modules() if "Norm" in type(m).__name__ for p in m.parameters(recurse=False)}
    decay, rest = [], []
    for name, p in net.named_parameters():  # each parameter once, even when two layers share it
        if p.requires_grad:
            (rest if id(p) in norm_ids or name.endswith("bias") else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
'''
DECAY_BY_ISINSTANCE = '''
def decay_param_groups(net, weight_decay):
    norms = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, nn.InstanceNorm1d, nn.InstanceNorm2d,
             nn.InstanceNorm3d, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)
    keep = {id(p) for m in net.modules() if isinstance(m, norms) for p in m.parameters(recurse=False)}
    keep |= {id(p) for n, p in net.named_parameters() if n.split(".")[-1] == "bias"}
    unique = list({id(p): p for p in net.parameters()}.values())
    return [{"params": [p for p in unique if id(p) not in keep], "weight_decay": weight_decay},
            {"params": [p for p in unique if id(p) in keep], "weight_decay": 0.0}]
'''
SELECT_ARGMIN_LIST = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    errors = []
    for lam in list(lams):
        w, b = ridge_fit(X_train, y_train, lam)
        errors.append(float(np.mean(np.square(X_val @ w + b - y_val))))
    i = min(range(len(errors)), key=errors.__getitem__)
    return list(lams)[i], np.asarray(errors)
'''

# ---------------------------------------------------------------- issue 23: the edges of each contract
# State: the caller's weights squared in place (np.asarray does not copy a float64 array)
PENALTY_IN_PLACE = '''
def l2_penalty(w, lam):
    w = np.asarray(w, dtype=float)
    w **= 2
    return lam / 2 * float(w.sum())
'''
# State: X and y centred in place, which changes the caller's data
RIDGE_CENTRE_IN_PLACE = '''
def ridge_fit(X, y, lam):
    n, d = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    X -= x_mean
    y -= y_mean
    w = np.linalg.solve(X.T @ X + n * lam * np.eye(d), X.T @ y)
    return w, float(y_mean - x_mean @ w)
'''
# Composition: only the top-level layers are looked at, so a norm layer nested in a container is decayed
DECAY_TOP_LEVEL = '''
def decay_param_groups(net, weight_decay):
    norms = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, nn.InstanceNorm1d, nn.InstanceNorm2d,
             nn.InstanceNorm3d, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm, nn.LocalResponseNorm)
    decay, rest, seen = [], [], set()
    for layer in net.children():
        for name, p in layer.named_parameters():
            if id(p) in seen:
                continue
            seen.add(id(p))
            (rest if isinstance(layer, norms) or name.endswith("bias") else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
'''
# Real code (Hugging Face's recipe): names containing "bias" or "LayerNorm.weight"; torch's own names are "1.weight"
DECAY_HF_NAMES = '''
def decay_param_groups(net, weight_decay):
    no_decay = ["bias", "LayerNorm.weight"]
    named = list(net.named_parameters())
    return [{"params": [p for n, p in named if not any(nd in n for nd in no_decay)], "weight_decay": weight_decay},
            {"params": [p for n, p in named if any(nd in n for nd in no_decay)], "weight_decay": 0.0}]
'''
# Ties: sorting (error, lambda) pairs breaks a tie by the smaller lambda, not the first in lams
SELECT_SORTED_PAIRS = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    errors = []
    for lam in lams:
        w, b = ridge_fit(X_train, y_train, lam)
        errors.append(np.mean((X_val @ w + b - y_val) ** 2))
    return float(sorted(zip(errors, lams))[0][1]), np.array(errors)
'''
# Repeated values in a grid: a dict keyed by lambda keeps one entry per value
SELECT_DICT = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    errors = {}
    for lam in lams:
        w, b = ridge_fit(X_train, y_train, lam)
        errors[float(lam)] = float(np.mean((X_val @ w + b - y_val) ** 2))
    return min(errors, key=errors.get), np.array(list(errors.values()))
'''
# Types: a list where the text names a numpy array
SELECT_LIST_ERRORS = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    errors = []
    for lam in lams:
        w, b = ridge_fit(X_train, y_train, lam)
        errors.append(float(np.mean((X_val @ w + b - y_val) ** 2)))
    return lams[errors.index(min(errors))], errors
'''
# Correct on the edges: a list [best_lam, val_errors] where the text says a tuple
SELECT_AS_LIST = '''
def select_lambda(X_train, y_train, X_val, y_val, lams):
    errors = np.array([np.mean((X_val @ w + b - y_val) ** 2)
                       for w, b in (ridge_fit(X_train, y_train, lam) for lam in lams)])
    return [lams[int(np.argmin(errors))], errors]
'''
# Correct on the edges: every parameter (frozen ones included) by module type, the groups as a tuple
DECAY_TUPLE_ALL_PARAMS = '''
def decay_param_groups(net, weight_decay):
    keep = set()
    for module in net.modules():
        for name, p in module.named_parameters(recurse=False):
            if "Norm" in type(module).__name__ or name == "bias":
                keep.add(id(p))
    params = list({id(p): p for p in net.parameters()}.values())
    return ({"params": [p for p in params if id(p) not in keep], "weight_decay": weight_decay},
            {"params": [p for p in params if id(p) in keep], "weight_decay": 0.0})
'''
# Correct on the edges: ridge with copies made explicitly, and the intercept from the residual mean
RIDGE_COPIES = '''
def ridge_fit(X, y, lam):
    X, y = np.array(X, dtype=float), np.array(y, dtype=float)   # copies: centring below stays local
    n, d = X.shape
    x_mean = X.mean(axis=0)
    X -= x_mean
    w = np.linalg.solve(X.T @ X + n * lam * np.eye(d), X.T @ (y - y.mean()))
    return w, float(np.mean(y - (X + x_mean) @ w))
'''

# ---------------------------------------------------------------- resembles a named mistake on one scenario only
# The n x n system for more features than samples, w = X^T (X X^T + n lam I)^-1 y, on X and y left uncentred: that w
# is exactly the one fitted without an intercept (the model of "you fitted without an intercept"), though b is fitted.
# The scenarios that model fails (b = 0 there) go through the centred branch and pass.
RIDGE_DUAL_UNCENTRED = '''
def ridge_fit(X, y, lam):
    n, d = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    if d > n:   # more features than samples: solve the n x n system instead, w = X^T (X X^T + n lam I)^-1 y
        w = X.T @ np.linalg.solve(X @ X.T + n * lam * np.eye(n), y)
    else:
        Xc, yc = X - x_mean, y - y_mean
        w = np.linalg.solve(Xc.T @ Xc + n * lam * np.eye(d), Xc.T @ yc)
    return w, float(y_mean - x_mean @ w)
'''


P1, P2, P3, P4, P5 = ("test_l2_penalty", "test_ridge_loss_and_grad", "test_ridge_fit", "test_decay_param_groups",
                      "test_select_lambda")
INVERSE = "do not form the inverse matrix"

# The order matters to tests that grade a slice of BUGGY (test_grading_scale, _dask, test_gradebook_postgres):
# add new variants at the end.
BUGGY = [
    Variant("bug-penalty-lam-not-half", "l2_penalty", L2_PENALTY_DOUBLE, P1,
            visible="you computed lam * ||w||^2; the course's penalty is lam/2 * ||w||^2",
            hidden="the course's penalty is lam/2 * ||w||^2"),
    Variant("bug-grad-missing-penalty", "ridge_loss_and_grad", GRAD_WITHOUT_PENALTY, P2,
            visible="grad_w is missing the penalty's gradient lam * w",
            hidden="grad_w is missing the penalty's gradient lam * w"),
    Variant("bug-loss-missing-penalty", "ridge_loss_and_grad", LOSS_WITHOUT_PENALTY, P2,
            visible="the loss is missing the penalty lam/2 * ||w||^2",
            hidden="the loss is missing the penalty lam/2 * ||w||^2"),
    # loss and gradient agree with each other, so finite differences alone would pass it
    Variant("bug-bias-penalized", "ridge_loss_and_grad", BIAS_PENALIZED_GRAD, P2,
            visible="the loss penalizes the intercept b too", hidden="the intercept must not be penalized"),
    # a consistent lam * ||w||^2 / 2 * lam * w pair: also invisible to finite differences
    Variant("bug-grad-two-lam", "ridge_loss_and_grad", GRAD_TWICE_LAM, P2,
            visible="the loss uses lam * ||w||^2; the course's penalty is lam/2 * ||w||^2",
            hidden="the loss uses lam * ||w||^2; the course's penalty is lam/2 * ||w||^2"),
    Variant("bug-ridge-intercept-penalized", "ridge_fit", RIDGE_INTERCEPT_PENALIZED, P3,
            visible="so the intercept is penalized", hidden="the intercept is penalized"),
    Variant("bug-ridge-inv", "ridge_fit", RIDGE_INV, P3,
            visible=f"{INVERSE} (np.linalg.inv on line", hidden=f"{INVERSE} (np.linalg.inv on line"),
    Variant("bug-decay-biases", "decay_param_groups", DECAY_EVERYTHING, P4,
            visible="biases are decayed", hidden="biases are decayed"),
    Variant("bug-decay-norms", "decay_param_groups", DECAY_NORMS, P4,
            visible="normalization parameters are decayed (1.weight of LayerNorm, 4.weight of BatchNorm1d)",
            hidden="normalization parameters are decayed"),
    Variant("bug-select-on-train", "select_lambda", SELECT_ON_TRAIN, P5,
            visible="these are errors on the training data; measure each fit on X_val, y_val",
            hidden="the errors are measured on the training data; use the validation data"),
    Variant("bug-penalty-norm-not-squared", "l2_penalty", PENALTY_NORM, P1,
            visible="you used the norm ||w||, not its square", hidden="you used the norm ||w||, not its square"),
    Variant("bug-penalty-l1", "l2_penalty", PENALTY_L1, P1,
            visible="that is an L1 penalty", hidden="that is an L1 penalty"),
    Variant("bug-ridge-lam-not-n-lam", "ridge_fit", RIDGE_LAM_NOT_N_LAM, P3,
            visible="you used lam where the objective needs n * lam",
            hidden="you used lam where the objective needs n * lam"),
    Variant("bug-ridge-no-intercept", "ridge_fit", RIDGE_NO_INTERCEPT, P3,
            visible="ridge_fit returns b = 0: fit the intercept too", hidden="you fitted without an intercept"),
    Variant("bug-select-returns-index", "select_lambda", SELECT_INDEX, P5,
            visible="you returned its index", hidden="return the value of the best lambda, not its index"),
    Variant("bug-ridge-inv-imported", "ridge_fit", RIDGE_INV_IMPORTED, P3,
            visible=f"{INVERSE} (inv on line 8, which is scipy.linalg.inv)",
            hidden=f"{INVERSE} (from scipy.linalg import inv on line 1)"),
    Variant("bug-ridge-pinv", "ridge_fit", RIDGE_PINV, P3,
            visible=f"{INVERSE} (np.linalg.pinv on line", hidden=f"{INVERSE} (np.linalg.pinv on line"),
    Variant("bug-ridge-matrix-I", "ridge_fit", RIDGE_MATRIX_I, P3,
            visible="A.I on line 6, the inverse of an np.matrix", hidden="A.I on line 6, the inverse of an np.matrix"),
    Variant("bug-ridge-solve-identity", "ridge_fit", RIDGE_SOLVE_IDENTITY, P3,
            visible="np.linalg.solve(..., np.eye(d)) on line 5, which computes the whole inverse matrix",
            hidden="np.linalg.solve(..., np.eye(d)) on line 5, which computes the whole inverse matrix"),
    Variant("bug-decay-batchnorm-only", "decay_param_groups", DECAY_BATCHNORM_ONLY, P4,
            visible="normalization parameters are decayed (1.weight of LayerNorm)", hidden="normalization parameters are decayed"),
    # contract items the first hidden tests never built (issue 10): more norm types, 2-D norm weights, tied
    # weights, unsorted and list grids, weight arrays of more dimensions, the intercept in the residual
    Variant("bug-decay-few-norm-types", "decay_param_groups", DECAY_FEW_NORM_TYPES, P4,
            hidden="Fails with: LayerNorm and RMSNorm over two axes"),
    Variant("bug-decay-by-ndim-only", "decay_param_groups", DECAY_BY_NDIM_ONLY, P4,
            hidden="may have more than one dimension"),
    Variant("bug-decay-tied-weight-twice", "decay_param_groups", DECAY_TIED_TWICE, P4,
            hidden="a parameter appears twice (a weight shared by two layers"),
    Variant("bug-select-sorts-grid", "select_lambda", SELECT_SORTED, P5,
            hidden="val_errors come in the sorted order of lams, not in the order given"),
    Variant("bug-select-first-local-minimum", "select_lambda", SELECT_FIRST_OF_GRID, P5,
            hidden="best_lam is not the lambda with the smallest of them"),
    Variant("bug-select-boolean-mask", "select_lambda", SELECT_MASK, P5,
            hidden="select_lambda raised TypeError: only integer scalar arrays"),
    Variant("bug-penalty-per-column", "l2_penalty", PENALTY_PER_COLUMN, P1,
            hidden="the penalty must sum over every entry of w and return one number"),
    Variant("bug-grad-residual-without-b", "ridge_loss_and_grad", GRAD_RESIDUAL_WITHOUT_B, P2,
            visible=None, hidden="the residual must include the intercept: X @ w + b - y"),
    # issue 23: the edges of each contract, one kind at a time
    Variant("bug-penalty-squares-w-in-place", "l2_penalty", PENALTY_IN_PLACE, P1, visible=None,
            hidden="changed its input arrays in place"),
    Variant("bug-ridge-centres-in-place", "ridge_fit", RIDGE_CENTRE_IN_PLACE, P3, visible=None,
            hidden="changed its input arrays in place"),
    Variant("bug-ridge-uncentred-kkt", "ridge_fit", RIDGE_KKT_SYSTEM, P3, visible=None,
            hidden="lose their accuracy on features with large means"),
    Variant("bug-decay-top-level-layers-only", "decay_param_groups", DECAY_TOP_LEVEL, P4, visible=None,
            hidden="layers nested in Sequential, ModuleList, ModuleDict and custom blocks"),
    Variant("bug-decay-hf-name-patterns", "decay_param_groups", DECAY_HF_NAMES, P4,
            visible="normalization parameters are decayed", hidden="normalization parameters are decayed"),
    Variant("bug-select-tie-smallest-lambda", "select_lambda", SELECT_SORTED_PAIRS, P5, visible=None,
            hidden="on a tie, return the FIRST of the tied lambdas"),
    Variant("bug-select-dict-by-lambda", "select_lambda", SELECT_DICT, P5, visible=None,
            hidden="a lambda given twice"),
    Variant("bug-select-errors-as-list", "select_lambda", SELECT_LIST_ERRORS, P5, visible=None,
            hidden="val_errors must be a numpy array"),
    # not named: a passing scenario rules out the mistake its one failing scenario resembles
    Variant("bug-ridge-dual-uncentred", "ridge_fit", RIDGE_DUAL_UNCENTRED, P3, visible=None,
            hidden="Fails with: more features than samples", not_named="you fitted without an intercept"),
]

CORRECT = [
    Variant("ok-penalty-loop", "l2_penalty", PENALTY_LOOP, P1),
    Variant("ok-ridge-augmented-lstsq", "ridge_fit", RIDGE_AUGMENTED_LSTSQ, P3),
    Variant("ok-ridge-lstsq", "ridge_fit", RIDGE_LSTSQ, P3),
    Variant("ok-loss-grad-einsum", "ridge_loss_and_grad", LOSS_GRAD_EINSUM, P2),
    Variant("ok-select-loop", "select_lambda", SELECT_LOOP, P5),
    Variant("ok-penalty-vdot", "l2_penalty", PENALTY_VDOT, P1),
    Variant("ok-loss-grad-loops", "ridge_loss_and_grad", LOSS_GRAD_LOOPS, P2),
    Variant("ok-select-comprehension", "select_lambda", SELECT_COMPREHENSION, P5),
    # identifiers named inv / inv_n, and np.linalg.inv named in a docstring, are not an inverse matrix
    Variant("ok-ridge-named-inv", "ridge_fit", RIDGE_NAMED_INV, P3),
    Variant("ok-ridge-cho-solve", "ridge_fit", RIDGE_CHO_SOLVE, P3),
    Variant("ok-decay-by-type-name", "decay_param_groups", DECAY_BY_TYPE, P4),
    Variant("ok-decay-by-isinstance", "decay_param_groups", DECAY_BY_ISINSTANCE, P4),
    Variant("ok-select-python-lists", "select_lambda", SELECT_ARGMIN_LIST, P5),
    # issue 23: correct answers on the edges
    Variant("ok-select-as-list", "select_lambda", SELECT_AS_LIST, P5),
    Variant("ok-decay-tuple-all-params", "decay_param_groups", DECAY_TUPLE_ALL_PARAMS, P4),
    Variant("ok-ridge-explicit-copies", "ridge_fit", RIDGE_COPIES, P3),
]
