"""Visible checks for weight decay in torch: parameter groups."""

from __future__ import annotations

import torch


# One wording for the visible check and the grader's hidden test.
NORM_DECAYED = ("normalization parameters are decayed{which}: the weight (scale) and bias (shift) of every "
                "normalization layer (BatchNorm*, InstanceNorm*, LayerNorm, GroupNorm, RMSNorm, ...) go in the "
                "weight_decay=0 group, although the scale is called 'weight' and may have more than one dimension")
BIASES_DECAYED = "biases are decayed{which}; they should go in the weight_decay=0 group"


def is_norm_layer(module) -> bool:
    """A normalization layer of torch.nn, by class name (BatchNorm2d, SyncBatchNorm, RMSNorm, ...)."""
    return "Norm" in type(module).__name__


def _owners(net):
    """Parameter id -> (its name in the network, the class name of the module that holds it)."""
    out = {}
    for module_name, module in net.named_modules():
        for name, p in module.named_parameters(recurse=False):
            full = f"{module_name}.{name}" if module_name else name
            out.setdefault(id(p), (full, type(module).__name__))
    return out


def _listing(names) -> str:
    names = sorted(names)
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def assert_param_groups(groups, net, weight_decay, decayed) -> None:
    """Raise AssertionError unless ``groups`` decays exactly the parameters ``decayed`` of ``net``.

    ``groups`` is what ``decay_param_groups(net, weight_decay)`` returned. The message names the
    parameters that are in the wrong group and says which kind they are (a bias, a normalization
    layer's scale or shift, a weight matrix).
    """
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
        raise AssertionError("decay_param_groups: return a list of dicts, each with keys 'params' and "
                             "'weight_decay'")
    for g in groups:
        if "params" not in g or "weight_decay" not in g:
            raise AssertionError("decay_param_groups: every group needs both 'params' and 'weight_decay'")
        if not isinstance(g["weight_decay"], (int, float)) or g["weight_decay"] not in (0, weight_decay):
            raise AssertionError(f"decay_param_groups: each group's 'weight_decay' must be the weight_decay you "
                                 f"were given ({weight_decay}) or 0.0, not {g['weight_decay']!r}")
    owners = _owners(net)
    listed = [p for g in groups for p in list(g["params"])]
    if len({id(p) for p in listed}) != len(listed):
        raise AssertionError("decay_param_groups: a parameter appears twice in your groups; torch rejects that")
    if any(id(p) not in owners for p in listed):
        raise AssertionError("decay_param_groups: your groups hold tensors that are not parameters of `net`")
    missing = [owners[i][0] for i in owners if i not in {id(p) for p in listed}]
    if missing:
        raise AssertionError(f"decay_param_groups: every parameter must be in one group; missing: {_listing(missing)}")
    got = {id(p) for g in groups if g["weight_decay"] for p in g["params"]}
    want = {id(p) for p in decayed}
    wrong = [owners[i] for i in got - want]
    norms = [f"{name} of {kind}" for name, kind in wrong if "Norm" in kind]
    biases = [name for name, kind in wrong if "Norm" not in kind and name.endswith("bias")]
    if biases:
        raise AssertionError("decay_param_groups: " + BIASES_DECAYED.format(which=f" ({_listing(biases)})"))
    if norms:
        raise AssertionError("decay_param_groups: " + NORM_DECAYED.format(which=f" ({_listing(norms)})"))
    if wrong:
        raise AssertionError(f"decay_param_groups: these parameters should not be decayed: "
                             f"{_listing(n for n, _ in wrong)}")
    not_decayed = [owners[i][0] for i in want - got]
    if not_decayed:
        raise AssertionError(f"decay_param_groups: these weight matrices should be decayed but are not: "
                             f"{_listing(not_decayed)}")
    torch.optim.SGD(groups, lr=0.1)  # torch itself must accept the groups


# ---------------------------------------------------------------- sandbox drivers (the grader's probes)
def call_keeping_inputs(function, *args):
    """``function(*args)``, and whether it left its array arguments as they were (an answer that centres ``X``
    in place, ``X -= X.mean(0)``, changes the caller's data): ``{"out": ..., "kept": 1.0 or 0.0}``."""
    import numpy as np

    copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else None for a in args]
    out = function(*args)
    kept = all(c is None or (a.shape == c.shape and np.array_equal(a, c)) for a, c in zip(args, copies))
    return {"out": out, "kept": float(kept)}


class _Block(torch.nn.Module):
    """A residual block: layers nested one level below the network."""

    def __init__(self, width):
        super().__init__()
        self.inner = torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.LayerNorm(width), torch.nn.ReLU())
        self.out = torch.nn.Linear(width, width, bias=False)

    def forward(self, x):
        return x + self.out(self.inner(x))


class _Nested(torch.nn.Module):
    """Modules nested in containers: Sequential inside Sequential, a ModuleList of blocks, a ModuleDict of heads."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Sequential(torch.nn.BatchNorm1d(8),
                                                                                  torch.nn.ReLU()))
        self.blocks = torch.nn.ModuleList([_Block(8), _Block(8)])
        self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(8, 2),
                                          "b": torch.nn.Sequential(torch.nn.GroupNorm(2, 8), torch.nn.Linear(8, 3))})

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.heads["a"](x), self.heads["b"](x)


def build_net(name):
    """The networks of the hidden tests of ``decay_param_groups`` that ``autograder.harness`` does not build."""
    torch.manual_seed(0)
    if name == "nested":
        return _Nested()
    if name == "frozen":  # a frozen first layer (as a pretrained feature extractor): no group needs it
        net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.LayerNorm(6), torch.nn.Linear(6, 6),
                                  torch.nn.ReLU(), torch.nn.Linear(6, 2))
        for p in list(net[0].parameters()) + list(net[1].parameters()):
            p.requires_grad_(False)
        return net
    raise ValueError(f"unknown net {name}")


def probe_param_groups(decay_param_groups, net_name, weight_decay):
    """``decay_param_groups`` on one of :func:`build_net`'s networks; the groups reported by parameter name,
    with torch's own verdict on them (``torch.optim.SGD(groups)``)."""
    net = build_net(str(net_name))
    names = {id(p): n for n, p in net.named_parameters(remove_duplicate=False)}
    groups = decay_param_groups(net, float(weight_decay))
    out = []
    for g in groups:
        if not isinstance(g, dict):
            return {"bad": type(g).__name__}
        params = g.get("params", [])
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        g["params"] = params
        wd = g.get("weight_decay")
        out.append({"keys": sorted(str(k) for k in g), "weight_decay": float(wd) if isinstance(wd, (int, float)) else
                    wd if wd is None else str(type(wd).__name__),
                    "params": [names.get(id(p), "<not a parameter of the network>") for p in params]})
    try:
        torch.optim.SGD(groups, lr=0.1)
        accepted = None
    except Exception as exc:  # torch's own verdict on the groups, e.g. a duplicate parameter
        accepted = f"{type(exc).__name__}: {exc}"[:300]
    return {"groups": out, "torch_error": accepted}
