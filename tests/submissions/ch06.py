"""Chapter 6 (batch normalization): known-buggy and correct answers.

Each buggy answer reproduces one mistake of COURSE.md's list or of issue 13 (batch statistics at eval, running
statistics never updated, reversed momentum, biased running variance, eps outside the square root, the wrong
axis, a backward pass without the paths through the mean and the variance, running statistics updated in eval
mode, num_batches_tracked ignored with momentum=None), or breaks one item of a part's contract. The correct ones
are other valid ways of writing each answer (loops over channels, the long chain rule, reshaping a 3-D input).
"""

from __future__ import annotations

from submissions import Variant

F, FT = "batch_norm_forward", "test_batch_norm_forward"
B, BT = "batch_norm_backward", "test_batch_norm_backward"
M, MT = "BatchNorm1d", "test_batchnorm_module"
U, UT = "update_bn", "test_update_bn"

# ---------------------------------------------------------------- Part 1: the numpy forward pass
_FWD = '''
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
    rm, rv = np.array(running_mean, float), np.array(running_var, float)
    m = x.size // x.shape[1]
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    {update}
    {stats}
    x_hat = (x - mu.reshape(shape)) / {denominator}
    return gamma.reshape(shape) * x_hat + beta.reshape(shape), rm, rv
'''
_UPDATE = ("if training:\n        rm = (1 - momentum) * rm + momentum * mean\n"
           "        rv = (1 - momentum) * rv + momentum * var * m / (m - 1)")
_STATS = "mu, s2 = (mean, var) if training else (rm, rv)"
_DEN = "np.sqrt(s2.reshape(shape) + eps)"


def _fwd(update=_UPDATE, stats=_STATS, denominator=_DEN):
    return _FWD.format(update=update, stats=stats, denominator=denominator)


FWD_BATCH_AT_EVAL = _fwd(stats="mu, s2 = mean, var")
FWD_NEVER_UPDATED = _fwd(update="pass")
FWD_REVERSED = _fwd(update=_UPDATE.replace("(1 - momentum) * rm + momentum * mean",
                                           "momentum * rm + (1 - momentum) * mean")
                    .replace("(1 - momentum) * rv + momentum * var * m / (m - 1)",
                             "momentum * rv + (1 - momentum) * var * m / (m - 1)"))
FWD_BIASED = _fwd(update=_UPDATE.replace(" * m / (m - 1)", ""))
FWD_EPS_OUTSIDE = _fwd(denominator="(np.sqrt(s2.reshape(shape)) + eps)")
FWD_UPDATED_IN_EVAL = _fwd(update=_UPDATE.replace("if training:", "if True:"),
                           stats="mu, s2 = (mean, var) if training else (np.array(running_mean, float), "
                                 "np.array(running_var, float))")
FWD_UNBIASED_NORM = _fwd(stats="mu, s2 = (mean, var * m / (m - 1)) if training else (rm, rv)")
FWD_EPS_FIXED = _fwd(denominator="np.sqrt(s2.reshape(shape) + 1e-5)")
FWD_MOMENTUM_FIXED = _fwd(update=_UPDATE.replace("momentum", "0.1"))
FWD_AXIS0_3D = '''
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
    rm, rv = np.array(running_mean, float), np.array(running_var, float)
    m = x.shape[0]
    if training:
        mu, s2 = x.mean(axis=0), x.var(axis=0)
        rm = (1 - momentum) * rm + momentum * (mu if x.ndim == 2 else mu.mean(axis=1))
        rv = (1 - momentum) * rv + momentum * (s2 if x.ndim == 2 else s2.mean(axis=1)) * m / (m - 1)
        x_hat = (x - mu) / np.sqrt(s2 + eps)
    else:
        x_hat = (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + eps)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape), rm, rv
'''
FWD_PER_EXAMPLE = '''
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
    rm, rv = np.array(running_mean, float), np.array(running_var, float)
    m = x.size // x.shape[1]
    if training:
        rm = (1 - momentum) * rm + momentum * x.mean(axis=axes)
        rv = (1 - momentum) * rv + momentum * x.var(axis=axes) * m / (m - 1)
        x_hat = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    else:
        x_hat = (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + eps)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape), rm, rv
'''

FWD_LOOP = '''
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    out = np.empty_like(x, dtype=float)
    new_mean = np.array(running_mean, dtype=float)
    new_var = np.array(running_var, dtype=float)
    for c in range(x.shape[1]):
        values = x[:, c].ravel()
        if training:
            mu = values.mean()
            var = ((values - mu) ** 2).mean()
            new_mean[c] = (1 - momentum) * running_mean[c] + momentum * mu
            new_var[c] = (1 - momentum) * running_var[c] + momentum * ((values - mu) ** 2).sum() / (values.size - 1)
        else:
            mu, var = running_mean[c], running_var[c]
        out[:, c] = gamma[c] * (x[:, c] - mu) / np.sqrt(var + eps) + beta[c]
    return out, new_mean, new_var
'''
FWD_RESHAPE = '''
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    x3 = x if x.ndim == 3 else x[:, :, None]
    flat = np.moveaxis(x3, 1, 0).reshape(x3.shape[1], -1)          # (C, m)
    if training:
        mean, var = flat.mean(axis=1), flat.var(axis=1)
        unbiased = flat.var(axis=1, ddof=1)
        new_mean = running_mean + momentum * (mean - running_mean)
        new_var = running_var + momentum * (unbiased - running_var)
    else:
        mean, var = np.asarray(running_mean, float), np.asarray(running_var, float)
        new_mean, new_var = np.copy(running_mean), np.copy(running_var)
    scale = gamma / np.sqrt(var + eps)
    out3 = x3 * scale[None, :, None] + (beta - mean * scale)[None, :, None]
    return out3.reshape(x.shape), new_mean, new_var
'''

# ---------------------------------------------------------------- Part 2: the numpy backward pass
_BWD = '''
def batch_norm_backward(grad_out, x, gamma, eps=1e-5):
    n = x.shape[0]
    sigma = np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) / sigma
    grad_beta = grad_out.sum(axis=0)
    grad_gamma = (grad_out * x_hat).sum(axis=0)
    {body}
    return grad_x, grad_gamma, grad_beta
'''
BWD_NO_PATHS = _BWD.format(body="grad_x = gamma * grad_out / sigma")
BWD_NO_VAR = _BWD.format(body="grad_x = gamma / sigma * (grad_out - grad_out.mean(axis=0))")
BWD_NO_MEAN = _BWD.format(body="grad_x = gamma / sigma * (grad_out - x_hat * (grad_out * x_hat).mean(axis=0))")
BWD_MEANS = _BWD.format(body="grad_x = gamma / (n * sigma) * (n * grad_out - grad_beta - x_hat * grad_gamma)\n"
                             "    grad_gamma, grad_beta = grad_gamma / n, grad_beta / n")
BWD_EPS_OUTSIDE = '''
def batch_norm_backward(grad_out, x, gamma, eps=1e-5):
    n = x.shape[0]
    sigma = np.sqrt(x.var(axis=0)) + eps
    x_hat = (x - x.mean(axis=0)) / sigma
    grad_beta = grad_out.sum(axis=0)
    grad_gamma = (grad_out * x_hat).sum(axis=0)
    grad_x = gamma / (n * sigma) * (n * grad_out - grad_beta - x_hat * grad_gamma)
    return grad_x, grad_gamma, grad_beta
'''

BWD_LONG = '''
def batch_norm_backward(grad_out, x, gamma, eps=1e-5):
    n = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc ** 2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = xc * inv_std
    grad_beta = grad_out.sum(axis=0)
    grad_gamma = (grad_out * x_hat).sum(axis=0)
    d_xhat = grad_out * gamma
    d_var = (d_xhat * xc).sum(axis=0) * -0.5 * inv_std ** 3
    d_mu = -(d_xhat * inv_std).sum(axis=0) + d_var * (-2.0 * xc).mean(axis=0)
    grad_x = d_xhat * inv_std + d_var * 2.0 * xc / n + d_mu / n
    return grad_x, grad_gamma, grad_beta
'''
BWD_LOOP = '''
def batch_norm_backward(grad_out, x, gamma, eps=1e-5):
    grad_x = np.zeros_like(x, dtype=float)
    grad_gamma = np.zeros(x.shape[1])
    grad_beta = np.zeros(x.shape[1])
    n = x.shape[0]
    for c in range(x.shape[1]):
        v, g = x[:, c], grad_out[:, c]
        s = np.sqrt(v.var() + eps)
        h = (v - v.mean()) / s
        grad_beta[c] = g.sum()
        grad_gamma[c] = (g * h).sum()
        grad_x[:, c] = gamma[c] / s * (g - g.mean() - h * (g * h).mean())
    return grad_x, grad_gamma, grad_beta
'''

# ---------------------------------------------------------------- Part 3: the module
_MOD = '''
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if {affine_test}:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if {tracking_test}:
            {buffers}
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self._count = 0

    def forward(self, x):
        if {dim_test}:
            raise ValueError("expected 2D or 3D input")
        axes = {axes}
        shape = (1, -1) if x.dim() == 2 else (1, -1, 1)
        if {use_batch}:
            m = x.numel() // x.shape[1]
            if {one_test}:
                raise ValueError("Expected more than 1 value per channel when training")
            mean, var = x.mean(dim=axes), x.var(dim=axes, unbiased=False)
            mean_n, var_n = {norm_stats}
            if {update_test}:
                with torch.no_grad():
                    {count}
                    f = {factor}
                    self.running_mean.copy_({mean_update})
                    self.running_var.copy_({var_update})
        else:
            mean_n, var_n = self.running_mean, self.running_var
        out = (x - mean_n.reshape(shape)) / {denominator}
        if self.weight is not None:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        return out
'''
_MOD_DEFAULTS = dict(
    affine_test="affine", tracking_test="track_running_stats",
    buffers='self.register_buffer("running_mean", torch.zeros(num_features))\n'
            '            self.register_buffer("running_var", torch.ones(num_features))\n'
            '            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))',
    dim_test="x.dim() not in (2, 3)", axes="(0,) if x.dim() == 2 else (0, 2)",
    use_batch="self.training or not self.track_running_stats", one_test="m < 2", norm_stats="mean, var",
    update_test="self.training and self.track_running_stats", count="self.num_batches_tracked += 1",
    factor="1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum",
    mean_update="(1 - f) * self.running_mean + f * mean",
    var_update="(1 - f) * self.running_var + f * var * m / (m - 1)",
    denominator="torch.sqrt(var_n.reshape(shape) + self.eps)",
)


def _mod(**changes):
    return _MOD.format(**{**_MOD_DEFAULTS, **changes})


MOD_REFERENCE = _mod()  # the template itself must keep full marks (a correct alternative)
MOD_BATCH_AT_EVAL = _mod(use_batch="True", update_test="self.training and self.track_running_stats")
MOD_NEVER_UPDATED = _mod(mean_update="self.running_mean", var_update="self.running_var")
MOD_REVERSED = _mod(mean_update="f * self.running_mean + (1 - f) * mean",
                    var_update="f * self.running_var + (1 - f) * var * m / (m - 1)")
MOD_BIASED = _mod(var_update="(1 - f) * self.running_var + f * var")
MOD_EPS_OUTSIDE = _mod(denominator="(torch.sqrt(var_n.reshape(shape)) + self.eps)")
MOD_WRONG_AXIS = _mod(axes="0", norm_stats="(mean, var) if x.dim() == 2 else (x.mean(dim=0), "
                                           "x.var(dim=0, unbiased=False))",
                      mean_update="(1 - f) * self.running_mean + f * (mean if x.dim() == 2 else mean.mean(-1))",
                      var_update="(1 - f) * self.running_var + f * (var if x.dim() == 2 else var.mean(-1)) "
                                 "* m / (m - 1)",
                      denominator="torch.sqrt((var_n.reshape(shape) if var_n.dim() == 1 else var_n) + self.eps)")\
    .replace("out = (x - mean_n.reshape(shape))", "out = (x - (mean_n.reshape(shape) if mean_n.dim() == 1 else mean_n))")
MOD_UPDATED_IN_EVAL = _mod(use_batch="True", one_test="self.training and m < 2",
                           norm_stats="(mean, var) if self.training or not self.track_running_stats else "
                                      "(self.running_mean.clone(), self.running_var.clone())",
                           update_test="self.track_running_stats")
MOD_NBT_IGNORED = _mod(factor="0.1 if self.momentum is None else self.momentum")
MOD_PY_COUNTER = _mod(count="self.num_batches_tracked += 1\n                    self._count += 1",
                      factor="1.0 / self._count if self.momentum is None else self.momentum")
MOD_NBT_NOT_COUNTED = _mod(count="if self.momentum is None:\n                        "
                                 "self.num_batches_tracked += 1")
MOD_BATCH_OF_ONE = _mod(one_test="False")
MOD_NO_DIM_CHECK = _mod(dim_test="False")
MOD_NO_TRACKING_BUFFERS = _mod(tracking_test="True", use_batch="self.training",
                               update_test="self.training and self.track_running_stats")
MOD_PLAIN_ATTRIBUTES = _mod(buffers="self.running_mean = torch.zeros(num_features)\n"
                                    "            self.running_var = torch.ones(num_features)\n"
                                    "            self.num_batches_tracked = torch.tensor(0, dtype=torch.long)")
MOD_FLOAT_NBT = _mod(buffers=_MOD_DEFAULTS["buffers"].replace("torch.tensor(0, dtype=torch.long)", "torch.tensor(0.0)"))
MOD_AFFINE_IGNORED = _mod(affine_test="True").replace("if self.weight is not None:", "if self.affine:")
MOD_UNBIASED_NORM = _mod(norm_stats="mean, var * m / (m - 1)")

MOD_TRANSPOSE = '''
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        for name, value in (("running_mean", torch.zeros(num_features)), ("running_var", torch.ones(num_features)),
                            ("num_batches_tracked", torch.zeros((), dtype=torch.long))):
            self.register_buffer(name, value if track_running_stats else None)

    def forward(self, x):
        if x.ndim == 2:
            flat = x
        elif x.ndim == 3:
            flat = x.transpose(1, 2).reshape(-1, x.shape[1])      # (N * L, C)
        else:
            raise ValueError(f"expected 2D or 3D input (got {x.ndim}D input)")
        if self.training and flat.shape[0] == 1:
            raise ValueError("Expected more than 1 value per channel when training")
        if self.training or self.running_mean is None:
            if flat.shape[0] == 1:
                raise ValueError("Expected more than 1 value per channel when training")
            mean = flat.mean(0)
            var = ((flat - mean) ** 2).mean(0)
            if self.training and self.running_mean is not None:
                self.num_batches_tracked.add_(1)
                weight = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.item()
                m = flat.shape[0]
                self.running_mean.lerp_(mean.detach(), weight)
                self.running_var.lerp_(var.detach() * m / (m - 1), weight)
        else:
            mean, var = self.running_mean, self.running_var
        y = (flat - mean) * torch.rsqrt(var + self.eps)
        if self.affine:
            y = y * self.weight + self.bias
        if x.ndim == 3:
            y = y.reshape(x.shape[0], x.shape[2], x.shape[1]).transpose(1, 2)
        return y
'''
MOD_FUNCTIONAL = '''
class BatchNorm1d(nn.Module):
    """Normalization written out; the running statistics kept as buffers with torch's names."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.eps, self.momentum, self.track_running_stats = eps, momentum, track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", torch.zeros(num_features) if track_running_stats else None)
        self.register_buffer("running_var", torch.ones(num_features) if track_running_stats else None)
        self.register_buffer("num_batches_tracked",
                             torch.tensor(0, dtype=torch.long) if track_running_stats else None)

    def forward(self, x):
        if x.dim() != 2 and x.dim() != 3:
            raise ValueError("BatchNorm1d expects (N, C) or (N, C, L)")
        dims = [0] if x.dim() == 2 else [0, 2]
        view = [1, -1] + [1] * (x.dim() - 2)
        batch = self.training or self.running_mean is None
        if batch:
            count = x.numel() // x.size(1)
            if count <= 1:
                raise ValueError("Expected more than 1 value per channel when training")
            mean = torch.mean(x, dim=dims)
            var = torch.var(x, dim=dims, correction=0)
            if self.training and self.running_mean is not None:
                self.num_batches_tracked.add_(1)
                factor = self.momentum
                if factor is None:
                    factor = 1.0 / float(self.num_batches_tracked)
                with torch.no_grad():
                    self.running_mean.mul_(1 - factor).add_(mean, alpha=factor)
                    self.running_var.mul_(1 - factor).add_(torch.var(x, dim=dims, correction=1), alpha=factor)
        else:
            mean, var = self.running_mean, self.running_var
        out = (x - mean.view(view)) / (var.view(view) + self.eps).sqrt()
        if self.weight is not None:
            out = torch.addcmul(self.bias.view(view), out, self.weight.view(view))
        return out
'''

# ---------------------------------------------------------------- Part 4: update_bn
_UB = '''
def update_bn(batches, net):
    layers = [m for m in net.modules() if isinstance(m, {kind})]
    if not layers:
        return
    momenta = [m.momentum for m in layers]
    for m in layers:
        {reset}
        m.momentum = {momentum}
    was_training = net.training
    {train}
    with torch.no_grad():
        for batch in batches:
            {forward}
    for m, momentum in zip(layers, momenta):
        {restore}
    {mode}
'''
_UB_DEFAULTS = dict(kind="nn.modules.batchnorm._BatchNorm", reset="m.reset_running_stats()", momentum="None",
                    train="net.train()",
                    forward="net(batch[0] if isinstance(batch, (tuple, list)) else batch)",
                    restore="m.momentum = momentum", mode="net.train(was_training)")


def _ub(**changes):
    return _UB.format(**{**_UB_DEFAULTS, **changes})


UB_NO_RESET = _ub(reset="pass")
UB_EMA = _ub(momentum="m.momentum")
UB_MODE = _ub(mode="pass")
UB_MOMENTUM = _ub(restore="pass")
UB_EVAL_PASS = _ub(train="pass")
UB_TUPLES = _ub(forward="net(batch)")
UB_ONLY_1D = _ub(kind="nn.BatchNorm1d")

UB_MANUAL = '''
def update_bn(batches, net):
    saved = {}
    for module in net.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)):
            module.running_mean.zero_()
            module.running_var.fill_(1.0)
            module.num_batches_tracked.zero_()
            saved[module] = module.momentum
            module.momentum = None
    if not saved:
        return
    mode = net.training
    try:
        net.train(True)
        for batch in batches:
            x = batch[0] if type(batch) in (tuple, list) else batch
            with torch.no_grad():
                net(x)
    finally:
        for module, momentum in saved.items():
            module.momentum = momentum
        net.train(mode)
'''
UB_MODES = '''
def update_bn(batches, net):
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if len(bns) == 0:
        return
    modes = {m: m.training for m in net.modules()}
    momenta = {m: m.momentum for m in bns}
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    for m in net.modules():
        m.training = True
    for batch in batches:
        inputs = batch[0] if isinstance(batch, (list, tuple)) else batch
        with torch.inference_mode():
            net(inputs)
    for m in bns:
        m.momentum = momenta[m]
    for m, was in modes.items():
        m.training = was
'''

FWD_TORCH = '''
def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    rm, rv = torch.tensor(running_mean), torch.tensor(running_var)
    out = torch.nn.functional.batch_norm(torch.tensor(x), rm, rv, torch.tensor(gamma), torch.tensor(beta),
                                         training, momentum, eps)
    return out.numpy(), rm.numpy(), rv.numpy()
'''
BWD_AUTOGRAD = '''
def batch_norm_backward(grad_out, x, gamma, eps=1e-5):
    xt = torch.tensor(x, requires_grad=True)
    g = torch.tensor(gamma, requires_grad=True)
    b = torch.zeros_like(g, requires_grad=True)
    mean, var = xt.mean(0), xt.var(0, unbiased=False)
    out = g * (xt - mean) / torch.sqrt(var + eps) + b
    out.backward(torch.tensor(grad_out))
    return xt.grad.numpy(), g.grad.numpy(), b.grad.numpy()
'''
MOD_TORCH = '''
class BatchNorm1d(nn.BatchNorm1d):
    pass
'''
UB_SWA = '''
def update_bn(batches, net):
    torch.optim.swa_utils.update_bn(batches, net)
'''

# ---------------------------------------------------------------- issue 23: the edges of the contracts
# Numerics: the variance as E[x^2] - E[x]^2, which cancels on a channel with a large mean (a common "one pass" form).
FWD_ONE_PASS_VAR = _fwd().replace("mean, var = x.mean(axis=axes), x.var(axis=axes)",
                                "mean = x.mean(axis=axes)\n    var = (x ** 2).mean(axis=axes) - mean ** 2")
BWD_ONE_PASS_VAR = _BWD.format(body="grad_x = gamma / (n * sigma) * (n * grad_out - grad_beta - x_hat * grad_gamma)")\
    .replace("sigma = np.sqrt(x.var(axis=0) + eps)",
             "sigma = np.sqrt((x * x).mean(axis=0) - x.mean(axis=0) ** 2 + eps)")
MOD_ONE_PASS_VAR = _mod(norm_stats="mean, (x * x).mean(dim=axes) - mean * mean",
                        var_update="(1 - f) * self.running_var + f * ((x * x).mean(dim=axes) - mean * mean) "
                                   "* m / (m - 1)")
# Degenerate inputs: the unbiased correction m / (m - 1) with m = N, the batch size (wrong for (N, C, L), and
# infinite for a (1, C, L) batch).
FWD_UNBIASED_N = _fwd(update=_UPDATE.replace("var * m / (m - 1)", "var * x.shape[0] / (x.shape[0] - 1)"))
MOD_UNBIASED_N = _mod(var_update="(1 - f) * self.running_var + f * var * x.shape[0] / (x.shape[0] - 1)")
# Types: computed in float64 "for stability" and returned as float64 for a float32 layer.
MOD_FLOAT64_OUT = _mod(norm_stats="mean.double(), var.double()").replace(
    "out = (x - mean_n.reshape(shape))", "out = (x.double() - mean_n.reshape(shape).double())").replace(
    "out = out * self.weight.reshape(shape) + self.bias.reshape(shape)",
    "out = out * self.weight.reshape(shape).double() + self.bias.reshape(shape).double()")
# State over time: whether the average is cumulative is decided once, in __init__.
MOD_MOMENTUM_AT_INIT = _mod(factor="1.0 / float(self.num_batches_tracked) if self._cumulative else self.momentum")\
    .replace("        self._count = 0\n", "        self._count = 0\n        self._cumulative = momentum is None\n")
# State over time: the running statistics updated without no_grad, so they join the graph.
MOD_RUNNING_IN_GRAPH = _mod().replace("                with torch.no_grad():\n                    ",
                                      "                if True:\n                    ").replace(
    "self.running_mean.copy_((1 - f) * self.running_mean + f * mean)",
    "self.running_mean = (1 - f) * self.running_mean + f * mean").replace(
    "self.running_var.copy_((1 - f) * self.running_var + f * var * m / (m - 1))",
    "self.running_var = (1 - f) * self.running_var + f * var * m / (m - 1)")
# Degenerate inputs: "a batch of one" taken as N == 1, which rejects a (1, C, L) batch torch accepts.
MOD_REJECTS_ONE_BY_L = _mod(one_test="x.shape[0] < 2")
# Composition: only the top level of the network is searched.
UB_CHILDREN = _ub().replace("for m in net.modules() if isinstance", "for m in net.children() if isinstance")
# Counter never reset: the statistics reset by hand, num_batches_tracked left at its old count.
UB_COUNT_NOT_RESET = _ub(reset="m.running_mean.zero_()\n        m.running_var.fill_(1.0)")
# Degenerate inputs: momentum=None (torch's cumulative average) taken for "the default", with `or`, which also turns
# momentum 0 into 0.1. On momentum 0 the answer is the model of a fixed momentum 0.1, which momentum 0.3 rules out.
FWD_MOMENTUM_OR_DEFAULT = _fwd().replace("    m = x.size // x.shape[1]\n", "    m = x.size // x.shape[1]\n"
                                         "    momentum = momentum or 0.1   # None: the default\n")

# Correct, on the edges: a helper of one's own called batch_norm; Welford's one-pass variance; old-style super();
# a float32-preserving layer that normalizes with rsqrt; update_bn through net.apply.
FWD_OWN_HELPER = '''
def batch_norm(x_hat, gamma, beta, shape):
    return gamma.reshape(shape) * x_hat + beta.reshape(shape)


def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
    rm, rv = np.array(running_mean, float), np.array(running_var, float)
    if training:
        m = x.size // x.shape[1]
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        rm = (1 - momentum) * rm + momentum * mean.reshape(-1)
        rv = (1 - momentum) * rv + momentum * var.reshape(-1) * m / (m - 1)
    else:
        mean, var = rm.reshape(shape), rv.reshape(shape)
    return batch_norm((x - mean) / np.sqrt(var + eps), gamma, beta, shape), rm, rv
'''
BWD_WELFORD = '''
def batch_norm_backward(grad_out, x, gamma, eps=1e-5):
    n = x.shape[0]
    mean = np.zeros(x.shape[1])
    m2 = np.zeros(x.shape[1])
    for k in range(n):                      # Welford: one pass, no cancellation
        delta = x[k] - mean
        mean += delta / (k + 1)
        m2 += delta * (x[k] - mean)
    sigma = np.sqrt(m2 / n + eps)
    x_hat = (x - mean) / sigma
    grad_beta = grad_out.sum(axis=0)
    grad_gamma = (grad_out * x_hat).sum(axis=0)
    grad_x = gamma / sigma * (grad_out - grad_beta / n - x_hat * grad_gamma / n)
    return grad_x, grad_gamma, grad_beta
'''
MOD_OLD_SUPER = _mod().replace("        super().__init__()", "        super(BatchNorm1d, self).__init__()")\
    .replace("out = (x - mean_n.reshape(shape)) / torch.sqrt(var_n.reshape(shape) + self.eps)",
             "out = (x - mean_n.reshape(shape)) * torch.rsqrt(var_n.reshape(shape) + self.eps)")
UB_APPLY = '''
def update_bn(batches, net):
    found = []
    net.apply(lambda m: found.append(m) if isinstance(m, nn.modules.batchnorm._BatchNorm) else None)
    if not found:
        return
    saved = [(m, m.momentum) for m in found]
    for m in found:
        m.reset_running_stats()
        m.momentum = None
    was_training = net.training
    net.train()
    with torch.no_grad():
        for batch in iter(batches):
            inputs = batch[0] if isinstance(batch, (list, tuple)) else batch
            net(inputs)
    for m, momentum in saved:
        m.momentum = momentum
    net.train(was_training)
'''

BUGGY = [
    Variant("fwd_batch_at_eval", F, FWD_BATCH_AT_EVAL, FT, visible="running statistics", hidden="eval mode uses"),
    Variant("fwd_never_updated", F, FWD_NEVER_UPDATED, FT, visible="never updated", hidden="never updated"),
    Variant("fwd_reversed_momentum", F, FWD_REVERSED, FT, visible="reversed", hidden="momentum is reversed"),
    Variant("fwd_biased_running_var", F, FWD_BIASED, FT, visible="biased batch variance",
            hidden="running variance is updated with the biased"),
    Variant("fwd_eps_outside", F, FWD_EPS_OUTSIDE, FT, visible="outside the square root",
            hidden="outside the square root"),
    Variant("fwd_updated_in_eval", F, FWD_UPDATED_IN_EVAL, FT, visible="updated in eval mode",
            hidden="updated in eval mode"),
    Variant("fwd_axis0_3d", F, FWD_AXIS0_3D, FT, visible="wrong axis", hidden="wrong axis"),
    Variant("fwd_per_example", F, FWD_PER_EXAMPLE, FT, visible="wrong axis", hidden="wrong axis"),
    Variant("fwd_unbiased_normalization", F, FWD_UNBIASED_NORM, FT, visible="unbiased variance",
            hidden="normalized with the unbiased"),
    Variant("fwd_eps_fixed", F, FWD_EPS_FIXED, FT, visible="eps", hidden="a large eps"),
    Variant("fwd_momentum_fixed", F, FWD_MOMENTUM_FIXED, FT, visible="momentum passed in is ignored",
            hidden="momentum passed in is ignored"),
    Variant("bwd_no_paths", B, BWD_NO_PATHS, BT, visible="through both", hidden="through both"),
    Variant("bwd_no_var_path", B, BWD_NO_VAR, BT, visible="through the variance", hidden="through the variance"),
    Variant("bwd_no_mean_path", B, BWD_NO_MEAN, BT, visible="through the mean", hidden="through the mean"),
    Variant("bwd_means_not_sums", B, BWD_MEANS, BT, visible="grad_beta", hidden="sums over the batch"),
    Variant("bwd_eps_outside", B, BWD_EPS_OUTSIDE, BT, visible="outside the square root",
            hidden="outside the square root"),
    Variant("mod_batch_at_eval", M, MOD_BATCH_AT_EVAL, MT, visible="eval mode uses", hidden="eval mode uses"),
    Variant("mod_never_updated", M, MOD_NEVER_UPDATED, MT, visible="never updated", hidden="never updated"),
    Variant("mod_reversed_momentum", M, MOD_REVERSED, MT, visible="reversed", hidden="momentum is reversed"),
    Variant("mod_biased_running_var", M, MOD_BIASED, MT, visible="biased batch variance",
            hidden="running variance is updated with the biased"),
    Variant("mod_eps_outside", M, MOD_EPS_OUTSIDE, MT, visible="outside the square root",
            hidden="outside the square root"),
    Variant("mod_wrong_axis", M, MOD_WRONG_AXIS, MT, visible="wrong axis", hidden="wrong axis"),
    Variant("mod_updated_in_eval", M, MOD_UPDATED_IN_EVAL, MT, visible="updated in eval mode",
            hidden="updated in eval mode"),
    Variant("mod_nbt_ignored", M, MOD_NBT_IGNORED, MT, visible="cumulative average", hidden="cumulative average"),
    Variant("mod_python_counter", M, MOD_PY_COUNTER, MT, visible=None, hidden="num_batches_tracked comes with"),
    Variant("mod_nbt_not_counted", M, MOD_NBT_NOT_COUNTED, MT, visible="does not count",
            hidden="does not count"),
    Variant("mod_batch_of_one", M, MOD_BATCH_OF_ONE, MT, visible="batch of one", hidden="batch of one"),
    Variant("mod_no_dim_check", M, MOD_NO_DIM_CHECK, MT, visible=None, hidden="4-D"),
    Variant("mod_no_tracking_buffers", M, MOD_NO_TRACKING_BUFFERS, MT, visible="track_running_stats=False",
            hidden="track_running_stats=False"),
    Variant("mod_plain_attributes", M, MOD_PLAIN_ATTRIBUTES, MT, visible="state_dict", hidden="state_dict"),
    Variant("mod_float_nbt", M, MOD_FLOAT_NBT, MT, visible=None, hidden="torch.long"),
    Variant("mod_affine_ignored", M, MOD_AFFINE_IGNORED, MT, visible="affine=False", hidden="affine=False"),
    Variant("mod_unbiased_normalization", M, MOD_UNBIASED_NORM, MT, visible="unbiased variance",
            hidden="normalized with the unbiased"),
    Variant("ub_no_reset", U, UB_NO_RESET, UT, visible="not reset", hidden="not reset"),
    Variant("ub_ema", U, UB_EMA, UT, visible="exponential moving average", hidden="exponential moving average"),
    Variant("ub_mode_not_restored", U, UB_MODE, UT, visible="mode is not restored", hidden="mode is not restored"),
    Variant("ub_momentum_not_restored", U, UB_MOMENTUM, UT, visible="momentum is not restored",
            hidden="momentum is not restored"),
    Variant("ub_eval_pass", U, UB_EVAL_PASS, UT, visible="training mode", hidden="training mode"),
    Variant("ub_tuples_not_unpacked", U, UB_TUPLES, UT, visible="tuple", hidden="tuples"),
    Variant("ub_only_batchnorm1d", U, UB_ONLY_1D, UT, visible=None, hidden="BatchNorm2d"),
    # torch's own batch norm (the tests' oracle) called instead of written: right numbers, no work
    Variant("fwd_calls_torch", F, FWD_TORCH, FT, visible=None, hidden="batch_norm_forward must be written by you"),
    Variant("bwd_autograd", B, BWD_AUTOGRAD, BT, visible=None, hidden="batch_norm_backward must be written by you"),
    Variant("mod_subclasses_torch", M, MOD_TORCH, MT, visible=None, hidden="BatchNorm1d must be written by you"),
    Variant("ub_swa_utils", U, UB_SWA, UT, visible=None, hidden="update_bn must be written by you"),
    # issue 23: numerics, degenerate inputs, types, state over time, composition
    Variant("fwd_one_pass_variance", F, FWD_ONE_PASS_VAR, FT, visible=None, hidden="cancels catastrophically"),
    Variant("fwd_unbiased_factor_batch_size", F, FWD_UNBIASED_N, FT, visible=None, hidden="instead of m"),
    Variant("bwd_one_pass_variance", B, BWD_ONE_PASS_VAR, BT, visible=None, hidden="cancels catastrophically"),
    Variant("mod_one_pass_variance", M, MOD_ONE_PASS_VAR, MT, visible=None, hidden="cancels catastrophically"),
    Variant("mod_unbiased_factor_batch_size", M, MOD_UNBIASED_N, MT, visible=None, hidden="instead of m"),
    Variant("mod_float64_output", M, MOD_FLOAT64_OUT, MT, visible=None, hidden="float32 layer on float32 input"),
    Variant("mod_momentum_decided_in_init", M, MOD_MOMENTUM_AT_INIT, MT, visible=None,
            hidden="momentum is read once"),
    Variant("mod_running_stats_in_graph", M, MOD_RUNNING_IN_GRAPH, MT, visible=None,
            hidden="part of the computation graph"),
    Variant("mod_rejects_one_example_with_positions", M, MOD_REJECTS_ONE_BY_L, MT, visible=None,
            hidden="(1, C, L)"),
    Variant("ub_top_level_only", U, UB_CHILDREN, UT, visible=None, hidden="net.modules()"),
    Variant("ub_count_not_reset", U, UB_COUNT_NOT_RESET, UT, visible=None, hidden="num_batches_tracked is not reset"),
    # named as the momentum ignored without the rule-out of the momentum 0.3 scenario it passes
    Variant("fwd_momentum_or_default", F, FWD_MOMENTUM_OR_DEFAULT, FT, visible=None,
            hidden="Fails with: momentum 0 and momentum 1", not_named="momentum passed in is ignored"),
]

CORRECT = [
    Variant("fwd_loop_over_channels", F, FWD_LOOP, FT),
    Variant("fwd_reshape_folded_affine", F, FWD_RESHAPE, FT),
    Variant("bwd_long_chain_rule", B, BWD_LONG, BT),
    Variant("bwd_loop_over_channels", B, BWD_LOOP, BT),
    Variant("mod_template", M, MOD_REFERENCE, MT),
    Variant("mod_transpose_lerp", M, MOD_TRANSPOSE, MT),
    Variant("mod_written_out_addcmul", M, MOD_FUNCTIONAL, MT),
    Variant("ub_manual_reset_try_finally", U, UB_MANUAL, UT),
    Variant("ub_per_module_modes", U, UB_MODES, UT),
    Variant("fwd_own_helper_named_batch_norm", F, FWD_OWN_HELPER, FT),
    Variant("bwd_welford_variance", B, BWD_WELFORD, BT),
    Variant("mod_old_style_super_rsqrt", M, MOD_OLD_SUPER, MT),
    Variant("ub_apply_iter", U, UB_APPLY, UT),
]
