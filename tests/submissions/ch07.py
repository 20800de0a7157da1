"""Chapter 7 (gradient descent, SGD and mini-batch SGD): known-buggy and correct answers.

Each buggy answer reproduces one named mistake (COURSE.md's list and issue 13's) or breaks one contract item
(None gradients, maximize, parameter groups, a generator of batches, ...), and says in ``visible`` and ``hidden``
the words the visible test's message and the grader's feedback must contain. The correct ones are other valid
ways of writing each part.
"""

from __future__ import annotations

from coursekit.checks.sgd import MESSAGES
from submissions import Variant

P1, P2, P3, P4 = "test_minibatches", "test_quadratic_step_sizes", "test_sgd", "test_train_epoch"

# ---------------------------------------------------------------- part 1: minibatches
MB_UNPAIRED = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    rng = np.random.default_rng() if rng is None else rng
    ox = rng.permutation(n) if shuffle else np.arange(n)
    oy = rng.permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield X[ox[start:start + batch_size]], y[oy[start:start + batch_size]]
'''
MB_DROPS_LAST = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    rng = np.random.default_rng() if rng is None else rng
    order = rng.permutation(n) if shuffle else np.arange(n)
    for k in range(n // batch_size):
        idx = order[k * batch_size:(k + 1) * batch_size]
        yield X[idx], y[idx]
'''
MB_SAME_ORDER = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    order = np.random.default_rng(0).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
'''
MB_COPIED_RNG = '''
import copy

def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    rng = copy.deepcopy(rng) if rng is not None else np.random.default_rng(42)
    order = rng.permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
'''
MB_SHUFFLES_IN_PLACE = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    rng = np.random.default_rng() if rng is None else rng
    if shuffle:
        state = rng.bit_generator.state
        rng.shuffle(X)
        rng.bit_generator.state = state
        rng.shuffle(y)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield X[start:start + batch_size], y[start:start + batch_size]
'''
MB_EMPTY_BATCH = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    rng = np.random.default_rng() if rng is None else rng
    order = rng.permutation(n) if shuffle else np.arange(n)
    num = n // batch_size if drop_last else n // batch_size + 1
    for k in range(num):
        idx = order[k * batch_size:(k + 1) * batch_size]
        yield X[idx], y[idx]
'''
MB_IGNORES_DROP_LAST = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    rng = np.random.default_rng() if rng is None else rng
    order = rng.permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
'''
MB_NUMPY_ONLY = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    rng = np.random.default_rng() if rng is None else rng
    order = rng.permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
'''
MB_NONE_FIXED_SEED = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    if rng is None:
        rng = np.random.default_rng(0)
    order = rng.permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
'''
MB_WITH_REPLACEMENT = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    rng = np.random.default_rng() if rng is None else rng
    order = rng.choice(n, size=n) if shuffle else np.arange(n)   # with replacement
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
'''
# correct alternatives
MB_LIST = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    if shuffle:
        order = (np.random.default_rng() if rng is None else rng).permutation(n)
    else:
        order = np.arange(n)
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    if drop_last and len(batches[-1]) < batch_size:
        batches = batches[:-1]
    return [(X[b], y[b]) for b in batches]
'''
MB_SHUFFLE_INDEX = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = X.shape[0]
    idx = np.arange(n)
    if shuffle:
        if rng is None:
            rng = np.random.default_rng()
        rng.shuffle(idx)          # the same numbers as rng.permutation(n)
    num = n // batch_size if drop_last else -(-n // batch_size)
    for k in range(num):
        sel = idx[k * batch_size:min(n, (k + 1) * batch_size)]
        yield X[sel], y[sel]
'''
MB_ARRAY_SPLIT = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(y)
    order = (rng if rng is not None else np.random.default_rng()).permutation(n) if shuffle else np.arange(n)
    cuts = list(range(batch_size, n, batch_size))
    for part in np.split(order, cuts):
        if drop_last and len(part) < batch_size:
            break
        yield X[part], y[part]
'''

# ---------------------------------------------------------------- part 2: quadratic_step_sizes
STEPS_ONE_OVER_L = '''
def quadratic_step_sizes(A):
    eig = np.linalg.eigvalsh(A)
    mu, L = eig[0], eig[-1]
    return float(1 / L), float(2 / (mu + L)), float((L - mu) / (L + mu))
'''
STEPS_DIAGONAL = '''
def quadratic_step_sizes(A):
    d = np.diag(A)
    mu, L = d.min(), d.max()
    return float(2 / L), float(2 / (mu + L)), float((L - mu) / (L + mu))
'''
STEPS_RATE_1_OVER_KAPPA = '''
def quadratic_step_sizes(A):
    eig = np.linalg.eigvalsh(A)
    mu, L = eig[0], eig[-1]
    return float(2 / L), float(2 / (mu + L)), float(1 - mu / L)
'''
STEPS_LR_OPT_1_OVER_L = '''
def quadratic_step_sizes(A):
    eig = np.linalg.eigvalsh(A)
    mu, L = eig[0], eig[-1]
    return float(2 / L), float(1 / L), float((L - mu) / (L + mu))
'''
STEPS_FROBENIUS = '''
def quadratic_step_sizes(A):
    eig = np.linalg.eigvalsh(A)
    mu, L = eig[0], np.linalg.norm(A)
    return float(2 / L), float(2 / (mu + L)), float((L - mu) / (L + mu))
'''
STEPS_KAPPA_INF = '''
def quadratic_step_sizes(A):
    eig = np.linalg.eigvalsh(A)
    mu, L = eig[0], eig[-1]
    kappa = L / mu
    return float(2 / L), float(2 / (mu + L)), float((kappa - 1) / (kappa + 1))
'''
# correct alternatives
STEPS_SVD_KAPPA = '''
def quadratic_step_sizes(A):
    s = np.linalg.svd(np.asarray(A, dtype=float), compute_uv=False)   # = eigenvalues for a PSD matrix
    L, mu = s.max(), s.min()
    if mu <= 1e-12 * L:
        return 2 / L, 2 / L, 1.0
    kappa = L / mu
    return 2 / L, 2 / (mu + L), (kappa - 1) / (kappa + 1)
'''
STEPS_EIG = '''
def quadratic_step_sizes(A):
    lam = np.sort(np.real(np.linalg.eig(A)[0]))
    lo, hi = max(lam[0], 0.0), lam[-1]
    return (2.0 / hi, 2.0 / (lo + hi), (hi - lo) / (hi + lo))
'''


# ---------------------------------------------------------------- part 3: SGD
def _sgd(body: str) -> str:
    """A whole answer cell: the notebook's constructor and a step() with this body (indented 8 spaces)."""
    return '''
class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, weight_decay=0, *, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
''' + body + '''
        return loss
'''


SGD_DECAY_AFTER = _sgd('''
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                p -= group["lr"] * grad
                p -= group["lr"] * group["weight_decay"] * p
''')
SGD_MAXIMIZE_AFTER_DECAY = _sgd('''
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad + group["weight_decay"] * p
                if group["maximize"]:
                    grad = -grad
                p -= group["lr"] * grad
''')
SGD_NONE_AS_ZERO = _sgd('''
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad if p.grad is not None else torch.zeros_like(p)
                grad = -grad if group["maximize"] else grad
                p -= group["lr"] * (grad + group["weight_decay"] * p)
''')
SGD_NO_NONE_CHECK = _sgd('''
        for group in self.param_groups:
            for p in group["params"]:
                grad = -p.grad if group["maximize"] else p.grad
                p -= group["lr"] * (grad + group["weight_decay"] * p)
''')
SGD_LR_AT_INIT = _sgd('''
        if not hasattr(self, "_lr"):
            self._lr = self.defaults["lr"]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                p -= self._lr * (grad + group["weight_decay"] * p)
''')
SGD_ZERO_SKIPPED = _sgd('''
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None or torch.all(p.grad == 0):
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                p -= group["lr"] * (grad + group["weight_decay"] * p)
''')
SGD_NO_MAXIMIZE = _sgd('''
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p -= group["lr"] * (p.grad + group["weight_decay"] * p)
''')
SGD_FLOAT32_LR = _sgd('''
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                step = (grad + group["weight_decay"] * p).float() * torch.tensor(group["lr"], dtype=torch.float32)
                p -= step.to(p.dtype)
''')
SGD_WRAPS_TORCH = '''
class SGD(torch.optim.SGD):
    pass
'''
# correct alternatives
SGD_OUT_OF_PLACE = _sgd('''
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is not None:
                    d_p = p.grad.neg() if group["maximize"] else p.grad.clone()
                    if wd:
                        d_p = d_p + wd * p
                    p.copy_(p - lr * d_p)
''')
SGD_DATA = _sgd('''
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                g = p.grad.data
                if group["maximize"]:
                    g = g.mul(-1)
                g = g.add(p.data, alpha=group["weight_decay"])
                p.data.add_(g, alpha=-group["lr"])
''')

# ---------------------------------------------------------------- part 4: train_epoch
TRAIN_SUMMED = '''
def train_epoch(net, optimizer, batches):
    net.train()
    total, count = 0.0, 0
    for X_batch, y_batch in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(X_batch), y_batch, reduction="sum")
        loss.backward()
        optimizer.step()
        total += loss.item()
        count += len(y_batch)
    return total / count
'''
TRAIN_UNWEIGHTED = '''
def train_epoch(net, optimizer, batches):
    net.train()
    losses = []
    for X_batch, y_batch in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))
'''
TRAIN_NO_ZERO_GRAD = '''
def train_epoch(net, optimizer, batches):
    net.train()
    total, count = 0.0, 0
    for X_batch, y_batch in batches:
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y_batch)
        count += len(y_batch)
    return total / count
'''
TRAIN_ZERO_AFTER_STEP = '''
def train_epoch(net, optimizer, batches):
    net.train()
    total, count = 0.0, 0
    for X_batch, y_batch in batches:
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        total += loss.item() * len(y_batch)
        count += len(y_batch)
    return total / count
'''
TRAIN_RETURNS_TENSOR = '''
def train_epoch(net, optimizer, batches):
    net.train()
    total, count = 0.0, 0
    for X_batch, y_batch in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        total = total + loss.detach() * len(y_batch)
        count += len(y_batch)
    return total / count
'''
TRAIN_NO_TRAIN_MODE = '''
def train_epoch(net, optimizer, batches):
    total, count = 0.0, 0
    for X_batch, y_batch in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y_batch)
        count += len(y_batch)
    return total / count
'''
TRAIN_ITERATES_TWICE = '''
def train_epoch(net, optimizer, batches):
    net.train()
    n = sum(len(y_batch) for _, y_batch in batches)
    total = 0.0
    for X_batch, y_batch in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y_batch)
    return total / n
'''
TRAIN_LOSS_AFTER_STEP = '''
def train_epoch(net, optimizer, batches):
    net.train()
    total, count = 0.0, 0
    for X_batch, y_batch in batches:
        optimizer.zero_grad()
        F.cross_entropy(net(X_batch), y_batch).backward()
        optimizer.step()
        with torch.no_grad():
            total += F.cross_entropy(net(X_batch), y_batch).item() * len(y_batch)
        count += len(y_batch)
    return total / count
'''
# correct alternatives
TRAIN_SET_TO_NONE = '''
def train_epoch(net, optimizer, batches):
    net.train(True)
    losses, sizes = [], []
    for xb, yb in batches:
        for p in net.parameters():
            p.grad = None
        loss = torch.nn.CrossEntropyLoss()(net(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
        sizes.append(yb.shape[0])
    return float(np.average(losses, weights=sizes))
'''
TRAIN_SUM_THEN_DIVIDE = '''
def train_epoch(net, optimizer, batches):
    net.train()
    summed, n = 0.0, 0
    for xb, yb in iter(batches):
        net.zero_grad()
        per_example = F.cross_entropy(net(xb), yb, reduction="none")
        per_example.mean().backward()
        optimizer.step()
        summed += per_example.sum().item()
        n += len(yb)
    return summed / n
'''

# ---------------------------------------------------------------- issue 23: the edges of the contract, by kind
# Types and dtypes: "copies" X and y as float64 arrays, to be safe (integer labels become floats)
MB_CASTS_TO_FLOAT = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    if isinstance(X, np.ndarray):
        X, y = np.array(X, dtype=float), np.array(y, dtype=float)   # copies: the caller's arrays stay untouched
    n = len(X)
    rng = np.random.default_rng() if rng is None else rng
    order = rng.permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
'''
# Degenerate input: drop_last=True with batch_size > n must give no batch at all
MB_AT_LEAST_ONE_BATCH = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    rng = np.random.default_rng() if rng is None else rng
    order = rng.permutation(n) if shuffle else np.arange(n)
    num = max(1, n // batch_size) if drop_last else -(-n // batch_size)
    for k in range(num):
        idx = order[k * batch_size:(k + 1) * batch_size]
        yield X[idx], y[idx]
'''
# Randomness: rng=None draws from numpy's global state instead of a fresh default_rng()
MB_GLOBAL_STATE = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = len(X)
    if shuffle:
        order = rng.permutation(n) if rng is not None else np.random.permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
'''
# Text that does not decide (now decided): with mu = 0 every step in (0, 2/L] ties; this answer returns 1/L
STEPS_SINGULAR_ONE_OVER_L = '''
def quadratic_step_sizes(A):
    eig = np.linalg.eigvalsh(A)
    mu, L = max(eig[0], 0.0), eig[-1]
    if mu == 0:
        return 2 / L, 1 / L, 1.0   # every step in (0, 2/L] contracts by 1 along the zero eigenvalue
    return 2 / L, 2 / (mu + L), (L - mu) / (L + mu)
'''
STEPS_AS_ARRAY = '''
def quadratic_step_sizes(A):
    eig = np.linalg.eigvalsh(A)
    mu, L = eig[0], eig[-1]
    return np.array([2 / L, 2 / (mu + L), (L - mu) / (L + mu)])
'''
# lr_max and lr_opt swapped: on A = c * I lr_max is then 1/L, which must not be called "your limit is 1/L"
STEPS_SWAPPED = '''
def quadratic_step_sizes(A):
    eig = np.linalg.eigvalsh(A)
    mu, L = eig[0], eig[-1]
    return 2 / (mu + L), 2 / L, (L - mu) / (L + mu)
'''
# Degenerate input, a special case of its own: a singular A answered with the safe step 1/L as the limit too. There
# the answer is the 1/L-limit mistake's, but every other A shows the limit 2/L: that mistake must not be named
STEPS_SINGULAR_SAFE_STEP = '''
def quadratic_step_sizes(A):
    eig = np.linalg.eigvalsh(A)
    mu, L = eig[0], eig[-1]
    if np.isclose(mu, 0.0):
        return 1 / L, 1 / L, 1.0   # no strong convexity: keep to the safe step 1/L
    return 2 / L, 2 / (mu + L), (L - mu) / (L + mu)
'''
# Types and dtypes: the update in double precision; p.data is replaced by a float64 tensor
SGD_UPCASTS = _sgd('''
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = (-p.grad if group["maximize"] else p.grad).double()
                if group["weight_decay"] != 0:
                    grad = grad + group["weight_decay"] * p.data.double()
                p.data = p.data - group["lr"] * grad
''')
# State over time: step(closure) drops the closure's loss (a step written from scratch)
SGD_NO_CLOSURE_RETURN = '''
class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, weight_decay=0, *, maximize=False):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        if closure is not None:
            with torch.enable_grad():
                closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                p.add_(grad + group["weight_decay"] * p, alpha=-group["lr"])
'''
# correct: torch's multi-tensor (foreach) operations, another valid formulation
SGD_FOREACH = _sgd('''
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            grads = [-p.grad if group["maximize"] else p.grad for p in params]
            if group["weight_decay"] != 0:
                grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
            if params:
                torch._foreach_add_(params, grads, alpha=-group["lr"])
''')
# Composition: net.train() called after the loop, so batch norm ran in eval mode
TRAIN_TRAIN_AT_END = '''
def train_epoch(net, optimizer, batches):
    total, count = 0.0, 0
    for X_batch, y_batch in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y_batch)
        count += len(y_batch)
    net.train()   # leave the net ready for training
    return total / count
'''
# Composition: epoch means over unequal batches, weighted by the first batch's size
TRAIN_NOMINAL_BATCH_SIZE = '''
def train_epoch(net, optimizer, batches):
    net.train()
    total, count, batch_size = 0.0, 0, None
    for X_batch, y_batch in batches:
        batch_size = batch_size or len(y_batch)
        optimizer.zero_grad()
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        total += loss.item() * batch_size
        count += len(y_batch)
    return total / count
'''
# the step before the backward pass, zero_grad first: no step ever sees a gradient (as zero_grad after backward)
TRAIN_STEP_BEFORE_BACKWARD = '''
def train_epoch(net, optimizer, batches):
    net.train()
    total, count = 0.0, 0
    for X_batch, y_batch in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(X_batch), y_batch)
        optimizer.step()
        loss.backward()
        total += loss.item() * len(y_batch)
        count += len(y_batch)
    return total / count
'''
TRAIN_ZERO_AFTER_BACKWARD = '''
def train_epoch(net, optimizer, batches):
    net.train()
    total, count = 0.0, 0
    for X_batch, y_batch in batches:
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        total += loss.item() * len(y_batch)
        count += len(y_batch)
    return total / count
'''
# Numerics: the epoch's loss accumulated in float32
TRAIN_FLOAT32_TOTAL = '''
def train_epoch(net, optimizer, batches):
    net.train()
    total, count = np.float32(0.0), 0
    for X_batch, y_batch in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        total += np.float32(loss.item()) * len(y_batch)
        count += len(y_batch)
    return float(total / count)
'''
# correct at the edges: rng=None made by np.random.default_rng(None); a Generator of the PCG64 bit generator
MB_FRESH_PCG = '''
def minibatches(X, y, batch_size, shuffle=True, drop_last=False, rng=None):
    n = X.shape[0]
    if shuffle:
        rng = np.random.Generator(np.random.PCG64()) if rng is None else rng
        order = rng.permutation(n)
    else:
        order = np.arange(n)
    sizes = [batch_size] * (n // batch_size) + ([] if drop_last or n % batch_size == 0 else [n % batch_size])
    start = 0
    for size in sizes:
        idx = order[start:start + size]
        start += size
        yield X[idx], y[idx]
'''
TRAIN_TENSOR_TOTAL = '''
def train_epoch(net, optimizer, batches):
    net.train()
    total, count = torch.zeros((), dtype=torch.float64), 0
    for X_batch, y_batch in batches:
        optimizer.zero_grad(set_to_none=False)
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        total += loss.detach().double() * y_batch.numel()
        count += y_batch.numel()
    return (total / count).item()
'''

BUGGY = [
    # part 1
    Variant("bug-mb-x-y-shuffled-differently", "minibatches", MB_UNPAIRED, P1,
            visible=MESSAGES["unpaired"], hidden="X and y are shuffled differently"),
    Variant("bug-mb-last-partial-batch-dropped", "minibatches", MB_DROPS_LAST, P1,
            visible="the last, smaller batch is dropped", hidden="the last, smaller batch is dropped"),
    Variant("bug-mb-same-order-every-epoch", "minibatches", MB_SAME_ORDER, P1,
            visible=MESSAGES["same_order"], hidden="every epoch has the same order"),
    Variant("bug-mb-generator-copied", "minibatches", MB_COPIED_RNG, P1,
            visible=MESSAGES["same_order"], hidden="every epoch has the same order"),
    Variant("bug-mb-shuffles-x-and-y-in-place", "minibatches", MB_SHUFFLES_IN_PLACE, P1,
            visible=MESSAGES["modified"], hidden="changed X or y in place"),
    Variant("bug-mb-empty-last-batch", "minibatches", MB_EMPTY_BATCH, P1,
            visible=MESSAGES["empty"], hidden="an empty batch at the end"),
    Variant("bug-mb-ignores-drop-last", "minibatches", MB_IGNORES_DROP_LAST, P1,
            visible="drop_last=True must drop the last batch", hidden="drop_last=True must drop the last batch"),
    Variant("bug-mb-numpy-only", "minibatches", MB_NUMPY_ONLY, P1,
            hidden="batches must have the type of X and y"),
    Variant("bug-mb-rng-none-fixed-seed", "minibatches", MB_NONE_FIXED_SEED, P1,
            hidden="every epoch has the same order"),
    Variant("bug-mb-sampled-with-replacement", "minibatches", MB_WITH_REPLACEMENT, P1,
            visible=MESSAGES["not_once"], hidden="every example exactly once"),
    # part 2
    Variant("bug-steps-one-over-L", "quadratic_step_sizes", STEPS_ONE_OVER_L, P2,
            visible="your stability limit is 1/L", hidden="your stability limit is 1/L"),
    Variant("bug-steps-diagonal-not-eigenvalues", "quadratic_step_sizes", STEPS_DIAGONAL, P2,
            hidden="you read the diagonal of A"),
    Variant("bug-steps-rate-one-minus-inverse-kappa", "quadratic_step_sizes", STEPS_RATE_1_OVER_KAPPA, P2,
            visible="your rate says", hidden="1 - 1/kappa is the rate of the step 1/L"),
    Variant("bug-steps-lr-opt-one-over-L", "quadratic_step_sizes", STEPS_LR_OPT_1_OVER_L, P2,
            hidden="lr_opt = 1/L is not optimal"),
    Variant("bug-steps-frobenius-norm", "quadratic_step_sizes", STEPS_FROBENIUS, P2,
            hidden="not the Frobenius norm"),
    Variant("bug-steps-singular-divides-by-zero", "quadratic_step_sizes", STEPS_KAPPA_INF, P2,
            hidden="a singular A"),
    # part 3
    Variant("bug-sgd-weight-decay-after-update", "sgd", SGD_DECAY_AFTER, P3,
            visible="weight_decay is applied after the update", hidden="weight_decay is applied after the update"),
    Variant("bug-sgd-maximize-negates-decay", "sgd", SGD_MAXIMIZE_AFTER_DECAY, P3,
            visible="with maximize=True torch negates the gradient first",
            hidden="with maximize=True torch negates the gradient first"),
    Variant("bug-sgd-none-grad-as-zero", "sgd", SGD_NONE_AS_ZERO, P3,
            visible="some gradients None", hidden="you treat it as a zero gradient"),
    Variant("bug-sgd-no-none-check", "sgd", SGD_NO_NONE_CHECK, P3,
            hidden="some gradients None"),
    Variant("bug-sgd-lr-read-once", "sgd", SGD_LR_AT_INIT, P3,
            visible="differ from torch.optim.SGD", hidden="lr is read once"),
    Variant("bug-sgd-zero-grad-skipped", "sgd", SGD_ZERO_SKIPPED, P3,
            hidden="an exact zero gradient is still a step"),
    Variant("bug-sgd-maximize-ignored", "sgd", SGD_NO_MAXIMIZE, P3,
            visible="differ from torch.optim.SGD", hidden="maximize is ignored"),
    Variant("bug-sgd-float32-step", "sgd", SGD_FLOAT32_LR, P3,
            hidden="a precision problem, not a wrong formula"),
    Variant("bug-sgd-subclasses-torch", "sgd", SGD_WRAPS_TORCH, P3,
            hidden="must implement the update itself"),
    # part 4
    Variant("bug-train-loss-summed", "train_epoch", TRAIN_SUMMED, P4,
            visible="the batch loss is summed over the examples", hidden="the batch loss is summed over the examples"),
    Variant("bug-train-unweighted-mean", "train_epoch", TRAIN_UNWEIGHTED, P4,
            visible="plain mean of the batch losses", hidden="plain mean of the batch losses"),
    Variant("bug-train-no-zero-grad", "train_epoch", TRAIN_NO_ZERO_GRAD, P4,
            visible="gradients accumulate", hidden="gradients accumulate"),
    Variant("bug-train-zero-grad-after-step", "train_epoch", TRAIN_ZERO_AFTER_STEP, P4,
            visible="gradients accumulate", hidden="leftover gradients"),
    Variant("bug-train-returns-tensor", "train_epoch", TRAIN_RETURNS_TENSOR, P4,
            visible="Python float", hidden="Python float"),
    Variant("bug-train-no-train-mode", "train_epoch", TRAIN_NO_TRAIN_MODE, P4,
            visible="training mode", hidden="training mode"),
    Variant("bug-train-iterates-batches-twice", "train_epoch", TRAIN_ITERATES_TWICE, P4,
            hidden="batches from a generator"),
    Variant("bug-train-loss-after-step", "train_epoch", TRAIN_LOSS_AFTER_STEP, P4,
            hidden="the training is right, the returned loss is not"),
    # issue 23, by kind. Types and dtypes:
    Variant("bug-mb-casts-to-float", "minibatches", MB_CASTS_TO_FLOAT, P1, hidden="batches must keep the dtypes"),
    Variant("bug-sgd-upcasts-parameters", "sgd", SGD_UPCASTS, P3, hidden="are float64 after your steps"),
    # degenerate inputs the text allows
    Variant("bug-mb-at-least-one-batch", "minibatches", MB_AT_LEAST_ONE_BATCH, P1,
            hidden="drop_last=True with batch_size larger than n"),
    # randomness
    Variant("bug-mb-rng-none-global-state", "minibatches", MB_GLOBAL_STATE, P1,
            hidden="follow numpy's global random state"),
    # state over time
    Variant("bug-sgd-closure-loss-dropped", "sgd", SGD_NO_CLOSURE_RETURN, P3, hidden="step(closure) returns None"),
    # composition
    Variant("bug-train-train-mode-after-loop", "train_epoch", TRAIN_TRAIN_AT_END, P4,
            hidden="the batches ran with the net in eval mode"),
    Variant("bug-train-nominal-batch-size", "train_epoch", TRAIN_NOMINAL_BATCH_SIZE, P4,
            hidden="the training is right but the returned loss is wrong"),
    Variant("bug-train-zero-grad-after-backward", "train_epoch", TRAIN_ZERO_AFTER_BACKWARD, P4,
            hidden="between loss.backward() and optimizer.step()"),
    Variant("bug-train-step-before-backward", "train_epoch", TRAIN_STEP_BEFORE_BACKWARD, P4,
            hidden="step() comes right after zero_grad(), before backward()"),
    # numerics
    Variant("bug-train-float32-total", "train_epoch", TRAIN_FLOAT32_TOTAL, P4, hidden="the returned loss is wrong"),
    # a mistake named on A = c * I only by its whole answer
    Variant("bug-steps-lr-max-lr-opt-swapped", "quadratic_step_sizes", STEPS_SWAPPED, P2,
            hidden="lr_max and lr_opt are swapped"),
    # a mistake whose model the answer follows on one scenario and that a passing scenario rules out
    Variant("bug-steps-singular-safe-step", "quadratic_step_sizes", STEPS_SINGULAR_SAFE_STEP, P2,
            hidden="Fails with: a singular A", not_named="your stability limit is 1/L"),
]

CORRECT = [
    Variant("ok-mb-list-of-batches", "minibatches", MB_LIST, P1),
    Variant("ok-mb-shuffled-index", "minibatches", MB_SHUFFLE_INDEX, P1),
    Variant("ok-mb-np-split", "minibatches", MB_ARRAY_SPLIT, P1),
    Variant("ok-steps-svd-kappa", "quadratic_step_sizes", STEPS_SVD_KAPPA, P2),
    Variant("ok-steps-eig", "quadratic_step_sizes", STEPS_EIG, P2),
    Variant("ok-sgd-out-of-place", "sgd", SGD_OUT_OF_PLACE, P3),
    Variant("ok-sgd-data-attribute", "sgd", SGD_DATA, P3),
    Variant("ok-train-set-to-none", "train_epoch", TRAIN_SET_TO_NONE, P4),
    Variant("ok-train-sum-then-divide", "train_epoch", TRAIN_SUM_THEN_DIVIDE, P4),
    # issue 23: the edges (ties the text leaves open, an array for the tuple, another formulation, rng=None)
    Variant("ok-steps-singular-one-over-L", "quadratic_step_sizes", STEPS_SINGULAR_ONE_OVER_L, P2),
    Variant("ok-steps-array", "quadratic_step_sizes", STEPS_AS_ARRAY, P2),
    Variant("ok-sgd-foreach", "sgd", SGD_FOREACH, P3),
    Variant("ok-mb-fresh-pcg64", "minibatches", MB_FRESH_PCG, P1),
    Variant("ok-train-tensor-total", "train_epoch", TRAIN_TENSOR_TOTAL, P4),
]
