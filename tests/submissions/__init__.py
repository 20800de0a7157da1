"""Build submissions for the grading tests: the solution, the blank student copy,
and known-buggy or correct-alternative answers spliced into the solution notebook.

Each variant replaces the source of one answer cell (by nbgrader grade_id). The
buggy ones must lose points on exactly the test cell ``part``; the correct
alternatives must keep full marks.
"""

from __future__ import annotations

import functools
import inspect
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.course import SOURCE
from autograder.hidden import mistakes


@dataclass(frozen=True)
class Variant:
    name: str        # becomes the student id
    answer: str      # grade_id of the answer cell that is replaced
    code: str        # its new source
    part: str        # grade_id of the test cell that must lose (buggy) / keep (correct) points


def _mistake(opt: str, bug: str) -> Variant:
    """A self-contained answer cell: the known-wrong optimizer of autograder/hidden/mistakes.py.

    (Its source is pasted in: the sandbox cannot import the grader's packages.)
    """
    family = getattr(mistakes, f"Buggy{opt}")
    bases = [mistakes._Buggy] + [c for c in reversed(family.__mro__) if c.__name__.startswith("Buggy")]
    code = "import torch\nfrom torch.optim import Optimizer\n\n\n" + "\n\n".join(
        inspect.getsource(c) for c in dict.fromkeys(bases))
    code += f"\n\nclass {opt}({family.__name__}):\n    bug = {bug!r}\n"
    name = f"bug-{opt.lower()}-{bug.replace('_', '-')}" if bug else f"ok-{opt.lower()}-mistakes-module-correct-path"
    return Variant(name, opt.lower(), code, f"test_{opt.lower()}")


def _reference_package(opt: str) -> Variant:
    """Correct alternative: the reference package's implementation, pasted as the answer."""
    from solutions import optimizers

    code = inspect.getsource(optimizers).replace("from __future__ import annotations\n", "")
    return Variant(f"ok-{opt.lower()}-reference-package", opt.lower(), code, f"test_{opt.lower()}")


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

# Correct answers written differently from the reference: they must keep full marks.
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
DECAY_BY_NDIM = '''
def decay_param_groups(net, weight_decay):
    norm = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)
    skip = {id(p) for m in net.modules() if isinstance(m, norm) for p in m.parameters()}
    params = [p for p in net.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1 and id(p) not in skip]
    rest = [p for p in params if not (p.ndim > 1 and id(p) not in skip)]
    return [{"params": rest, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]
'''
ADAM_TENSOR_OPS = '''
class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = torch.tensor(0.0)
                    st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
                st["step"] += 1
                t = st["step"].item()
                g = p.grad + group["weight_decay"] * p if group["weight_decay"] else p.grad
                st["m"] = b1 * st["m"] + (1 - b1) * g
                st["v"] = b2 * st["v"] + (1 - b2) * g * g
                denom = (st["v"] / (1 - b2 ** t)).sqrt() + group["eps"]
                p.sub_(group["lr"] / (1 - b1 ** t) * st["m"] / denom)
        return loss
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
    # The normal equations for (w, b) together, with the penalty on w only.
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    P = n * lam * np.eye(d + 1)
    P[-1, -1] = 0.0
    sol = np.linalg.solve(A.T @ A + P, A.T @ y)
    return sol[:-1], float(sol[-1])
'''

WRAPS_TORCH = '''
from torch.optim import AdamW as _TorchAdamW


class AdamW(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self._inner = _TorchAdamW(self.param_groups)

    def step(self, closure=None):
        return self._inner.step(closure)
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
DECAY_BY_NAME = '''
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

VARIANTS = {
    "ch02_weight_decay": {
        "buggy": [
            Variant("bug-penalty-lam-not-half", "l2_penalty", L2_PENALTY_DOUBLE, "test_l2_penalty"),
            Variant("bug-grad-missing-penalty", "ridge_loss_and_grad", GRAD_WITHOUT_PENALTY, "test_ridge_loss_and_grad"),
            Variant("bug-loss-missing-penalty", "ridge_loss_and_grad", LOSS_WITHOUT_PENALTY, "test_ridge_loss_and_grad"),
            Variant("bug-bias-penalized", "ridge_loss_and_grad", BIAS_PENALIZED_GRAD, "test_ridge_loss_and_grad"),
            Variant("bug-grad-two-lam", "ridge_loss_and_grad", GRAD_TWICE_LAM, "test_ridge_loss_and_grad"),
            Variant("bug-ridge-intercept-penalized", "ridge_fit", RIDGE_INTERCEPT_PENALIZED, "test_ridge_fit"),
            Variant("bug-ridge-inv", "ridge_fit", RIDGE_INV, "test_ridge_fit"),
            Variant("bug-decay-biases", "decay_param_groups", DECAY_EVERYTHING, "test_decay_param_groups"),
            Variant("bug-decay-norms", "decay_param_groups", DECAY_NORMS, "test_decay_param_groups"),
            Variant("bug-select-on-train", "select_lambda", SELECT_ON_TRAIN, "test_select_lambda"),
            Variant("bug-penalty-norm-not-squared", "l2_penalty", PENALTY_NORM, "test_l2_penalty"),
            Variant("bug-penalty-l1", "l2_penalty", PENALTY_L1, "test_l2_penalty"),
            Variant("bug-ridge-lam-not-n-lam", "ridge_fit", RIDGE_LAM_NOT_N_LAM, "test_ridge_fit"),
            Variant("bug-ridge-no-intercept", "ridge_fit", RIDGE_NO_INTERCEPT, "test_ridge_fit"),
            Variant("bug-select-returns-index", "select_lambda", SELECT_INDEX, "test_select_lambda"),
        ],
        "correct": [
            Variant("ok-penalty-loop", "l2_penalty", PENALTY_LOOP, "test_l2_penalty"),
            Variant("ok-ridge-lstsq", "ridge_fit", RIDGE_LSTSQ, "test_ridge_fit"),
            Variant("ok-decay-by-ndim", "decay_param_groups", DECAY_BY_NDIM, "test_decay_param_groups"),
            Variant("ok-loss-grad-einsum", "ridge_loss_and_grad", LOSS_GRAD_EINSUM, "test_ridge_loss_and_grad"),
            Variant("ok-select-loop", "select_lambda", SELECT_LOOP, "test_select_lambda"),
            Variant("ok-ridge-kkt-system", "ridge_fit", RIDGE_KKT_SYSTEM, "test_ridge_fit"),
            Variant("ok-penalty-vdot", "l2_penalty", PENALTY_VDOT, "test_l2_penalty"),
            Variant("ok-loss-grad-loops", "ridge_loss_and_grad", LOSS_GRAD_LOOPS, "test_ridge_loss_and_grad"),
            Variant("ok-decay-by-name", "decay_param_groups", DECAY_BY_NAME, "test_decay_param_groups"),
            Variant("ok-select-comprehension", "select_lambda", SELECT_COMPREHENSION, "test_select_lambda"),
        ],
    },
    "ch09_adaptive_methods": {
        # every known mistake of autograder/hidden/mistakes.py
        "buggy": [_mistake(opt, bug) for opt, bugs in mistakes.MISTAKES.items() for bug in bugs]
        + [Variant("bug-adam-subclasses-torch", "adam", "class Adam(torch.optim.Adam):\n    pass\n", "test_adam"),
           Variant("bug-adamw-wraps-torch", "adamw", WRAPS_TORCH, "test_adamw")],
        "correct": [Variant("ok-adam-out-of-place", "adam", ADAM_TENSOR_OPS, "test_adam")]
        + [_mistake(opt, "") for opt in mistakes.MISTAKES]
        + [_reference_package(opt) for opt in mistakes.MISTAKES],
    },
}


def notebook_name(assignment: str) -> str:
    (nb,) = sorted(p.stem for p in (SOURCE / assignment).glob("*.ipynb"))
    return nb


def write_submission(submitted: Path, student: str, assignment: str, nb: nbformat.NotebookNode) -> Path:
    path = submitted / student / assignment / f"{notebook_name(assignment)}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@functools.lru_cache(maxsize=None)
def released_notebook(assignment: str) -> str:
    """The student version as nbgrader releases it (JSON text), made once per test session."""
    from autograder.release import release

    out = Path(tempfile.mkdtemp(prefix="released-"))
    (path,) = release(out, [assignment])
    return path.read_text()


def solution_notebook(assignment: str) -> nbformat.NotebookNode:
    """What a student who solved everything submits: the released notebook with the source's
    solutions typed into the answer cells and their own words in the written answers."""
    nb = nbformat.reads(released_notebook(assignment), as_version=4)
    source = nbformat.read(SOURCE / assignment / f"{notebook_name(assignment)}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        text = answers[meta["grade_id"]].source
        if cell.cell_type == "code":
            cell.source = "\n".join(ln for ln in text.splitlines()
                                    if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
        else:
            cell.source = "My answer: " + text.split("\n", 1)[1]
    return nb


def with_answer(assignment: str, grade_id: str, code: str) -> nbformat.NotebookNode:
    nb = solution_notebook(assignment)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(cells) == 1 and cells[0].metadata["nbgrader"]["solution"], f"no answer cell {grade_id}"
    cells[0].source = code.strip("\n")
    return nb


def build_batch(submitted: Path, assignment: str, released: Path) -> None:
    """solution + blank + every variant of the assignment, as nbgrader's submitted/ layout."""
    nb_name = notebook_name(assignment)
    write_submission(submitted, "solution", assignment, solution_notebook(assignment))
    (submitted / "blank" / assignment).mkdir(parents=True)
    shutil.copyfile(released / assignment / f"{nb_name}.ipynb", submitted / "blank" / assignment / f"{nb_name}.ipynb")
    for kind in ("buggy", "correct"):
        for v in VARIANTS[assignment][kind]:
            write_submission(submitted, v.name, assignment, with_answer(assignment, v.answer, v.code))


# ---------------------------------------------------------------- notebook surgery for attack tests
def cell_index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def set_source(nb, grade_id: str, code: str):
    nb.cells[cell_index(nb, grade_id)].source = code.strip("\n")
    return nb


def insert_after(nb, grade_id: str, code: str):
    nb.cells.insert(cell_index(nb, grade_id) + 1, nbformat.v4.new_code_cell(code.strip("\n")))
    return nb


def solution_and_buggy(sub: Path, assignment: str, buggy: slice) -> Path:
    """A small batch: the solution plus a slice of the buggy variants, in nbgrader's layout."""
    write_submission(sub, "solution", assignment, solution_notebook(assignment))
    for v in VARIANTS[assignment]["buggy"][buggy]:
        write_submission(sub, v.name, assignment, with_answer(assignment, v.answer, v.code))
    return sub
