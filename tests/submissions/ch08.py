"""Chapter 8 (momentum and Nesterov): known-buggy and correct answers.

Each buggy answer reproduces one named mistake (COURSE.md's list and issue 14's: conventions mixed, a wrong
Nesterov look-ahead, dampening on the first step, a shared or re-created buffer, weight decay after the momentum)
or breaks one contract item (None and zero gradients, maximize, parameter groups, torch's state key), and says in
``visible`` and ``hidden`` the words the visible test's message and the grader's feedback must contain. The
correct ones are other valid ways of writing each part.
"""

from __future__ import annotations

from coursekit.checks.momentum import MESSAGES
from submissions import Variant

P1, P2, P3, P4 = "test_sgd", "test_heavy_ball_params", "test_heavy_ball_rate", "test_ema_to_torch"


# ---------------------------------------------------------------- part 1: SGD
def _sgd(body: str) -> str:
    """A whole answer cell: the notebook's constructor and a step() with this body (indented 8 spaces)."""
    return '''
class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
''' + body + '''
        return loss
'''


def _loop(buffer: str, *, grad="        d_p = -p.grad if group['maximize'] else p.grad\n",
          decay="        if group['weight_decay']:\n            d_p = d_p + group['weight_decay'] * p\n",
          skip="        if p.grad is None:\n            continue\n",
          direction="        if group['nesterov']:\n            d_p = d_p + mu * buf\n        else:\n"
                    "            d_p = buf\n",
          update="        p.sub_(group['lr'] * d_p)\n", after="") -> str:
    """The correct loop with one piece replaced; every piece is indented as in the body of the loop over p."""
    body = skip + grad + decay + "        mu, damp = group['momentum'], group['dampening']\n        if mu:\n"
    body += "".join("    " + ln + "\n" for ln in (buffer + direction).strip("\n").splitlines())
    body += after + update
    body = "".join("        " + ln + "\n" for ln in body.splitlines())
    return _sgd("        for group in self.param_groups:\n            for p in group['params']:\n" + body)


TORCH_BUFFER = '''
        state = self.state[p]
        if 'momentum_buffer' not in state:
            buf = state['momentum_buffer'] = d_p.clone()
        else:
            buf = state['momentum_buffer']
            buf.mul_(mu).add_((1 - damp) * d_p)
'''
SGD_EMA = _loop('''
        state = self.state[p]
        if 'momentum_buffer' not in state:
            state['momentum_buffer'] = torch.zeros_like(p)
        buf = state['momentum_buffer']
        buf.mul_(mu).add_((1 - mu) * d_p)
''')
SGD_VELOCITY = _loop('''
        state = self.state[p]
        if 'momentum_buffer' not in state:
            buf = state['momentum_buffer'] = group['lr'] * d_p
        else:
            buf = state['momentum_buffer']
            buf.mul_(mu).add_(group['lr'] * (1 - damp) * d_p)
''', direction='''
        if group['nesterov']:
            d_p = group['lr'] * d_p + mu * buf
        else:
            d_p = buf
''', update="        p.sub_(d_p if group['momentum'] else group['lr'] * d_p)\n")
SGD_FIRST_DAMPENING = _loop('''
        state = self.state[p]
        if 'momentum_buffer' not in state:
            state['momentum_buffer'] = torch.zeros_like(p)
        buf = state['momentum_buffer']
        buf.mul_(mu).add_((1 - damp) * d_p)
''')
SGD_NESTEROV_SWAPPED = _loop(TORCH_BUFFER, direction='''
        if group['nesterov']:
            d_p = mu * d_p + buf
        else:
            d_p = buf
''')
SGD_NESTEROV_OLD_BUFFER = _loop('''
        state = self.state[p]
        old = state.get('momentum_buffer', torch.zeros_like(p)).clone()
        if 'momentum_buffer' not in state:
            buf = state['momentum_buffer'] = d_p.clone()
        else:
            buf = state['momentum_buffer']
            buf.mul_(mu).add_((1 - damp) * d_p)
''', direction='''
        if group['nesterov']:
            d_p = d_p + mu * old
        else:
            d_p = buf
''')
SGD_RECREATED = _loop('''
        buf = d_p.clone()
        self.state[p]['momentum_buffer'] = buf
''')
SGD_SHARED = _loop('''
        shared = self.__dict__.setdefault('_buffers', {})
        key = tuple(p.shape)
        if key not in shared:
            buf = shared[key] = d_p.clone()
        else:
            buf = shared[key]
            buf.mul_(mu).add_((1 - damp) * d_p)
''')
SGD_DECAY_AFTER = _loop(TORCH_BUFFER, decay="", after="        if group['weight_decay']:\n"
                                                   "            d_p = d_p + group['weight_decay'] * p\n")
SGD_NO_MAXIMIZE = _loop(TORCH_BUFFER, grad="        d_p = p.grad\n")
SGD_NONE_AS_ZERO = _loop(TORCH_BUFFER, skip="", grad="        g = torch.zeros_like(p) if p.grad is None else p.grad\n"
                                                      "        d_p = -g if group['maximize'] else g\n")
SGD_ZERO_SKIPPED = _loop(TORCH_BUFFER, skip="        if p.grad is None or not p.grad.any():\n            continue\n")
SGD_STATE_KEY = _loop(TORCH_BUFFER.replace("'momentum_buffer'", "'buf'"))
SGD_LR_AT_INIT = _loop(TORCH_BUFFER, update="        p.sub_(self.defaults['lr'] * d_p)\n")
SGD_WRAPS_TORCH = '''
class SGD(torch.optim.SGD):
    pass
'''
# correct alternatives
SGD_OUT_OF_PLACE = _loop('''
        state = self.state[p]
        buf = state.get('momentum_buffer')
        buf = d_p.clone() if buf is None else mu * buf + (1 - damp) * d_p
        state['momentum_buffer'] = buf
''')
SGD_DATA = _sgd('''
        for group in self.param_groups:
            lr, mu, damp = group["lr"], group["momentum"], group["dampening"]
            for p in [q for q in group["params"] if q.grad is not None]:
                g = p.grad.data.clone()
                if group["maximize"]:
                    g.neg_()
                g.add_(p.data, alpha=group["weight_decay"])
                if mu == 0:
                    p.data.add_(g, alpha=-lr)
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["momentum_buffer"] = torch.clone(g).detach()
                else:
                    state["momentum_buffer"].mul_(mu).add_(g, alpha=1 - damp)
                buf = state["momentum_buffer"]
                step = g.add(buf, alpha=mu) if group["nesterov"] else buf
                p.data.add_(step, alpha=-lr)
''')
SGD_TORCH_LOOP = _loop(TORCH_BUFFER)

# ---------------------------------------------------------------- part 2: heavy_ball_params
HBP_GD = '''
def heavy_ball_params(mu, L):
    return 2.0 / (mu + L), 0.0, (L - mu) / (L + mu)
'''
HBP_BETA_SQRT = '''
def heavy_ball_params(mu, L):
    r = (np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))
    return 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2, float(r), float(r)
'''
HBP_RATE_BETA = '''
def heavy_ball_params(mu, L):
    r = (np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))
    return 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2, float(r ** 2), float(r ** 2)
'''
HBP_KAPPA_NAN = '''
def heavy_ball_params(mu, L):
    kappa = L / mu
    r = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    return 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2, r ** 2, r
'''
HBP_INT_DIVISION = '''
def heavy_ball_params(mu, L):
    r = (np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))
    return 4 // int(np.sqrt(L) + np.sqrt(mu)) ** 2, r ** 2, r
'''
# correct alternatives
HBP_KAPPA = '''
def heavy_ball_params(mu, L):
    mu, L = float(mu), float(L)
    if mu == 0:
        return 4.0 / L, 1.0, 1.0
    s = (L / mu) ** 0.5
    rate = (s - 1) / (s + 1)
    return 4.0 / (L ** 0.5 + mu ** 0.5) ** 2, rate * rate, rate
'''
HBP_MATH = '''
import math

def heavy_ball_params(mu, L):
    a, b = math.sqrt(mu), math.sqrt(L)
    return 4 / (a + b) ** 2, ((b - a) / (b + a)) ** 2, (b - a) / (b + a)
'''

# ---------------------------------------------------------------- part 3: heavy_ball_rate
HBR_REAL_ONLY = '''
def heavy_ball_rate(lr, beta, eigenvalues):
    rates = []
    for lam in np.atleast_1d(eigenvalues):
        b = 1 + beta - lr * lam
        disc = max(b * b - 4 * beta, 0.0)
        rates.append(max(abs((b + disc ** 0.5) / 2), abs((b - disc ** 0.5) / 2)))
    return float(max(rates))
'''
HBR_MIN = '''
def heavy_ball_rate(lr, beta, eigenvalues):
    rates = []
    for lam in np.atleast_1d(eigenvalues):
        M = np.array([[1 + beta - lr * lam, -beta], [1, 0]])
        rates.append(np.abs(np.linalg.eigvals(M)).max())
    return float(min(rates))
'''
HBR_NO_BETA = '''
def heavy_ball_rate(lr, beta, eigenvalues):
    return float(np.max(np.abs(1 - lr * np.atleast_1d(eigenvalues))))
'''
HBR_LIST_ONLY = '''
def heavy_ball_rate(lr, beta, eigenvalues):
    rates = []
    for lam in eigenvalues:
        M = np.array([[1 + beta - lr * lam, -beta], [1, 0]])
        rates.append(np.abs(np.linalg.eigvals(M)).max())
    return float(max(rates))
'''
# correct alternatives
HBR_CMATH = '''
import cmath

def heavy_ball_rate(lr, beta, eigenvalues):
    worst = 0.0
    for lam in np.ravel(eigenvalues):
        b = 1 + beta - lr * lam
        root = cmath.sqrt(b * b - 4 * beta)
        worst = max(worst, abs((b + root) / 2), abs((b - root) / 2))
    return float(worst)
'''
HBR_ROOTS = '''
def heavy_ball_rate(lr, beta, eigenvalues):
    lams = np.asarray(eigenvalues, dtype=float).reshape(-1)
    return float(max(np.abs(np.roots([1.0, -(1 + beta - lr * lam), beta])).max() for lam in lams))
'''

# ---------------------------------------------------------------- part 4: ema_to_torch
EMA_DAMPENING = '''
def ema_to_torch(lr, beta):
    return {"lr": lr, "momentum": beta, "dampening": beta}
'''
EMA_INVERTED = '''
def ema_to_torch(lr, beta):
    return {"lr": lr / (1 - beta), "momentum": beta}
'''
EMA_UNSCALED = '''
def ema_to_torch(lr, beta):
    return {"lr": lr, "momentum": beta}
'''
# correct alternatives
EMA_FULL = '''
def ema_to_torch(lr, beta):
    return dict(lr=(1 - beta) * lr, momentum=beta, dampening=0, nesterov=False, weight_decay=0)
'''
EMA_SHORT = '''
def ema_to_torch(lr, beta):
    return {"lr": lr - lr * beta, "momentum": beta}
'''

# ---------------------------------------------------------------- issue 23: the edges of the contract, by kind
# Composition: CS231n's sgd_momentum, which has no Nesterov branch (nesterov=True is ignored)
SGD_NESTEROV_IGNORED = _loop(TORCH_BUFFER, direction="        d_p = buf\n")
# Composition, an option lost along one branch: the Nesterov term from the raw gradient (no decay, no maximize)
SGD_NESTEROV_RAW_GRAD = _loop(TORCH_BUFFER, direction='''
        if group['nesterov']:
            d_p = p.grad + mu * buf
        else:
            d_p = buf
''')
# the EMA form, but with the buffer starting as a copy of the gradient
SGD_EMA_COPY = _loop('''
        state = self.state[p]
        if 'momentum_buffer' not in state:
            buf = state['momentum_buffer'] = d_p.clone()
        else:
            buf = state['momentum_buffer']
            buf.mul_(mu).add_((1 - mu) * d_p)
''')
# Degenerate input: momentum 0 with dampening > 0 (the buffer runs with momentum 0)
SGD_DAMPENED_WITHOUT_MOMENTUM = _sgd('''
        for group in self.param_groups:
            mu, damp = group['momentum'], group['dampening']
            for p in group['params']:
                if p.grad is None:
                    continue
                d_p = -p.grad if group['maximize'] else p.grad
                if group['weight_decay']:
                    d_p = d_p + group['weight_decay'] * p
                state = self.state[p]
                if 'momentum_buffer' not in state:
                    buf = state['momentum_buffer'] = d_p.clone()
                else:
                    buf = state['momentum_buffer']
                    buf.mul_(mu).add_((1 - damp) * d_p)
                d_p = d_p + mu * buf if group['nesterov'] else buf
                p.sub_(group['lr'] * d_p)
''')
# State over time: the buffer is p.grad itself (no copy): zero_grad(set_to_none=False) wipes it
SGD_BUFFER_ALIASES_GRAD = _loop('''
        state = self.state[p]
        if 'momentum_buffer' not in state:
            buf = state['momentum_buffer'] = d_p
        else:
            buf = state['momentum_buffer']
            buf.mul_(mu).add_(d_p, alpha=1 - damp)
''')
# State over time: momentum read once, from the defaults (a momentum schedule or a group's own momentum is lost)
SGD_MOMENTUM_READ_ONCE = _loop(TORCH_BUFFER).replace("mu, damp = group['momentum'], group['dampening']",
                                                     "mu, damp = self.defaults['momentum'], group['dampening']")
# State over time: step(closure) drops the closure's loss
SGD_CLOSURE_LOSS_DROPPED = _loop(TORCH_BUFFER).replace("                loss = closure()", "                closure()")
# Types and dtypes: the buffer kept in double precision, p.data replaced by a float64 tensor
SGD_BUFFER_FLOAT64 = _loop('''
        state = self.state[p]
        if 'momentum_buffer' not in state:
            buf = state['momentum_buffer'] = d_p.double().clone()
        else:
            buf = state['momentum_buffer']
            buf.mul_(mu).add_((1 - damp) * d_p.double())
''', update="        p.data = p.data - group['lr'] * d_p\n")
# Types: integer eigenvalues, scaled in place
HBR_IN_PLACE = '''
def heavy_ball_rate(lr, beta, eigenvalues):
    lam = np.atleast_1d(np.asarray(eigenvalues))
    lam *= lr                      # lr * lambda for every eigenvalue
    rates = []
    for x in lam:
        M = np.array([[1 + beta - x, -beta], [1, 0]])
        rates.append(np.abs(np.linalg.eigvals(M)).max())
    return float(max(rates))
'''
# Numerics: beta as 1 - 4 sqrt(mu L)/(sqrt(L) + sqrt(mu))^2, which cancels when mu is close to L
HBP_CANCELS = '''
def heavy_ball_params(mu, L):
    s = np.sqrt(L) + np.sqrt(mu)
    beta = 1 - 4 * np.sqrt(mu * L) / s ** 2
    return 4 / s ** 2, beta, np.sqrt(max(beta, 0.0))
'''
# correct at the edges: an array for the tuple; buffers created with torch.clone(...).detach(), plain SGD branch
HBP_ARRAY = '''
def heavy_ball_params(mu, L):
    a, b = np.sqrt(mu), np.sqrt(L)
    r = (b - a) / (b + a)
    return np.array([4 / (a + b) ** 2, r * r, r])
'''
SGD_PLAIN_BRANCH = _sgd('''
        for group in self.param_groups:
            lr, mu, damp, wd = group['lr'], group['momentum'], group['dampening'], group['weight_decay']
            for p in group['params']:
                if p.grad is None:
                    continue
                d_p = p.grad.neg() if group['maximize'] else p.grad
                if wd != 0:
                    d_p = d_p.add(p, alpha=wd)
                if mu == 0:
                    p.add_(d_p, alpha=-lr)
                    continue
                state = self.state[p]
                buf = state.get('momentum_buffer', None)
                if buf is None:
                    buf = torch.clone(d_p).detach()
                    state['momentum_buffer'] = buf
                else:
                    buf.mul_(mu).add_(d_p, alpha=1 - damp)
                p.add_(d_p.add(buf, alpha=mu) if group['nesterov'] else buf, alpha=-lr)
''')

BUGGY = [
    # part 1
    Variant("bug-sgd-ema-buffer", "sgd", SGD_EMA, P1, visible="your buffer is an EMA", hidden="your buffer is an EMA"),
    Variant("bug-sgd-velocity-scaled-by-lr", "sgd", SGD_VELOCITY, P1, visible="velocity scaled by the learning rate",
            hidden="velocity scaled by the learning rate"),
    Variant("bug-sgd-dampening-on-first-step", "sgd", SGD_FIRST_DAMPENING, P1,
            visible="dampening is applied on the first step", hidden="dampening is applied on the first step"),
    Variant("bug-sgd-nesterov-swapped", "sgd", SGD_NESTEROV_SWAPPED, P1, visible="wrong Nesterov look-ahead",
            hidden="wrong Nesterov look-ahead"),
    Variant("bug-sgd-nesterov-old-buffer", "sgd", SGD_NESTEROV_OLD_BUFFER, P1,
            visible="your steps are those of nesterov=False", hidden="your steps are those of nesterov=False"),
    Variant("bug-sgd-buffer-recreated", "sgd", SGD_RECREATED, P1, visible="re-created every step",
            hidden="re-created every step"),
    Variant("bug-sgd-buffer-shared", "sgd", SGD_SHARED, P1, visible="shared between parameters",
            hidden="shared between parameters"),
    Variant("bug-sgd-decay-after-momentum", "sgd", SGD_DECAY_AFTER, P1, visible="weight decay is added after",
            hidden="weight decay is added after the momentum"),
    Variant("bug-sgd-maximize-ignored", "sgd", SGD_NO_MAXIMIZE, P1, hidden="maximize is ignored"),
    Variant("bug-sgd-none-grad-as-zero", "sgd", SGD_NONE_AS_ZERO, P1, hidden="treat it as a zero gradient"),
    Variant("bug-sgd-zero-grad-skipped", "sgd", SGD_ZERO_SKIPPED, P1, hidden="an exact zero gradient is still a step"),
    Variant("bug-sgd-state-key", "sgd", SGD_STATE_KEY, P1, visible="momentum_buffer", hidden="momentum_buffer"),
    Variant("bug-sgd-lr-read-once", "sgd", SGD_LR_AT_INIT, P1, visible="differ from torch.optim.SGD",
            hidden="lr changed during training"),
    Variant("bug-sgd-subclasses-torch", "sgd", SGD_WRAPS_TORCH, P1, hidden="must implement the update itself"),
    # part 2
    Variant("bug-hbp-gradient-descent-values", "heavy_ball_params", HBP_GD, P2, visible="gradient descent's",
            hidden="gradient descent's"),
    Variant("bug-hbp-beta-is-the-rate", "heavy_ball_params", HBP_BETA_SQRT, P2, visible="the optimal beta is its square",
            hidden="the optimal beta is its square"),
    Variant("bug-hbp-rate-is-beta", "heavy_ball_params", HBP_RATE_BETA, P2, visible="your rate says",
            hidden="not beta"),
    Variant("bug-hbp-mu-zero-nan", "heavy_ball_params", HBP_KAPPA_NAN, P2, hidden="mu = 0"),
    Variant("bug-hbp-integer-division", "heavy_ball_params", HBP_INT_DIVISION, P2, hidden="lr"),
    # part 3
    Variant("bug-hbr-real-roots-only", "heavy_ball_rate", HBR_REAL_ONLY, P3, visible="only the real roots",
            hidden="only the real roots"),
    Variant("bug-hbr-fastest-direction", "heavy_ball_rate", HBR_MIN, P3, visible="the heavy ball contracts",
            hidden="the slowest direction"),
    Variant("bug-hbr-momentum-ignored", "heavy_ball_rate", HBR_NO_BETA, P3, visible="beta is ignored",
            hidden="beta is ignored"),
    Variant("bug-hbr-list-only", "heavy_ball_rate", HBR_LIST_ONLY, P3, hidden="one float"),
    # part 4
    Variant("bug-ema-dampening-beta", "ema_to_torch", EMA_DAMPENING, P4, visible="at the first step",
            hidden="dampening = beta does not reproduce the EMA"),
    Variant("bug-ema-lr-divided", "ema_to_torch", EMA_INVERTED, P4, visible="leaves the EMA form",
            hidden="not lr / (1 - beta)"),
    Variant("bug-ema-lr-unscaled", "ema_to_torch", EMA_UNSCALED, P4, visible="scale lr by (1 - beta)",
            hidden="scale lr by (1 - beta)"),
    # issue 23, by kind. Composition:
    Variant("bug-sgd-nesterov-ignored", "sgd", SGD_NESTEROV_IGNORED, P1,
            visible="your steps are those of nesterov=False", hidden="your steps are those of nesterov=False"),
    Variant("bug-sgd-nesterov-raw-gradient", "sgd", SGD_NESTEROV_RAW_GRAD, P1, hidden="uses the raw gradient"),
    Variant("bug-sgd-ema-buffer-starts-as-copy", "sgd", SGD_EMA_COPY, P1, visible="starts as a copy of the gradient",
            hidden="starts as a copy of the gradient"),
    # degenerate input
    Variant("bug-sgd-dampened-without-momentum", "sgd", SGD_DAMPENED_WITHOUT_MOMENTUM, P1,
            hidden="with momentum 0 torch takes plain SGD steps"),
    # state over time
    Variant("bug-sgd-buffer-aliases-grad", "sgd", SGD_BUFFER_ALIASES_GRAD, P1, hidden="p.grad itself, not a copy"),
    Variant("bug-sgd-momentum-read-once", "sgd", SGD_MOMENTUM_READ_ONCE, P1, visible="differ from torch.optim.SGD",
            hidden="momentum is read once"),
    Variant("bug-sgd-closure-loss-dropped", "sgd", SGD_CLOSURE_LOSS_DROPPED, P1, hidden="step(closure) returns None"),
    # types and dtypes
    Variant("bug-sgd-buffer-float64", "sgd", SGD_BUFFER_FLOAT64, P1, hidden="are float64 after your steps"),
    Variant("bug-hbr-in-place-on-integers", "heavy_ball_rate", HBR_IN_PLACE, P3, hidden="heavy_ball_rate raised"),
    # numerics
    Variant("bug-hbp-cancellation", "heavy_ball_params", HBP_CANCELS, P2, hidden="mu close to L"),
]

CORRECT = [
    Variant("ok-sgd-out-of-place-buffer", "sgd", SGD_OUT_OF_PLACE, P1),
    Variant("ok-sgd-data-attribute", "sgd", SGD_DATA, P1),
    Variant("ok-sgd-explicit-loop", "sgd", SGD_TORCH_LOOP, P1),
    Variant("ok-hbp-kappa", "heavy_ball_params", HBP_KAPPA, P2),
    Variant("ok-hbp-math", "heavy_ball_params", HBP_MATH, P2),
    Variant("ok-hbr-cmath", "heavy_ball_rate", HBR_CMATH, P3),
    Variant("ok-hbr-np-roots", "heavy_ball_rate", HBR_ROOTS, P3),
    Variant("ok-ema-full-dict", "ema_to_torch", EMA_FULL, P4),
    Variant("ok-ema-short", "ema_to_torch", EMA_SHORT, P4),
    # issue 23: an array where the text says a tuple; another formulation of the update
    Variant("ok-hbp-array", "heavy_ball_params", HBP_ARRAY, P2),
    Variant("ok-sgd-plain-branch", "sgd", SGD_PLAIN_BRANCH, P1),
]
