"""Chapter 10 (learning-rate schedules): known-buggy and correct answers.

Each buggy answer reproduces one named mistake (COURSE.md's list and issue 14's: the scheduler stepped before the
optimizer, a warmup that gives lr = 0 at the first step, a cosine off by one at T_max, one base rate for every
group, base_lrs mutated) or breaks one contract item (eta_min, the factor after total_iters, the interval of the
scheduler steps, ...), and says in ``visible`` and ``hidden`` the words the visible test's message and the
grader's feedback must contain. The correct ones are other valid ways of writing each part.
"""

from __future__ import annotations

from submissions import Variant

P1, P2, P3, P4, P5 = "test_step_lr", "test_cosine_lr", "test_linear_lr", "test_warmup_cosine", "test_fit"
ONE_BASE = "every parameter group follows the same learning rates"
BASE_LRS = "base_lrs changed during training"
OFF_BY_ONE = "the cosine is off by one"
WARMUP_ZERO = "the warmup gives lr = 0 at the first step"
SCHED_FIRST = "scheduler.step() is called before optimizer.step()"


def _step(body):
    return f'''
class StepLR(LRScheduler):
    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
{body}
'''


def _cos(body):
    return f'''
class CosineAnnealingLR(LRScheduler):
    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
{body}
'''


def _lin(body):
    return f'''
class LinearLR(LRScheduler):
    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
{body}
'''


def _wc(body):
    return f'''
class WarmupCosineLR(LRScheduler):
    def __init__(self, optimizer, warmup_iters, T_max, start_factor=1.0 / 3, eta_min=0.0, last_epoch=-1):
        self.warmup_iters = warmup_iters
        self.T_max = T_max
        self.start_factor = start_factor
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
{body}
'''


def _fit(inner, after_epoch="", before=""):
    return f'''
def fit(net, optimizer, scheduler, batches, num_epochs, interval="epoch"):
    net.train()
    history = []
    for _ in range(num_epochs):
        losses = []
        for X_batch, y_batch in batches:
{before}{inner}
            losses.append(loss.item())
{after_epoch}
        history.append(sum(losses) / len(losses))
    return history
'''


# ---------------------------------------------------------------- part 1: StepLR
STEP_ONE_BASE = _step('''        return [self.base_lrs[0] * self.gamma ** (self.last_epoch // self.step_size) for _ in self.base_lrs]''')
STEP_MUTATES = _step('''        if self.last_epoch > 0 and self.last_epoch % self.step_size == 0:
            self.base_lrs = [b * self.gamma for b in self.base_lrs]
        return list(self.base_lrs)''')
STEP_EARLY = _step('''        return [b * self.gamma ** ((self.last_epoch + 1) // self.step_size) for b in self.base_lrs]''')
STEP_NO_FLOOR = _step('''        return [b * self.gamma ** (self.last_epoch / self.step_size) for b in self.base_lrs]''')
STEP_TORCH = '''
class StepLR(torch.optim.lr_scheduler.StepLR):
    pass
'''
STEP_CHAINABLE = _step('''        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]''')
STEP_LOOP = _step('''        out = []
        for base_lr in self.base_lrs:
            lr = base_lr
            for _ in range(self.last_epoch // self.step_size):
                lr = lr * self.gamma
            out.append(lr)
        return out''')

# ---------------------------------------------------------------- part 2: CosineAnnealingLR
COS_ONE_BASE = _cos('''        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (self.base_lrs[0] - self.eta_min) * c for _ in self.base_lrs]''')
COS_T_MAX_MINUS_ONE = _cos('''        c = (1 + math.cos(math.pi * self.last_epoch / (self.T_max - 1))) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]''')
COS_SHIFTED = _cos('''        c = (1 + math.cos(math.pi * (self.last_epoch + 1) / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]''')
COS_NO_ETA_MIN = _cos('''        return [b * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2 for b in self.base_lrs]''')
COS_CLAMPED = _cos('''        t = min(self.last_epoch, self.T_max)
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2
                for b in self.base_lrs]''')
COS_MUTATES = _cos('''        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        if self.last_epoch == 0:
            self.base_lrs = [b - self.eta_min for b in self.base_lrs]
        return [self.eta_min + b * c for b in self.base_lrs]''')
COS_NUMPY = _cos('''        c = 0.5 * (1.0 + np.cos(np.pi * self.last_epoch / self.T_max))
        return [float(self.eta_min + (b - self.eta_min) * c) for b in self.base_lrs]''')
COS_CHAINABLE = _cos('''        t, T = self.last_epoch, self.T_max
        if t == 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        if (t - 1 - T) % (2 * T) == 0:
            return [group["lr"] + (b - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for b, group in zip(self.base_lrs, self.optimizer.param_groups)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (group["lr"] - self.eta_min)
                + self.eta_min for group in self.optimizer.param_groups]''')

# ---------------------------------------------------------------- part 3: LinearLR
LIN_ZERO = _lin('''        frac = min(self.last_epoch, self.total_iters) / self.total_iters
        return [b * self.end_factor * frac for b in self.base_lrs]''')
LIN_ONE_BASE = _lin('''        frac = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * frac
        return [self.optimizer.defaults["lr"] * factor for _ in self.base_lrs]''')
LIN_UNCLAMPED = _lin('''        factor = self.start_factor + (self.end_factor - self.start_factor) * self.last_epoch / self.total_iters
        return [b * factor for b in self.base_lrs]''')
LIN_EARLY = _lin('''        frac = min(self.last_epoch + 1, self.total_iters) / self.total_iters
        return [b * (self.start_factor + (self.end_factor - self.start_factor) * frac) for b in self.base_lrs]''')
LIN_MUTATES = _lin('''        frac = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * frac
        for i in range(len(self.base_lrs)):
            self.base_lrs[i] = self.optimizer.param_groups[i]["initial_lr"] * factor
        return list(self.base_lrs)''')
LIN_INTERP = _lin('''        t = min(self.last_epoch, self.total_iters)
        factor = float(np.interp(t, [0, self.total_iters], [self.start_factor, self.end_factor]))
        return [b * factor for b in self.base_lrs]''')
LIN_BRANCHES = _lin('''        if self.last_epoch >= self.total_iters:
            return [b * self.end_factor for b in self.base_lrs]
        w = self.last_epoch / self.total_iters
        return [b * ((1 - w) * self.start_factor + w * self.end_factor) for b in self.base_lrs]''')

# ---------------------------------------------------------------- part 4: WarmupCosineLR
WC_ZERO = _wc('''        t, w = self.last_epoch, self.warmup_iters
        if t < w:
            return [b * t / w for b in self.base_lrs]
        c = (1 + math.cos(math.pi * (t - w) / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]''')
WC_SHIFTED = _wc('''        t, w = self.last_epoch, self.warmup_iters
        if t < w:
            return [b * (self.start_factor + (1 - self.start_factor) * t / w) for b in self.base_lrs]
        c = (1 + math.cos(math.pi * (t - w + 1) / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]''')
WC_CLOCK_FROM_ZERO = _wc('''        t, w = self.last_epoch, self.warmup_iters
        if t < w:
            return [b * (self.start_factor + (1 - self.start_factor) * t / w) for b in self.base_lrs]
        c = (1 + math.cos(math.pi * t / (self.T_max + w))) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]''')
WC_ONE_BASE = _wc('''        t, w, b = self.last_epoch, self.warmup_iters, self.base_lrs[0]
        if t < w:
            return [b * (self.start_factor + (1 - self.start_factor) * t / w)] * len(self.base_lrs)
        c = (1 + math.cos(math.pi * (t - w) / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c] * len(self.base_lrs)''')
WC_HELPERS = _wc('''        def warm(t):
            return self.start_factor + (1 - self.start_factor) * t / self.warmup_iters

        def cos(t):
            return 0.5 * (1 + math.cos(math.pi * t / self.T_max))

        t = self.last_epoch
        if t < self.warmup_iters:
            return [b * warm(t) for b in self.base_lrs]
        return [self.eta_min + (b - self.eta_min) * cos(t - self.warmup_iters) for b in self.base_lrs]''')
WC_NUMPY = _wc('''        t = self.last_epoch - self.warmup_iters
        base = np.array(self.base_lrs, dtype=float)
        if t < 0:
            frac = self.last_epoch / self.warmup_iters
            return list(base * (self.start_factor * (1 - frac) + frac))
        return [float(v) for v in self.eta_min + (base - self.eta_min) * (1 + np.cos(np.pi * t / self.T_max)) / 2]''')

# ---------------------------------------------------------------- part 5: fit
_TRAIN = '''            optimizer.zero_grad()
            loss = F.cross_entropy(net(X_batch), y_batch)
            loss.backward()
'''
FIT_SCHED_FIRST = _fit(_TRAIN + '''            if interval == "step":
                scheduler.step()
            optimizer.step()''', before="", after_epoch='''        if interval == "epoch":
            pass''').replace('''    for _ in range(num_epochs):
        losses = []''', '''    for _ in range(num_epochs):
        if interval == "epoch":
            scheduler.step()
        losses = []''')
FIT_ALWAYS_PER_STEP = _fit(_TRAIN + '''            optimizer.step()
            scheduler.step()''')
FIT_ALWAYS_PER_EPOCH = _fit(_TRAIN + '''            optimizer.step()''', after_epoch='''        scheduler.step()''')
FIT_NO_ZERO_GRAD = _fit('''            loss = F.cross_entropy(net(X_batch), y_batch)
            loss.backward()
            optimizer.step()
            if interval == "step":
                scheduler.step()''', after_epoch='''        if interval == "epoch":
            scheduler.step()''')
FIT_TENSOR_LOSSES = '''
def fit(net, optimizer, scheduler, batches, num_epochs, interval="epoch"):
    net.train()
    history = []
    for _ in range(num_epochs):
        total = 0.0
        for X_batch, y_batch in batches:
            optimizer.zero_grad()
            loss = F.cross_entropy(net(X_batch), y_batch)
            loss.backward()
            optimizer.step()
            if interval == "step":
                scheduler.step()
            total = total + loss.detach()
        if interval == "epoch":
            scheduler.step()
        history.append(total / len(batches))
    return history
'''
FIT_HELPER = '''
def fit(net, optimizer, scheduler, batches, num_epochs, interval="epoch"):
    def one_batch(X_batch, y_batch):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        return loss.item()

    net.train()
    history = []
    for epoch in range(num_epochs):
        losses = []
        for X_batch, y_batch in batches:
            losses.append(one_batch(X_batch, y_batch))
            if interval == "step":
                scheduler.step()
        history.append(float(np.mean(losses)))
        if interval == "epoch":
            scheduler.step()
    return history
'''
FIT_FLAT = '''
def fit(net, optimizer, scheduler, batches, num_epochs, interval="epoch"):
    net.train()
    per_step = interval == "step"
    sums = [0.0] * num_epochs
    for k in range(num_epochs * len(batches)):
        epoch, i = divmod(k, len(batches))
        X_batch, y_batch = batches[i]
        for p in net.parameters():
            p.grad = None
        loss = F.cross_entropy(net(X_batch), y_batch)
        loss.backward()
        optimizer.step()
        sums[epoch] += loss.item()
        if per_step or i == len(batches) - 1:
            scheduler.step()
    return [s / len(batches) for s in sums]
'''

# ---------------------------------------------------------------- issue 23: the edges of the contracts
# state over time: torch's chainable StepLR without its "last_epoch == 0" guard decays at construction
STEP_CHAINABLE_FIRST = _step('''        if self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]''')
# types: the rates computed in a float32 tensor
STEP_FLOAT32 = _step('''        rates = torch.tensor(self.base_lrs) * self.gamma ** (self.last_epoch // self.step_size)
        return rates.tolist()''')
# state over time: a counter of its own, advanced at every get_lr() call (saved by state_dict like last_epoch)
STEP_OWN_COUNTER = '''
class StepLR(LRScheduler):
    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        self.calls = 0
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        k = self.calls // self.step_size
        self.calls += 1
        return [base_lr * self.gamma ** k for base_lr in self.base_lrs]
'''
# numerics: pi typed in by hand, right to about 1e-6 (a formula's near miss, not float32)
COS_PI_APPROX = _cos('''        PI = 3.1416
        c = (1 + math.cos(PI * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]''')
COS_PI_22_7 = _cos('''        c = (1 + math.cos(22 / 7 * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]''')
# composition: torch's recursive form copied without its restart branch (divides by zero past T_max)
COS_RECURSIVE = _cos('''        t, T = self.last_epoch, self.T_max
        if t == 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (group["lr"] - self.eta_min)
                + self.eta_min for group in self.optimizer.param_groups]''')
COS_TORCH_FLOAT64 = _cos('''        base = torch.tensor(self.base_lrs, dtype=torch.float64)
        c = (1 + torch.cos(torch.tensor(math.pi * self.last_epoch / self.T_max, dtype=torch.float64))) / 2
        return (self.eta_min + (base - self.eta_min) * c).tolist()''')
# an option lost: end_factor ignored (the factor always ends at 1)
LIN_END_IGNORED = _lin('''        frac = min(self.last_epoch, self.total_iters) / self.total_iters
        return [b * (self.start_factor + (1 - self.start_factor) * frac) for b in self.base_lrs]''')
# state over time: the closed form applied to the current lr, so the factors compound
LIN_FROM_CURRENT = _lin('''        frac = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * frac
        return [group["lr"] * factor for group in self.optimizer.param_groups]''')
# decided once in __init__: the factors precomputed before super().__init__ (valid)
LIN_PRECOMPUTED = '''
class LinearLR(LRScheduler):
    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        self.factors = [start_factor + (end_factor - start_factor) * k / total_iters
                        for k in range(total_iters + 1)]
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        f = self.factors[min(self.last_epoch, self.total_iters)]
        return [b * f for b in self.base_lrs]
'''
WC_NO_ETA_MIN = _wc('''        t, w = self.last_epoch, self.warmup_iters
        if t < w:
            return [b * (self.start_factor + (1 - self.start_factor) * t / w) for b in self.base_lrs]
        return [b * (1 + math.cos(math.pi * (t - w) / self.T_max)) / 2 for b in self.base_lrs]''')
WC_CLAMPED = _wc('''        t, w = self.last_epoch, self.warmup_iters
        if t < w:
            return [b * (self.start_factor + (1 - self.start_factor) * t / w) for b in self.base_lrs]
        c = (1 + math.cos(math.pi * min(t - w, self.T_max) / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]''')
# composition: net.train() never called (the net arrives in eval mode)
FIT_NO_TRAIN = FIT_NO_ZERO_GRAD.replace("    net.train()\n", "").replace(
    "            loss = F.cross_entropy", "            optimizer.zero_grad()\n            loss = F.cross_entropy")
# composition: epoch means over unequal batches, weighted by the batch sizes
FIT_WEIGHTED = '''
def fit(net, optimizer, scheduler, batches, num_epochs, interval="epoch"):
    net.train()
    history = []
    for _ in range(num_epochs):
        total, count = 0.0, 0
        for X_batch, y_batch in batches:
            optimizer.zero_grad()
            loss = F.cross_entropy(net(X_batch), y_batch)
            loss.backward()
            optimizer.step()
            if interval == "step":
                scheduler.step()
            total += loss.item() * len(X_batch)
            count += len(X_batch)
        if interval == "epoch":
            scheduler.step()
        history.append(total / count)
    return history
'''
# state over time: the list of losses never reset between epochs
FIT_NOT_RESET = FIT_HELPER.replace("    history = []\n    for epoch in range(num_epochs):\n        losses = []\n",
                                   "    history, losses = [], []\n    for epoch in range(num_epochs):\n")
# the gradients zeroed between backward and step
FIT_ZERO_GRAD_LATE = _fit('''            loss = F.cross_entropy(net(X_batch), y_batch)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
            if interval == "step":
                scheduler.step()''', after_epoch='''        if interval == "epoch":
            scheduler.step()''')
# types: a numpy array where the text says a list
FIT_ARRAY = FIT_HELPER.replace("    return history\n", "    return np.array(history)\n")
# valid: one global step counter decides when the scheduler steps; numpy means (np.float64 is a float)
FIT_COUNTER = '''
def fit(net, optimizer, scheduler, batches, num_epochs, interval="epoch"):
    step = 0
    history = []
    for epoch in range(num_epochs):
        net.train()
        losses = []
        for X_batch, y_batch in batches:
            optimizer.zero_grad()
            loss = F.cross_entropy(net(X_batch), y_batch)
            loss.backward()
            optimizer.step()
            step += 1
            losses.append(loss.item())
            if interval == "step" or step % len(batches) == 0:
                scheduler.step()
        history.append(np.mean(losses))
    return history
'''

# ---------------------------------------------------------------- resembles a named mistake on one scenario only
# A falsy-zero default: `self.end_factor or 1.0` turns end_factor = 0 into 1, so only the decay down to 0 fails, and
# there its rates are those of "end_factor is ignored"; the decays to 0.5 and 0.2, which that model fails, it passes.
LIN_END_OR_ONE = _lin('''        end = self.end_factor or 1.0  # 1.0 unless given
        frac = min(self.last_epoch, self.total_iters) / self.total_iters
        return [b * (self.start_factor + (end - self.start_factor) * frac) for b in self.base_lrs]''')

BUGGY = [
    Variant("bug-step-one-base-rate", "step_lr", STEP_ONE_BASE, P1, visible=ONE_BASE, hidden="own base rate"),
    Variant("bug-step-base-lrs-mutated", "step_lr", STEP_MUTATES, P1, visible=BASE_LRS, hidden=BASE_LRS),
    Variant("bug-step-decays-early", "step_lr", STEP_EARLY, P1, visible="differ from torch's",
            hidden="decays one step too early"),
    Variant("bug-step-no-floor", "step_lr", STEP_NO_FLOOR, P1, visible="differ from torch's",
            hidden="the rate decays at every step"),
    Variant("bug-step-uses-torch", "step_lr", STEP_TORCH, P1, visible=None, hidden="must be written by you"),
    Variant("bug-cos-one-base-rate", "cosine_lr", COS_ONE_BASE, P2, visible=ONE_BASE, hidden="own base rate"),
    Variant("bug-cos-t-max-minus-one", "cosine_lr", COS_T_MAX_MINUS_ONE, P2, visible=OFF_BY_ONE, hidden=OFF_BY_ONE),
    Variant("bug-cos-shifted-by-one", "cosine_lr", COS_SHIFTED, P2, visible=OFF_BY_ONE, hidden=OFF_BY_ONE),
    Variant("bug-cos-eta-min-ignored", "cosine_lr", COS_NO_ETA_MIN, P2, visible="differ from torch's",
            hidden="eta_min is ignored"),
    Variant("bug-cos-stops-at-t-max", "cosine_lr", COS_CLAMPED, P2, visible="differ from torch's",
            hidden="after T_max the rate stays at eta_min"),
    Variant("bug-cos-base-lrs-mutated", "cosine_lr", COS_MUTATES, P2, visible=BASE_LRS, hidden=BASE_LRS),
    Variant("bug-lin-warmup-from-zero", "linear_lr", LIN_ZERO, P3, visible=WARMUP_ZERO, hidden=WARMUP_ZERO),
    Variant("bug-lin-one-base-rate", "linear_lr", LIN_ONE_BASE, P3, visible="base rate", hidden="own base rate"),
    Variant("bug-lin-not-clamped", "linear_lr", LIN_UNCLAMPED, P3, visible="differ from torch's",
            hidden="the factor keeps changing after total_iters"),
    Variant("bug-lin-one-step-ahead", "linear_lr", LIN_EARLY, P3, visible="differ from torch's",
            hidden="the warmup is one step ahead"),
    Variant("bug-lin-base-lrs-mutated", "linear_lr", LIN_MUTATES, P3, visible=BASE_LRS, hidden=BASE_LRS),
    Variant("bug-wc-warmup-from-zero", "warmup_cosine", WC_ZERO, P4, visible=WARMUP_ZERO, hidden=WARMUP_ZERO),
    Variant("bug-wc-cosine-shifted", "warmup_cosine", WC_SHIFTED, P4, visible="the cosine must start again",
            hidden="the cosine must start again at base_lr"),
    Variant("bug-wc-clock-from-zero", "warmup_cosine", WC_CLOCK_FROM_ZERO, P4, visible="the cosine must start again",
            hidden="the cosine's clock starts at the milestone"),
    Variant("bug-wc-one-base-rate", "warmup_cosine", WC_ONE_BASE, P4, visible=ONE_BASE, hidden="own base rate"),
    Variant("bug-fit-scheduler-first", "fit", FIT_SCHED_FIRST, P5, visible=SCHED_FIRST, hidden=SCHED_FIRST),
    Variant("bug-fit-always-per-step", "fit", FIT_ALWAYS_PER_STEP, P5, visible="stepped after every batch",
            hidden="stepped after every batch"),
    Variant("bug-fit-always-per-epoch", "fit", FIT_ALWAYS_PER_EPOCH, P5, visible="stepped once per epoch",
            hidden="stepped once per epoch"),
    Variant("bug-fit-no-zero-grad", "fit", FIT_NO_ZERO_GRAD, P5, visible="gradients accumulate",
            hidden="gradients accumulate"),
    Variant("bug-fit-tensor-losses", "fit", FIT_TENSOR_LOSSES, P5, visible="return a list of",
            hidden="return Python floats"),
    # issue 23
    Variant("bug-step-chainable-decays-at-construction", "step_lr", STEP_CHAINABLE_FIRST, P1,
            visible="differ from torch's", hidden="right after construction"),
    Variant("bug-step-float32-tensor", "step_lr", STEP_FLOAT32, P1, visible="differ from torch's",
            hidden="float32"),
    Variant("bug-cos-pi-by-hand", "cosine_lr", COS_PI_APPROX, P2, visible="differ from torch's",
            hidden="pi is rounded"),
    Variant("bug-cos-pi-22-over-7", "cosine_lr", COS_PI_22_7, P2, visible="differ from torch's",
            hidden="pi = 3.14286"),
    Variant("bug-cos-recursive-no-restart", "cosine_lr", COS_RECURSIVE, P2, visible="ZeroDivisionError",
            hidden="ZeroDivisionError"),
    Variant("bug-lin-end-factor-ignored", "linear_lr", LIN_END_IGNORED, P3, visible="differ from torch's",
            hidden="end_factor is ignored"),
    Variant("bug-lin-compounds-current-lr", "linear_lr", LIN_FROM_CURRENT, P3, visible="differ from torch's",
            hidden="factors compound"),
    Variant("bug-wc-eta-min-ignored", "warmup_cosine", WC_NO_ETA_MIN, P4, visible="differ from",
            hidden="eta_min is ignored"),
    Variant("bug-wc-stops-at-eta-min", "warmup_cosine", WC_CLAMPED, P4, visible="differ from",
            hidden="stays at eta_min"),
    Variant("bug-fit-never-train-mode", "fit", FIT_NO_TRAIN, P5, visible="net.train()", hidden="net.train()"),
    Variant("bug-fit-weighted-epoch-mean", "fit", FIT_WEIGHTED, P5, visible="each batch counts once",
            hidden="weighted by its size"),
    Variant("bug-fit-losses-never-reset", "fit", FIT_NOT_RESET, P5, visible=None, hidden="never reset"),
    Variant("bug-fit-zero-grad-after-backward", "fit", FIT_ZERO_GRAD_LATE, P5, visible="gradients",
            hidden="between backward() and optimizer.step()"),
    Variant("bug-fit-returns-array", "fit", FIT_ARRAY, P5, visible="return a list", hidden="return a list"),
    # not named: a passing scenario rules out the mistake its one failing scenario resembles
    Variant("bug-lin-end-factor-zero-as-one", "linear_lr", LIN_END_OR_ONE, P3, visible=None,
            hidden="a decay down to end_factor = 0", not_named="end_factor is ignored"),
]

CORRECT = [
    Variant("ok-step-chainable", "step_lr", STEP_CHAINABLE, P1),
    Variant("ok-step-loop", "step_lr", STEP_LOOP, P1),
    Variant("ok-cos-numpy", "cosine_lr", COS_NUMPY, P2),
    Variant("ok-cos-chainable", "cosine_lr", COS_CHAINABLE, P2),
    Variant("ok-lin-interp", "linear_lr", LIN_INTERP, P3),
    Variant("ok-lin-branches", "linear_lr", LIN_BRANCHES, P3),
    Variant("ok-wc-helpers", "warmup_cosine", WC_HELPERS, P4),
    Variant("ok-wc-numpy", "warmup_cosine", WC_NUMPY, P4),
    Variant("ok-fit-helper", "fit", FIT_HELPER, P5),
    Variant("ok-fit-flat-loop", "fit", FIT_FLAT, P5),
    # issue 23
    Variant("ok-step-own-counter", "step_lr", STEP_OWN_COUNTER, P1),
    Variant("ok-cos-torch-float64", "cosine_lr", COS_TORCH_FLOAT64, P2),
    Variant("ok-lin-precomputed-factors", "linear_lr", LIN_PRECOMPUTED, P3),
    Variant("ok-fit-step-counter-numpy-mean", "fit", FIT_COUNTER, P5),
]
