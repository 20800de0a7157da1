"""Chapter 3 (L1 regularization and the lasso): known-buggy and correct answers.

Each buggy answer reproduces one mistake of COURSE.md's list or of the chapter's issue (threshold lam instead of
lr * lam, a wrong subgradient at 0, a penalized intercept, a fixed step that ignores L, the threshold applied to the
gradient, sign() where the proximal step is needed) or breaks one item of a part's contract, and says in
``visible`` and ``hidden`` the words the visible test's message and the grader's feedback must contain. The correct
ones are other valid ways of writing each part (ISTA, FISTA, coordinate descent on the Gram matrix, torch's
softshrink, ``p.data`` assignment) and must keep full marks.
"""

from __future__ import annotations

from submissions import Variant

SOFT_SIGN = '''
def soft_threshold(x, t):
    x = np.asarray(x, dtype=float)
    return x - t * np.sign(x)
'''
SOFT_ONE_SIDED = '''
def soft_threshold(x, t):
    return np.maximum(np.asarray(x, dtype=float) - t, 0.0)
'''
SOFT_HARD = '''
def soft_threshold(x, t):
    x = np.asarray(x, dtype=float)
    return np.where(np.abs(x) > t, x, 0.0)
'''
SOFT_CLIP = '''
def soft_threshold(x, t):
    x = np.asarray(x, dtype=float)
    return x - np.clip(x, -t, t)
'''
SOFT_TORCH = '''
def soft_threshold(x, t):
    out = torch.nn.functional.softshrink(torch.as_tensor(x, dtype=torch.float64), float(t)).numpy()
    return out if np.ndim(x) else float(out)
'''
SOFT_WHERE = '''
def soft_threshold(x, t):
    x = np.asarray(x, dtype=float)
    return np.where(x > t, x - t, np.where(x < -t, x + t, 0.0))
'''
SUB_SIGN0 = '''
def lasso_loss_and_subgradient(w, b, X, y, alpha):
    n = X.shape[0]
    r = X @ w + b - y
    return float(r @ r / (2 * n) + alpha * np.abs(w).sum()), X.T @ r / n + alpha * np.sign(w), float(r.mean())
'''
SUB_PLUS = '''
def lasso_loss_and_subgradient(w, b, X, y, alpha):
    n = X.shape[0]
    r = X @ w + b - y
    s = np.where(w >= 0, 1.0, -1.0)
    return float(r @ r / (2 * n) + alpha * np.abs(w).sum()), X.T @ r / n + alpha * s, float(r.mean())
'''
SUB_HALF = '''
def lasso_loss_and_subgradient(w, b, X, y, alpha):
    n = X.shape[0]
    r = X @ w + b - y
    g = X.T @ r / n
    g_w = np.where(w != 0, g + alpha * np.sign(w), soft_threshold(g, alpha))
    return float(r @ r / (2 * n) + alpha / 2 * np.abs(w).sum()), g_w, float(r.mean())
'''
SUB_BIAS = '''
def lasso_loss_and_subgradient(w, b, X, y, alpha):
    n = X.shape[0]
    r = X @ w + b - y
    g = X.T @ r / n
    g_w = np.where(w != 0, g + alpha * np.sign(w), soft_threshold(g, alpha))
    return float(r @ r / (2 * n) + alpha * (np.abs(w).sum() + abs(b))), g_w, float(r.mean() + alpha * np.sign(b))
'''
SUB_LOOP = '''
def lasso_loss_and_subgradient(w, b, X, y, alpha):
    n, d = X.shape
    r = X @ w + b - y
    grad = X.T @ r / n
    g_w = np.zeros(d)
    for j in range(d):
        if w[j] > 0:
            g_w[j] = grad[j] + alpha
        elif w[j] < 0:
            g_w[j] = grad[j] - alpha
        elif grad[j] > alpha:
            g_w[j] = grad[j] - alpha
        elif grad[j] < -alpha:
            g_w[j] = grad[j] + alpha
    return 0.5 * np.mean(r ** 2) + alpha * np.sum(np.abs(w)), g_w, np.mean(r)
'''
SUB_CLIP = '''
def lasso_loss_and_subgradient(w, b, X, y, alpha):
    n = len(y)
    r = X @ w + b - y
    grad = X.T @ r / n
    # the subdifferential is [grad + alpha * lo, grad + alpha * hi]; take its point nearest 0
    lo = np.where(w == 0, -1.0, np.sign(w))
    hi = np.where(w == 0, 1.0, np.sign(w))
    g_w = np.clip(0.0, grad + alpha * lo, grad + alpha * hi)
    return float(np.dot(r, r) / (2 * n) + alpha * np.linalg.norm(w, 1)), g_w, float(np.sum(r) / n)
'''
FIT_INTERCEPT_PENALIZED = '''
def lasso_fit(X, y, alpha, w_init=None, max_iter=100_000, tol=1e-12):
    n, d = X.shape
    Xa = np.hstack([X, np.ones((n, 1))])
    L = np.linalg.eigvalsh(Xa.T @ Xa / n)[-1]
    w = np.zeros(d + 1) if w_init is None else np.append(w_init, 0.0)
    for _ in range(max_iter):
        new = soft_threshold(w - Xa.T @ (Xa @ w - y) / (n * L), alpha / L)
        done = np.max(np.abs(new - w)) <= tol * max(1.0, np.max(np.abs(new)))
        w = new
        if done:
            break
    return w[:-1], float(w[-1])
'''
ISTA_BODY = '''
def lasso_fit(X, y, alpha, w_init=None, max_iter=100_000, tol=1e-12):
    n, d = X.shape
    xm, ym = X.mean(axis=0), y.mean()
    Xc, yc = X - xm, y - ym
    L = np.linalg.eigvalsh(Xc.T @ Xc / n)[-1]
    w = np.zeros(d) if w_init is None else np.array(w_init, dtype=float)
    for _ in range(max_iter):
        grad = Xc.T @ (Xc @ w - yc) / n
        new = UPDATE
        done = np.max(np.abs(new - w)) <= tol * max(1.0, np.max(np.abs(new)))
        w = new
        if done:
            break
    return w, float(ym - xm @ w)
'''
FIT_ISTA = ISTA_BODY.replace("UPDATE", "soft_threshold(w - grad / L, alpha / L)")
FIT_FIXED_STEP = ISTA_BODY.replace("UPDATE", "soft_threshold(w - 0.1 * grad, 0.1 * alpha)")
FIT_THRESHOLD_ALPHA = ISTA_BODY.replace("UPDATE", "soft_threshold(w - grad / L, alpha)")
FIT_THRESHOLD_GRADIENT = ISTA_BODY.replace("UPDATE", "w - soft_threshold(grad, alpha) / L")
FIT_SUBGRADIENT = ISTA_BODY.replace("UPDATE", "w - (grad + alpha * np.sign(w)) / L")
FIT_NO_INTERCEPT = '''
def lasso_fit(X, y, alpha, w_init=None, max_iter=100_000, tol=1e-12):
    n, d = X.shape
    L = np.linalg.eigvalsh(X.T @ X / n)[-1]
    w = np.zeros(d) if w_init is None else np.array(w_init, dtype=float)
    for _ in range(max_iter):
        new = soft_threshold(w - X.T @ (X @ w - y) / (n * L), alpha / L)
        done = np.max(np.abs(new - w)) <= tol * max(1.0, np.max(np.abs(new)))
        w = new
        if done:
            break
    return w, 0.0
'''
FIT_FISTA = '''
def lasso_fit(X, y, alpha, w_init=None, max_iter=100_000, tol=1e-12):
    """FISTA (Beck & Teboulle 2009) on centred data, with a restart when the objective would rise."""
    n, d = X.shape
    xm, ym = X.mean(axis=0), y.mean()
    Xc, yc = X - xm, y - ym
    L = np.linalg.norm(Xc, 2) ** 2 / n
    w = np.zeros(d) if w_init is None else np.array(w_init, dtype=float)
    z, t = w.copy(), 1.0
    for _ in range(max_iter):
        new = soft_threshold(z - Xc.T @ (Xc @ z - yc) / (n * L), alpha / L)
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        if (z - new) @ (new - w) > 0:     # adaptive restart (O'Donoghue & Candes)
            z, t_new = new.copy(), 1.0
        else:
            z = new + (t - 1) / t_new * (new - w)
        done = np.max(np.abs(new - w)) <= tol * max(1.0, np.max(np.abs(new)))
        w, t = new, t_new
        if done:
            break
    # a few plain ISTA steps to land exactly on the zeros
    for _ in range(50):
        w = soft_threshold(w - Xc.T @ (Xc @ w - yc) / (n * L), alpha / L)
    return w, float(ym - xm @ w)
'''
FIT_CD_GRAM = '''
def lasso_fit(X, y, alpha, w_init=None, max_iter=100_000, tol=1e-12):
    # coordinate descent with the Gram matrix of the centred data
    n, d = X.shape
    xm, ym = X.mean(axis=0), y.mean()
    Xc = X - xm
    G, c = Xc.T @ Xc / n, Xc.T @ (y - ym) / n
    w = np.zeros(d) if w_init is None else np.asarray(w_init, dtype=float).copy()
    for _ in range(max_iter):
        w_old = w.copy()
        for j in range(d):
            if G[j, j] > 0:
                rho = c[j] - G[j] @ w + G[j, j] * w[j]
                w[j] = np.sign(rho) * max(abs(rho) - alpha, 0.0) / G[j, j]
        if np.max(np.abs(w - w_old)) <= tol * max(1.0, np.max(np.abs(w))):
            break
    return w, float(ym - xm @ w)
'''
PATH_COLD = '''
def lasso_path(X, y, alphas):
    alphas = np.sort(np.asarray(alphas, dtype=float))[::-1]
    return alphas, np.column_stack([lasso_fit(X, y, a)[0] for a in alphas])
'''
PATH_UNSORTED = '''
def lasso_path(X, y, alphas):
    alphas = np.asarray(alphas, dtype=float)
    coefs, w = [], None
    for alpha in alphas:
        w, _ = lasso_fit(X, y, alpha, w_init=w)
        coefs.append(w)
    return alphas, np.array(coefs).T
'''
PATH_TRANSPOSED = '''
def lasso_path(X, y, alphas):
    alphas = np.sort(np.asarray(alphas, dtype=float))[::-1]
    coefs, w = [], None
    for alpha in alphas:
        w, _ = lasso_fit(X, y, alpha, w_init=w)
        coefs.append(w)
    return alphas, np.array(coefs)
'''
PATH_LIST = '''
def lasso_path(X, y, alphas):
    order = sorted((float(a) for a in alphas), reverse=True)
    coefs, w = [], None
    for alpha in order:
        w, b = lasso_fit(X, y, alpha, w)           # w_init passed by position
        coefs.append(np.array(w))
    return np.array(order), np.stack(coefs, axis=1)
'''
PATH_INDEX = '''
def lasso_path(X, y, alphas):
    alphas = np.asarray(alphas, dtype=float)
    idx = np.argsort(-alphas)
    coefs = np.zeros((X.shape[1], len(alphas)))
    w = np.zeros(X.shape[1])
    for k, i in enumerate(idx):
        w, _ = lasso_fit(X, y, alphas[i], w_init=w)
        coefs[:, k] = w
    return alphas[idx], coefs
'''
PROX_LAM = '''
def l1_prox_(optimizer):
    with torch.no_grad():
        for group in optimizer.param_groups:
            if group.get("l1", 0):
                for p in group["params"]:
                    p.copy_(torch.sign(p) * torch.clamp(p.abs() - group["l1"], min=0.0))
'''
PROX_SIGN = '''
def l1_prox_(optimizer):
    with torch.no_grad():
        for group in optimizer.param_groups:
            if group.get("l1", 0):
                for p in group["params"]:
                    p.sub_(group["lr"] * group["l1"] * torch.sign(p))
'''
PROX_NOT_IN_PLACE = '''
def l1_prox_(optimizer):
    with torch.no_grad():
        for group in optimizer.param_groups:
            if group.get("l1", 0):
                for p in group["params"]:
                    p = torch.sign(p) * torch.clamp(p.abs() - group["lr"] * group["l1"], min=0.0)
'''
PROX_GRADIENT = '''
def l1_prox_(optimizer):
    with torch.no_grad():
        for group in optimizer.param_groups:
            if group.get("l1", 0):
                for p in group["params"]:
                    p.sub_(group["lr"] * torch.nn.functional.softshrink(p.grad, group["l1"]))
'''
PROX_ALL_GROUPS = '''
def l1_prox_(optimizer):
    lam = optimizer.param_groups[0]["l1"]
    with torch.no_grad():
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.copy_(torch.nn.functional.softshrink(p, group["lr"] * lam))
'''
PROX_FIXED_LR = '''
def l1_prox_(optimizer):
    lr = optimizer.defaults["lr"]
    with torch.no_grad():
        for group in optimizer.param_groups:
            if group.get("l1", 0):
                for p in group["params"]:
                    p.copy_(torch.nn.functional.softshrink(p, lr * group["l1"]))
'''
PROX_SKIPS_NO_GRAD = '''
@torch.no_grad()
def l1_prox_(optimizer):
    for group in optimizer.param_groups:
        lam = group.get("l1", 0.0)
        if lam:
            for p in group["params"]:
                if p.grad is None:      # the optimizers' idiom, wrong here: the penalty does not need a gradient
                    continue
                p.copy_(torch.sign(p) * torch.clamp(p.abs() - group["lr"] * lam, min=0.0))
'''
PROX_DATA = '''
def l1_prox_(optimizer):
    for group in optimizer.param_groups:
        lam = group.get("l1")
        if lam:
            for p in group["params"]:
                p.data = torch.nn.functional.softshrink(p.data, group["lr"] * lam)
'''
PROX_MASK = '''
@torch.no_grad()
def l1_prox_(optimizer):
    for group in optimizer.param_groups:
        t = group["lr"] * group.get("l1", 0.0)
        if t > 0:
            for p in group["params"]:
                shrunk = p.abs().sub_(t).clamp_(min=0)
                p.copy_(torch.where(shrunk > 0, p.sign() * shrunk, torch.zeros_like(p)))
'''

SOFT_KEEPS_FLOAT32 = '''
def soft_threshold(x, t):
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(float)
    return np.sign(x) * np.maximum(np.abs(x) - x.dtype.type(t), 0)   # float32 in, float32 out, like softshrink
'''
SOFT_ONLY_1D = '''
def soft_threshold(x, t):
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = np.sign(x[i]) * max(abs(x[i]) - t, 0.0)
    return out
'''
PATH_SQUEEZED = '''
def lasso_path(X, y, alphas):
    alphas = np.sort(np.asarray(alphas, dtype=float))[::-1]
    coefs, w = [], None
    for alpha in alphas:
        w, _ = lasso_fit(X, y, alpha, w_init=w)
        coefs.append(w)
    return alphas, np.squeeze(np.array(coefs).T)
'''

FIT_SKLEARN = '''
def lasso_fit(X, y, alpha, w_init=None, max_iter=100_000, tol=1e-12):
    from sklearn.linear_model import Lasso
    m = Lasso(alpha=alpha, tol=1e-14, max_iter=max_iter).fit(X, y)
    return m.coef_, float(m.intercept_)
'''

# ---------------------------------------------------------------- issue 23: the edges of each contract
# Types: integer input; np.zeros_like keeps the integer dtype and truncates the shrunken values
SOFT_ZEROS_LIKE = '''
def soft_threshold(x, t):
    x = np.asarray(x)
    out = np.zeros_like(x)
    keep = np.abs(x) > t
    out[keep] = x[keep] - t * np.sign(x[keep])
    return out
'''
# State: the caller's array shrunk in place (np.asarray does not copy a float64 array)
SOFT_IN_PLACE = '''
def soft_threshold(x, t):
    x = np.asarray(x, dtype=float)
    small = np.abs(x) <= t
    x -= t * np.sign(x)
    x[small] = 0.0
    return x
'''
# Degenerate input: coordinate descent divides by the norm of a constant (centred: zero) column
FIT_CD_NO_GUARD = '''
def lasso_fit(X, y, alpha, w_init=None, max_iter=100_000, tol=1e-12):
    n, d = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    w = np.zeros(d) if w_init is None else np.array(w_init, dtype=float)
    col_sq = np.sum(Xc ** 2, axis=0) / n
    residual = yc - Xc @ w
    for _ in range(max_iter):
        largest = 0.0
        for j in range(d):
            rho = Xc[:, j] @ residual / n + col_sq[j] * w[j]
            new = float(soft_threshold(rho, alpha)) / col_sq[j]
            if new != w[j]:
                residual -= Xc[:, j] * (new - w[j])
                largest = max(largest, abs(new - w[j]))
                w[j] = new
        if largest <= tol * max(1.0, np.max(np.abs(w))):
            break
    return w, float(y_mean - x_mean @ w)
'''
# State: w_init updated in place (aliased, not copied), and X centred in place
FIT_ALIASED = '''
def lasso_fit(X, y, alpha, w_init=None, max_iter=100_000, tol=1e-12):
    n, d = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    X -= x_mean
    yc = y - y_mean
    w = np.zeros(d) if w_init is None else w_init
    col_sq = np.sum(X ** 2, axis=0) / n
    residual = yc - X @ w
    for _ in range(max_iter):
        largest = 0.0
        for j in range(d):
            new = 0.0 if col_sq[j] == 0 else float(soft_threshold(X[:, j] @ residual / n + col_sq[j] * w[j],
                                                                  alpha)) / col_sq[j]
            if new != w[j]:
                residual -= X[:, j] * (new - w[j])
                largest = max(largest, abs(new - w[j]))
                w[j] = new
        if largest <= tol * max(1.0, np.max(np.abs(w))):
            break
    return w, float(y_mean - x_mean @ w)
'''
# Repeated values in a grid: np.unique drops an alpha given twice (and sorts)
PATH_UNIQUE = '''
def lasso_path(X, y, alphas):
    alphas = np.unique(alphas)[::-1]
    coefs, w = [], None
    for alpha in alphas:
        w, _ = lasso_fit(X, y, alpha, w_init=w)
        coefs.append(w)
    return alphas, np.array(coefs).T
'''
# State: the caller's alphas sorted in place
PATH_SORT_IN_PLACE = '''
def lasso_path(X, y, alphas):
    alphas = np.asarray(alphas, dtype=float)
    alphas.sort()
    alphas = alphas[::-1]
    coefs = np.empty((X.shape[1], len(alphas)))
    w = None
    for k, alpha in enumerate(alphas):
        w, _ = lasso_fit(X, y, alpha, w_init=w)
        coefs[:, k] = w
    return alphas, coefs
'''
# Types: the alphas as a Python list where the text (and scikit-learn) gives an array
PATH_LIST_ALPHAS = '''
def lasso_path(X, y, alphas):
    order = sorted(alphas, reverse=True)
    coefs, w = [], None
    for alpha in order:
        w, _ = lasso_fit(X, y, alpha, w_init=w)
        coefs.append(w)
    return order, np.column_stack(coefs)
'''
# State over time: a mask cached in the optimizer's state keeps a weight at 0 once it was thresholded to 0
PROX_CACHED_MASK = '''
def l1_prox_(optimizer):
    with torch.no_grad():
        for group in optimizer.param_groups:
            lam = group.get("l1", 0.0)
            if not lam:
                continue
            for p in group["params"]:
                state = optimizer.state[p]
                mask = state.get("l1_mask", torch.ones_like(p))
                p.copy_(torch.sign(p) * torch.clamp(p.abs() - group["lr"] * lam, min=0.0) * mask)
                state["l1_mask"] = (p != 0).to(p.dtype)      # "once pruned, stays pruned"
'''
# Correct on the edges: an explicit float copy, then shrunk in place with masks
SOFT_COPY_MASKS = '''
def soft_threshold(x, t):
    out = np.array(x, dtype=float, copy=True)
    out[np.abs(out) <= t] = 0.0
    out[out > t] -= t
    out[out < -t] += t
    return out if out.ndim else float(out)
'''

# ---------------------------------------------------------------- resembles a named mistake on one scenario only
# A shortcut at or above alpha_max that returns b = 0 instead of mean(y). Its w (all zeros) is also what thresholding
# by alpha instead of alpha / L gives there (diagnose_lasso_fit compares w), so that mistake is the one its single
# failing scenario names; every other scenario, where that model fails, it passes.
FIT_ALPHA_MAX_B0 = '''
def lasso_fit(X, y, alpha, w_init=None, max_iter=100_000, tol=1e-12):
    n, d = X.shape
    xm, ym = X.mean(axis=0), y.mean()
    Xc, yc = X - xm, y - ym
    if alpha >= np.max(np.abs(Xc.T @ yc)) / n:   # at or above alpha_max every weight is 0: no need to iterate
        return np.zeros(d), 0.0
    L = np.linalg.eigvalsh(Xc.T @ Xc / n)[-1]
    w = np.zeros(d) if w_init is None else np.array(w_init, dtype=float)
    for _ in range(max_iter):
        new = soft_threshold(w - Xc.T @ (Xc @ w - yc) / (n * L), alpha / L)
        done = np.max(np.abs(new - w)) <= tol * max(1.0, np.max(np.abs(new)))
        w = new
        if done:
            break
    return w, float(ym - xm @ w)
'''


P1, P2, P3, P4, P5 = ("test_soft_threshold", "test_lasso_loss_and_subgradient", "test_lasso_fit", "test_lasso_path",
                      "test_l1_prox")
SIGN = "sign() used where the proximal step is needed"

# The order matters to tests that grade a slice of BUGGY: add new variants at the end.
BUGGY = [
    Variant("bug-soft-sign", "soft_threshold", SOFT_SIGN, P1, visible=SIGN, hidden=SIGN),
    Variant("bug-soft-one-sided", "soft_threshold", SOFT_ONE_SIDED, P1,
            visible="only positive entries are handled", hidden="only positive entries are handled"),
    Variant("bug-soft-hard", "soft_threshold", SOFT_HARD, P1,
            visible="that is hard-thresholding", hidden="that is hard-thresholding"),
    Variant("bug-soft-only-1d", "soft_threshold", SOFT_ONLY_1D, P1, visible=None, hidden="a 2-D array"),
    Variant("bug-subgradient-sign0", "lasso_loss_and_subgradient", SUB_SIGN0, P2,
            visible="wrong subgradient at 0: np.sign(0) = 0", hidden="wrong subgradient at 0: np.sign(0) = 0"),
    Variant("bug-subgradient-plus", "lasso_loss_and_subgradient", SUB_PLUS, P2,
            visible="wrong subgradient at 0: you took sign(0) = +1",
            hidden="wrong subgradient at 0: you took sign(0) = +1"),
    Variant("bug-subgradient-half-penalty", "lasso_loss_and_subgradient", SUB_HALF, P2,
            visible="not alpha/2 * ||w||_1", hidden="not alpha/2 * ||w||_1"),
    Variant("bug-subgradient-bias-penalized", "lasso_loss_and_subgradient", SUB_BIAS, P2,
            visible="the intercept is penalized", hidden="the intercept is penalized"),
    Variant("bug-fit-intercept-penalized", "lasso_fit", FIT_INTERCEPT_PENALIZED, P3,
            visible="the intercept is penalized", hidden="the intercept is penalized"),
    Variant("bug-fit-fixed-step", "lasso_fit", FIT_FIXED_STEP, P3,
            visible="the solver diverges on badly scaled features: a fixed step size ignores L",
            hidden="the solver diverges on badly scaled features: a fixed step size ignores L"),
    Variant("bug-fit-threshold-alpha", "lasso_fit", FIT_THRESHOLD_ALPHA, P3,
            visible="the threshold is alpha, not step * alpha", hidden="the threshold is alpha, not step * alpha"),
    Variant("bug-fit-threshold-gradient", "lasso_fit", FIT_THRESHOLD_GRADIENT, P3,
            visible="the threshold was applied to the gradient instead of the iterate",
            hidden="the threshold was applied to the gradient instead of the iterate"),
    Variant("bug-fit-subgradient-sign", "lasso_fit", FIT_SUBGRADIENT, P3, visible=SIGN, hidden=SIGN),
    Variant("bug-fit-no-intercept", "lasso_fit", FIT_NO_INTERCEPT, P3, visible="b is 0", hidden="b is 0"),
    Variant("bug-path-cold-starts", "lasso_path", PATH_COLD, P4,
            visible="the path is not warm-started", hidden="the path is not warm-started"),
    Variant("bug-path-unsorted", "lasso_path", PATH_UNSORTED, P4,
            visible="return the alphas in decreasing order", hidden="return the alphas in decreasing order"),
    Variant("bug-path-transposed", "lasso_path", PATH_TRANSPOSED, P4,
            visible="returns (n_features, n_alphas)", hidden="returns (n_features, n_alphas)"),
    Variant("bug-path-squeezed", "lasso_path", PATH_SQUEEZED, P4, visible=None, hidden="a grid of one alpha"),
    Variant("bug-prox-lam-not-lr-lam", "l1_prox_", PROX_LAM, P5,
            visible="the threshold is lam, not lr * lam", hidden="the threshold is lam, not lr * lam"),
    Variant("bug-prox-sign", "l1_prox_", PROX_SIGN, P5, visible=SIGN, hidden=SIGN),
    Variant("bug-prox-not-in-place", "l1_prox_", PROX_NOT_IN_PLACE, P5,
            visible="the parameters did not change: update them in place",
            hidden="the parameters did not change: update them in place"),
    Variant("bug-prox-on-gradient", "l1_prox_", PROX_GRADIENT, P5,
            visible="applied to the gradient instead of the iterate",
            hidden="applied to the gradient instead of the iterate"),
    Variant("bug-prox-all-groups", "l1_prox_", PROX_ALL_GROUPS, P5,
            visible="a group without an 'l1' entry was changed", hidden="a group without an 'l1' entry was changed"),
    Variant("bug-prox-skips-no-grad", "l1_prox_", PROX_SKIPS_NO_GRAD, P5, visible=None,
            hidden="a parameter whose grad is None was left alone"),
    Variant("bug-prox-fixed-lr", "l1_prox_", PROX_FIXED_LR, P5, visible=None,
            hidden="the lr changed after the optimizer was made"),
    # the library the tests compare with, called instead of written (right numbers, no work)
    Variant("bug-soft-softshrink", "soft_threshold", SOFT_TORCH, P1, visible=None,
            hidden="soft_threshold must be written by you"),
    Variant("bug-fit-sklearn-lasso", "lasso_fit", FIT_SKLEARN, P3, visible=None,
            hidden="lasso_fit must be written by you"),
    # issue 23: the edges of each contract, one kind at a time
    Variant("bug-soft-zeros-like-integers", "soft_threshold", SOFT_ZEROS_LIKE, P1, visible=None,
            hidden="the result was cut to integers"),
    Variant("bug-soft-in-place", "soft_threshold", SOFT_IN_PLACE, P1, visible=None,
            hidden="changed its input arrays in place"),
    Variant("bug-fit-cd-constant-feature", "lasso_fit", FIT_CD_NO_GUARD, P3, visible=None,
            hidden="the weight of a constant feature is NaN or inf"),
    Variant("bug-fit-aliased-inputs", "lasso_fit", FIT_ALIASED, P3, visible=None,
            hidden="changed its input arrays in place"),
    Variant("bug-path-unique-alphas", "lasso_path", PATH_UNIQUE, P4, visible=None,
            hidden="an alpha given twice must keep both"),
    Variant("bug-path-sorts-in-place", "lasso_path", PATH_SORT_IN_PLACE, P4, visible=None,
            hidden="changed its input arrays in place"),
    Variant("bug-path-list-alphas", "lasso_path", PATH_LIST_ALPHAS, P4, visible=None,
            hidden="return alphas as a numpy array"),
    Variant("bug-prox-cached-mask", "l1_prox_", PROX_CACHED_MASK, P5, visible=None,
            hidden="a training loop of 8 steps with momentum"),
    # not named: a passing scenario rules out the mistake its one failing scenario resembles
    Variant("bug-fit-alpha-max-b0", "lasso_fit", FIT_ALPHA_MAX_B0, P3, visible=None,
            hidden="Fails with: alpha above alpha_max", not_named="the threshold is alpha, not step * alpha"),
]

CORRECT = [
    Variant("ok-soft-keeps-float32", "soft_threshold", SOFT_KEEPS_FLOAT32, P1),
    Variant("ok-soft-clip", "soft_threshold", SOFT_CLIP, P1),
    Variant("ok-soft-where", "soft_threshold", SOFT_WHERE, P1),
    Variant("ok-subgradient-loop", "lasso_loss_and_subgradient", SUB_LOOP, P2),
    Variant("ok-subgradient-clip", "lasso_loss_and_subgradient", SUB_CLIP, P2),
    Variant("ok-fit-ista", "lasso_fit", FIT_ISTA, P3),
    Variant("ok-fit-fista", "lasso_fit", FIT_FISTA, P3),
    Variant("ok-fit-cd-gram", "lasso_fit", FIT_CD_GRAM, P3),
    Variant("ok-path-list", "lasso_path", PATH_LIST, P4),
    Variant("ok-path-argsort", "lasso_path", PATH_INDEX, P4),
    Variant("ok-prox-data", "l1_prox_", PROX_DATA, P5),
    Variant("ok-prox-mask", "l1_prox_", PROX_MASK, P5),
    # issue 23: correct answers on the edges
    Variant("ok-soft-copy-masks", "soft_threshold", SOFT_COPY_MASKS, P1),
]
