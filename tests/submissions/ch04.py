"""Chapter 4 (dropout): known-buggy and correct answers.

Each buggy answer reproduces one mistake named in COURSE.md or in the chapter's issue (no 1/(1 - p) scaling in
training or scaling in eval, keep and drop probabilities confused, a new mask drawn in backward, dropout active in
eval, one mask shared across the batch, the network left in train mode after MC dropout, p = 1 giving NaN) or breaks
one item of a part's contract; ``visible`` and ``hidden`` are the words the visible test's message and the grader's
feedback must contain. The correct ones are other valid ways of writing each answer.
"""

from __future__ import annotations

from submissions import Variant

P1, P2, P3, P4 = "test_dropout_forward", "test_dropout_backward", "test_dropout_module", "test_mc_dropout_predict"

# ---------------------------------------------------------------- Part 1: dropout_forward
FORWARD_NO_SCALING = '''
def dropout_forward(x, p, rng):
    mask = rng.random(x.shape) >= p
    return x * mask, mask
'''
FORWARD_KEEP_DROP = '''
def dropout_forward(x, p, rng):
    mask = rng.random(x.shape) < p          # p used as the keep probability
    if p == 0:
        return np.zeros_like(x), mask
    return (x * mask / p).astype(x.dtype), mask
'''
FORWARD_SHARED = '''
def dropout_forward(x, p, rng):
    mask = np.broadcast_to(rng.random(x.shape[1:]) >= p, x.shape)   # one mask for the whole batch
    if p == 1:
        return np.zeros_like(x), mask
    return (x * mask / (1 - p)).astype(x.dtype), mask
'''
FORWARD_P1_NAN = '''
def dropout_forward(x, p, rng):
    mask = rng.random(x.shape) >= p
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x * mask / (1 - p)).astype(x.dtype), mask
'''
FORWARD_FLOAT64 = '''
def dropout_forward(x, p, rng):
    mask = (rng.random(x.shape) >= p).astype(float)
    if p == 1:
        return np.zeros_like(x), mask
    return x * mask / (1 - p), mask
'''
FORWARD_INPLACE = '''
def dropout_forward(x, p, rng):
    mask = rng.random(x.shape) >= p
    if p == 1:
        x *= 0
        return x, mask
    x *= mask / (1 - p)
    return x, mask
'''
FORWARD_BINOMIAL = '''
def dropout_forward(x, p, rng):
    mask = rng.binomial(1, 1 - p, size=x.shape).astype(bool)
    if p == 1:
        return np.zeros_like(x), mask
    return (x * mask / (1 - p)).astype(x.dtype), mask
'''
FORWARD_WHERE = '''
def dropout_forward(x, p, rng):
    keep = rng.random(x.shape) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return np.where(keep, x * x.dtype.type(scale), x.dtype.type(0)), keep
'''
FORWARD_UNIFORM_FLOAT_MASK = '''
def dropout_forward(x, p, rng):
    u = rng.uniform(size=x.shape)             # the same numbers as rng.random(x.shape)
    mask = (u >= p).astype(x.dtype)           # 0/1 in x's dtype
    if p >= 1:
        return np.zeros(x.shape, dtype=x.dtype), mask
    out = x.copy()
    out *= mask
    out /= 1 - p
    return out, mask
'''

# ---------------------------------------------------------------- Part 2: dropout_backward
BACKWARD_NEW_MASK = '''
def dropout_backward(grad_out, mask, p):
    if p == 1:
        return np.zeros_like(grad_out)
    mask = np.random.random(grad_out.shape) >= p       # a fresh mask: not the one the forward pass used
    return (grad_out * mask / (1 - p)).astype(grad_out.dtype)
'''
BACKWARD_NO_SCALING = '''
def dropout_backward(grad_out, mask, p):
    return grad_out * mask
'''
BACKWARD_P1_NAN = '''
def dropout_backward(grad_out, mask, p):
    with np.errstate(divide="ignore", invalid="ignore"):
        return (grad_out * mask / (1 - p)).astype(grad_out.dtype)
'''
BACKWARD_FLOAT64 = '''
def dropout_backward(grad_out, mask, p):
    if p == 1:
        return np.zeros_like(grad_out)
    return grad_out * np.asarray(mask, dtype=float) / (1 - p)
'''
BACKWARD_WHERE = '''
def dropout_backward(grad_out, mask, p):
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return np.where(mask, grad_out * grad_out.dtype.type(scale), grad_out.dtype.type(0))
'''
BACKWARD_LOOP = '''
def dropout_backward(grad_out, mask, p):
    grad = np.zeros_like(grad_out)
    if p < 1:
        for i in np.ndindex(grad_out.shape):
            if mask[i]:
                grad[i] = grad_out[i] / (1 - p)
    return grad
'''

# ---------------------------------------------------------------- Part 3: Dropout
MODULE_HEAD = '''
class Dropout(nn.Module):
    def __init__(self, p=0.5, generator=None):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.generator = generator
'''
MASK = "torch.rand(x.shape, dtype=x.dtype, device=x.device, generator=self.generator)"


def _module(forward: str, head: str = MODULE_HEAD) -> str:
    return head + "\n    def forward(self, x):\n" + "\n".join("        " + ln for ln in forward.strip().splitlines())


MODULE_NO_SCALING = _module(f'''
if not self.training:
    return x
return x * ({MASK} >= self.p)
''')
MODULE_KEEP_DROP = _module(f'''
if not self.training or self.p == 1:
    return x
if self.p == 0:
    return torch.zeros_like(x)
return x * ({MASK} < self.p) / self.p
''')
MODULE_ACTIVE_IN_EVAL = _module(f'''
if self.p == 1:
    return torch.zeros_like(x)
return x * ({MASK} >= self.p) / (1 - self.p)
''')
MODULE_SCALED_IN_EVAL = _module(f'''
if not self.training:
    return x * (1 - self.p)
if self.p == 1:
    return torch.zeros_like(x)
return x * ({MASK} >= self.p) / (1 - self.p)
''')
MODULE_NON_INVERTED = _module(f'''
if not self.training:
    return x * (1 - self.p)
return x * ({MASK} >= self.p)
''')
MODULE_SHARED = _module('''
if not self.training:
    return x
if self.p == 1:
    return torch.zeros_like(x)
mask = torch.rand(x.shape[1:], dtype=x.dtype, generator=self.generator) >= self.p
return x * mask / (1 - self.p)
''')
MODULE_P1_NAN = _module(f'''
if not self.training:
    return x
return x * ({MASK} >= self.p) / (1 - self.p)
''')
MODULE_NO_VALUEERROR = _module(f'''
if not self.training:
    return x
if self.p == 1:
    return torch.zeros_like(x)
return x * ({MASK} >= self.p) / (1 - self.p)
''', head='''
class Dropout(nn.Module):
    def __init__(self, p=0.5, generator=None):
        super().__init__()
        self.p = p
        self.generator = generator
''')
MODULE_IGNORES_GENERATOR = _module('''
if not self.training:
    return x
if self.p == 1:
    return torch.zeros_like(x)
return x * (torch.rand(x.shape, dtype=x.dtype) >= self.p) / (1 - self.p)
''')
MODULE_NO_AUTOGRAD = _module(f'''
if not self.training:
    return x
if self.p == 1:
    return torch.zeros_like(x)
mask = ({MASK} >= self.p).numpy()
return torch.tensor(x.detach().numpy() * mask / (1 - self.p))
''')
MODULE_WHERE = _module(f'''
if self.training and self.p > 0:
    keep = {MASK} >= self.p
    scale = 0.0 if self.p == 1 else 1.0 / (1.0 - self.p)
    return torch.where(keep, x * scale, torch.zeros_like(x))
return x
''', head='''
class Dropout(nn.Module):
    def __init__(self, p=0.5, generator=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError("p must be in [0, 1]")
        self.p = float(p)
        self.generator = generator
''')
MODULE_MUL_SCALE = _module(f'''
if not self.training:
    return x
mask = ({MASK} >= self.p).to(x.dtype)
return x * mask * (0.0 if self.p == 1 else 1.0 / (1.0 - self.p))
''')

# ---------------------------------------------------------------- Part 4: mc_dropout_predict
MC_LEFT_IN_TRAIN = '''
def mc_dropout_predict(net, x, num_samples=100):
    net.eval()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.train()
    with torch.no_grad():
        samples = torch.stack([net(x) for _ in range(num_samples)])
    net.train()                               # "back to training"
    return samples.mean(dim=0), samples.std(dim=0)
'''
MC_WHOLE_NET_TRAIN = '''
def mc_dropout_predict(net, x, num_samples=100):
    modes = {m: m.training for m in net.modules()}
    net.train()                               # dropout on, but BatchNorm on batch statistics too
    with torch.no_grad():
        samples = torch.stack([net(x) for _ in range(num_samples)])
    for m, mode in modes.items():
        m.training = mode
    return samples.mean(dim=0), samples.std(dim=0)
'''
MC_DROPOUT_OFF = '''
def mc_dropout_predict(net, x, num_samples=100):
    modes = {m: m.training for m in net.modules()}
    net.eval()
    with torch.no_grad():
        samples = torch.stack([net(x) for _ in range(num_samples)])
    for m, mode in modes.items():
        m.training = mode
    return samples.mean(dim=0), samples.std(dim=0)
'''
MC_BIASED_STD = '''
def mc_dropout_predict(net, x, num_samples=100):
    modes = {m: m.training for m in net.modules()}
    net.eval()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.train()
    with torch.no_grad():
        samples = torch.stack([net(x) for _ in range(num_samples)])
    for m, mode in modes.items():
        m.training = mode
    return samples.mean(dim=0), samples.std(dim=0, unbiased=False)
'''
MC_ALWAYS_EVAL_AFTER = '''
def mc_dropout_predict(net, x, num_samples=100):
    net.eval()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.train()
    with torch.no_grad():
        samples = torch.stack([net(x) for _ in range(num_samples)])
    net.eval()                                # predictions are made in eval mode, so leave it there
    return samples.mean(dim=0), samples.std(dim=0)
'''
MC_ROOT_ONLY = '''
def mc_dropout_predict(net, x, num_samples=100):
    was_training = net.training
    net.eval()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.train()
    with torch.no_grad():
        samples = torch.stack([net(x) for _ in range(num_samples)])
    net.train(was_training)                   # every module gets the network's flag, not its own
    return samples.mean(dim=0), samples.std(dim=0)
'''
MC_WITH_GRAD = '''
def mc_dropout_predict(net, x, num_samples=100):
    modes = {m: m.training for m in net.modules()}
    net.eval()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.train()
    samples = torch.stack([net(x) for _ in range(num_samples)])
    for m, mode in modes.items():
        m.training = mode
    return samples.mean(dim=0), samples.std(dim=0)
'''
MC_WELFORD = '''
def mc_dropout_predict(net, x, num_samples=100):
    """Welford's running update instead of a stack of samples: less memory, no cancellation."""
    saved = [(m, m.training) for m in net.modules()]
    for m in net.modules():
        m.training = isinstance(m, nn.Dropout)
    with torch.no_grad():
        mean = m2 = 0.0
        for k in range(1, num_samples + 1):
            y = net(x)
            delta = y - mean
            mean = mean + delta / k
            m2 = m2 + delta * (y - mean)
    for m, mode in saved:
        m.training = mode
    return mean, (m2 / (num_samples - 1)).sqrt()
'''
MC_ONLY_BATCHNORM_EVAL = '''
def mc_dropout_predict(net, x, num_samples=100):
    """Train mode for the whole network, BatchNorm layers back in eval mode: other mode-dependent modules stay in
    train mode."""
    saved = [(m, m.training) for m in net.modules()]
    net.train()
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
    with torch.no_grad():
        samples = torch.stack([net(x) for _ in range(num_samples)])
    for m, mode in saved:
        m.training = mode
    return samples.mean(0), samples.std(0)
'''
MC_RUNNING_SUMS = '''
def mc_dropout_predict(net, x, num_samples=100):
    """Running sums of y and y * y instead of a stack of samples: E[y^2] - E[y]^2 cancels for a large mean."""
    saved = [(m, m.training) for m in net.modules()]
    for m in net.modules():
        m.training = isinstance(m, nn.Dropout)
    total = total_sq = 0.0
    with torch.no_grad():
        for _ in range(num_samples):
            y = net(x)
            total = total + y
            total_sq = total_sq + y * y
    for m, mode in saved:
        m.training = mode
    mean = total / num_samples
    var = (total_sq - num_samples * mean * mean) / (num_samples - 1)
    return mean, var.clamp(min=0).sqrt()
'''
MC_APPLY_INFERENCE_MODE = '''
def mc_dropout_predict(net, x, num_samples=100):
    names = {name: m.training for name, m in net.named_modules()}
    net.eval()
    net.apply(lambda m: m.train() if isinstance(m, nn.Dropout) else None)
    try:
        with torch.inference_mode():
            outs = [net(x) for _ in range(num_samples)]
    finally:
        for name, m in net.named_modules():
            m.training = names[name]
    stacked = torch.stack(outs)
    return stacked.mean(0), torch.var(stacked, dim=0).sqrt()
'''

# ---------------------------------------------------------------- issue 23: the edges of the contracts
# Randomness: numpy's global random state instead of the rng passed in.
FORWARD_GLOBAL_RNG = '''
def dropout_forward(x, p, rng):
    mask = np.random.random(x.shape) >= p
    if p == 1:
        return np.zeros_like(x), mask
    return (x * mask / (1 - p)).astype(x.dtype), mask
'''
# Randomness: generator=None replaced by a generator of the layer's own (torch.manual_seed no longer decides).
MODULE_PRIVATE_GENERATOR = _module(f'''
if not self.training:
    return x
if self.p == 1:
    return torch.zeros_like(x)
return x * ({MASK} >= self.p) / (1 - self.p)
''', head=MODULE_HEAD.replace("self.generator = generator",
                              "self.generator = generator if generator is not None else torch.Generator()"))
# State over time: the mask drawn once and cached for inputs of the same shape.
MODULE_CACHED_MASK = _module(f'''
if not self.training:
    return x
if self.p == 1:
    return torch.zeros_like(x)
if getattr(self, "mask", None) is None or self.mask.shape != x.shape:
    self.mask = {MASK} >= self.p
return x * self.mask / (1 - self.p)
''')
# State over time: the scale decided once in __init__ (layer.p set later is half ignored).
MODULE_SCALE_AT_INIT = _module(f'''
if not self.training:
    return x
return x * ({MASK} >= self.p) * self.scale
''', head=MODULE_HEAD + "        self.scale = 0.0 if p == 1 else 1.0 / (1.0 - p)\n")
# Composition: only the top-level children are searched for dropout layers.
MC_CHILDREN = MC_BIASED_STD.replace("for m in net.modules():", "for m in net.children():").replace(
    "samples.std(dim=0, unbiased=False)", "samples.std(dim=0)")
# Randomness: the global seed reset before every sample (every mask the same).
MC_RESEEDED = MC_BIASED_STD.replace("samples = torch.stack([net(x) for _ in range(num_samples)])",
                                    "samples = torch.stack([_seeded(net, x) for _ in range(num_samples)])").replace(
    "samples.std(dim=0, unbiased=False)", "samples.std(dim=0)").replace("def mc_dropout_predict", '''def _seeded(net, x):
    torch.manual_seed(0)                      # "reproducible" samples
    return net(x)


def mc_dropout_predict''')

# Correct, on the edges: a list where the text says tuple, p = 1 without a draw.
FORWARD_LIST_NO_DRAW_AT_P1 = '''
def dropout_forward(x, p, rng):
    if p == 1:
        return [np.zeros_like(x), np.zeros(x.shape, dtype=bool)]
    keep = rng.random(x.shape) >= p
    return [np.where(keep, x / x.dtype.type(1 - p), x.dtype.type(0)), keep]
'''

BUGGY = [
    # Part 1
    Variant("bug-forward-no-scaling", "dropout_forward", FORWARD_NO_SCALING, P1,
            visible="the kept units are not scaled by 1/(1 - p)", hidden="the kept units are not scaled by 1/(1 - p)"),
    Variant("bug-forward-keep-drop-swapped", "dropout_forward", FORWARD_KEEP_DROP, P1,
            visible="p is used as the keep probability", hidden="p is used as the keep probability"),
    Variant("bug-forward-shared-mask", "dropout_forward", FORWARD_SHARED, P1,
            visible="one mask is shared across the batch", hidden="one mask is shared across the batch"),
    Variant("bug-forward-p1-nan", "dropout_forward", FORWARD_P1_NAN, P1,
            visible="p = 1 gives NaN or inf", hidden="p = 1 gives NaN or inf"),
    Variant("bug-forward-float64-mask", "dropout_forward", FORWARD_FLOAT64, P1,
            visible="a float32 input must give a float32 output", hidden="a float32 input must give a float32 output"),
    Variant("bug-forward-inplace", "dropout_forward", FORWARD_INPLACE, P1,
            visible="changed its input x in place", hidden="x was modified in place"),
    Variant("bug-forward-binomial-mask", "dropout_forward", FORWARD_BINOMIAL, P1,
            visible="the mask is not the one the exercise specifies",
            hidden="the mask is not the one the exercise specifies"),
    # Part 2
    Variant("bug-backward-new-mask", "dropout_backward", BACKWARD_NEW_MASK, P2,
            visible="a new mask was drawn in backward", hidden="a new mask was drawn in backward"),
    Variant("bug-backward-no-scaling", "dropout_backward", BACKWARD_NO_SCALING, P2,
            visible="the gradient is not scaled by 1/(1 - p)", hidden="the gradient is not scaled by 1/(1 - p)"),
    Variant("bug-backward-p1-nan", "dropout_backward", BACKWARD_P1_NAN, P2,
            visible="p = 1 gives NaN or inf", hidden="p = 1 gives NaN or inf"),
    Variant("bug-backward-float64", "dropout_backward", BACKWARD_FLOAT64, P2,
            visible="a float32 grad_out must give a float32 gradient",
            hidden="a float32 grad_out must give a float32 gradient"),
    # Part 3
    Variant("bug-module-no-scaling", "dropout_module", MODULE_NO_SCALING, P3,
            visible="the kept units are not scaled by 1/(1 - p)", hidden="the kept units are not scaled by 1/(1 - p)"),
    Variant("bug-module-keep-drop-swapped", "dropout_module", MODULE_KEEP_DROP, P3,
            visible="p is used as the keep probability", hidden="p is used as the keep probability"),
    Variant("bug-module-active-in-eval", "dropout_module", MODULE_ACTIVE_IN_EVAL, P3,
            visible="dropout is active in eval mode", hidden="dropout is active in eval mode"),
    Variant("bug-module-scaled-in-eval", "dropout_module", MODULE_SCALED_IN_EVAL, P3,
            visible="the output is scaled in eval mode", hidden="the output is scaled in eval mode"),
    Variant("bug-module-non-inverted", "dropout_module", MODULE_NON_INVERTED, P3,
            visible="the kept units are not scaled by 1/(1 - p)", hidden="the original, non-inverted dropout"),
    Variant("bug-module-shared-mask", "dropout_module", MODULE_SHARED, P3,
            visible="one mask is shared across the batch", hidden="one mask is shared across the batch"),
    Variant("bug-module-p1-nan", "dropout_module", MODULE_P1_NAN, P3,
            visible="p = 1 gives NaN or inf", hidden="p = 1 gives NaN or inf"),
    Variant("bug-module-no-valueerror", "dropout_module", MODULE_NO_VALUEERROR, P3,
            visible="must raise ValueError for p outside [0, 1]", hidden="must raise ValueError for p outside [0, 1]"),
    Variant("bug-module-ignores-generator", "dropout_module", MODULE_IGNORES_GENERATOR, P3,
            visible="the generator passed in is ignored", hidden="the generator passed in is ignored"),
    Variant("bug-module-no-autograd", "dropout_module", MODULE_NO_AUTOGRAD, P3,
            visible="use torch operations on x", hidden="no gradient reaches x"),
    # Part 4
    Variant("bug-mc-left-in-train", "mc_dropout_predict", MC_LEFT_IN_TRAIN, P4,
            visible="the network is left in train mode after MC dropout",
            hidden="the network is left in train mode after MC dropout"),
    Variant("bug-mc-only-batchnorm-eval", "mc_dropout_predict", MC_ONLY_BATCHNORM_EVAL, P4, visible=None,
            hidden="a module other than nn.Dropout ran in training mode"),
    Variant("bug-mc-sum-of-squares", "mc_dropout_predict", MC_RUNNING_SUMS, P4, visible=None,
            hidden="cancels catastrophically"),
    Variant("bug-mc-whole-net-train", "mc_dropout_predict", MC_WHOLE_NET_TRAIN, P4,
            visible="BatchNorm used and updated batch statistics", hidden="BatchNorm used and updated batch statistics"),
    Variant("bug-mc-dropout-off", "mc_dropout_predict", MC_DROPOUT_OFF, P4,
            visible="dropout was not active while sampling", hidden="dropout was not active while sampling"),
    Variant("bug-mc-biased-std", "mc_dropout_predict", MC_BIASED_STD, P4,
            visible="std is the biased estimate", hidden="std is the biased estimate"),
    Variant("bug-mc-always-eval-after", "mc_dropout_predict", MC_ALWAYS_EVAL_AFTER, P4,
            visible="the network's mode is not restored", hidden="the network's mode is not restored"),
    Variant("bug-mc-restores-root-only", "mc_dropout_predict", MC_ROOT_ONLY, P4,
            visible=None, hidden="the network's mode is not restored"),
    Variant("bug-mc-tracks-grad", "mc_dropout_predict", MC_WITH_GRAD, P4,
            visible="sample under torch.no_grad()", hidden="sample under torch.no_grad()"),
    # issue 23: randomness, state over time, composition
    Variant("bug-forward-global-random-state", "dropout_forward", FORWARD_GLOBAL_RNG, P1,
            visible="the mask is not the one the exercise specifies", hidden="global random state"),
    Variant("bug-module-private-generator", "dropout_module", MODULE_PRIVATE_GENERATOR, P3, visible=None,
            hidden="do not follow torch.manual_seed"),
    Variant("bug-module-cached-mask", "dropout_module", MODULE_CACHED_MASK, P3, visible=None,
            hidden="the same mask is used in every call"),
    Variant("bug-module-scale-at-init", "dropout_module", MODULE_SCALE_AT_INIT, P3, visible=None,
            hidden="keeps using the p it was built with"),
    Variant("bug-mc-top-level-children", "mc_dropout_predict", MC_CHILDREN, P4, visible=None,
            hidden="net.modules()"),
    Variant("bug-mc-reseeded-samples", "mc_dropout_predict", MC_RESEEDED, P4, visible=None,
            hidden="the random state is reset between the samples"),
]

CORRECT = [
    Variant("ok-forward-where", "dropout_forward", FORWARD_WHERE, P1),
    Variant("ok-forward-uniform-float-mask", "dropout_forward", FORWARD_UNIFORM_FLOAT_MASK, P1),
    Variant("ok-backward-where", "dropout_backward", BACKWARD_WHERE, P2),
    Variant("ok-backward-loop", "dropout_backward", BACKWARD_LOOP, P2),
    Variant("ok-module-where", "dropout_module", MODULE_WHERE, P3),
    Variant("ok-module-mul-scale", "dropout_module", MODULE_MUL_SCALE, P3),
    Variant("ok-mc-welford", "mc_dropout_predict", MC_WELFORD, P4),
    Variant("ok-mc-apply-inference-mode", "mc_dropout_predict", MC_APPLY_INFERENCE_MODE, P4),
    Variant("ok-forward-list-no-draw-at-p1", "dropout_forward", FORWARD_LIST_NO_DRAW_AT_P1, P1),
]
