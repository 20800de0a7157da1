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
