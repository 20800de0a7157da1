"""Chapter 5 (early stopping and data augmentation): visible checks and the drivers that exercise a
student's answers.

The drivers (``stopping_run``, ``loop_run``, ``shift_run``, ``mixup_run``) take the student's class or
function, exercise it on the inputs they are given and return plain numbers, lists and dicts. The visible
checks in the notebook call them on the notebook's own inputs; the grader calls the same drivers on hidden
inputs (inside its sandbox) and compares what they return with the reference answers. Nothing here
implements the exercise: the checks compare with values worked out by hand or with numpy's own draws.
"""

from __future__ import annotations

import copy
import math

import numpy as np

# ---------------------------------------------------------------- the named mistakes, in the student's terms
SHALLOW_STATE = ("the restored weights are the last ones, not the best: the best state was kept as a reference "
                 "to net.state_dict() (or a shallow dict copy of it), whose tensors keep changing in place as "
                 "training goes on; keep copy.deepcopy(net.state_dict()) (or clone every tensor)")
BUFFERS_NOT_RESTORED = ("the parameters are restored but not the buffers (BatchNorm's running statistics): "
                        "keep and load the whole state_dict, not only net.parameters()")
NEVER_RESET = ("the patience counter is never reset when the value improves: it must count the steps since the "
               "last improvement, not all steps without one")
LAST_NOT_BEST = ("you compare each value with the previous one instead of with the best so far: a value that "
                 "beats the previous one but not the best is no improvement")
MIN_DELTA_SIGN = ("min_delta has the wrong sign (or is ignored): an improvement must beat the best by MORE than min_delta "
                  "(value < best - min_delta in mode 'min'), so min_delta makes improvements harder, not easier")
PATIENCE_OFF_BY_ONE = ("patience is off by one: stop at the patience-th step in a row without improvement "
                       "(patience=0 stops at the first one), as Keras' EarlyStopping does")
TIE_IS_IMPROVEMENT = ("a value equal to the best counts as an improvement in your class; Keras (and this "
                      "exercise) require a strict improvement: value < best - min_delta")
STOP_ON_TEST = ("the stopper is given the loss on the TEST data: early stopping must watch the validation data; "
                "the test set is used once, at the end")
STOP_ON_TRAIN = ("the stopper is given the loss on the training data: early stopping must watch the validation "
                 "data (the training loss keeps falling, so nothing ever stops)")
AUGMENT_AT_EVAL = ("augment was applied to validation or test data: augmentation belongs to training only; "
                   "evaluate on the data as it is")
TEST_BEFORE_RESTORE = ("the test loss is measured before restoring the best weights: call stopper.restore(net) "
                       "first, then measure the test loss once")
WRAPPED = ("pixels that leave the 8x8 frame come back on the other side (np.roll wraps around): the "
           "specification drops them and fills the vacated pixels with zeros")
LABELS_CHANGED = ("the labels changed: a shift preserves the digit, so return y unchanged (same values, same "
                  "order)")
MIXUP_TWO_PERMUTATIONS = ("inputs and targets are mixed with different partners (two permutations, or a "
                          "permutation for one of them only): use ONE permutation for both, so each mixed input "
                          "gets the mix of its own two labels")
MIXUP_LABELS_NOT_MIXED = ("the targets are not mixed: the target of a mixed input is lam * onehot(y) + "
                          "(1 - lam) * onehot(y[perm]), not the label of the first image")
FIRST_IS_BEST = ("the first value is taken as the best without a comparison (best starts at None): a NaN as the "
                 "first value becomes the best, and nothing ever improves on it; start best at math.inf "
                 "(-math.inf in mode 'max') and compare every value, the first included")
TIE_NOT_COUNTED = ("a value equal to the best neither resets the patience counter nor counts toward it, so a "
                   "plateau of equal values never stops training: every step without improvement, ties included, "
                   "adds 1 to wait")
TARGETS_IGNORED = ("the targets augment returns are ignored: augment(X_train, y_train) returns a new pair (X, y) "
                   "(it may reorder or relabel the examples); train on both, X, y = augment(X_train, y_train)")
NO_TRAIN_MODE = ("the net is not put back in training mode at the start of every epoch: after the first "
                 "validation (net.eval()) it trains in eval mode, so BatchNorm and dropout behave as at test time; "
                 "call net.train() at the start of each epoch")
VAL_IN_TRAIN_MODE = ("the net was in training mode when the validation loss was computed: call net.eval() "
                     "before evaluating (BatchNorm and dropout behave differently in training mode)")
NO_ZERO_GRAD = ("the gradients are never zeroed, so every backward() adds to the gradients of all earlier epochs: "
                "call opt.zero_grad() before loss.backward()")
GLOBAL_RNG = ("the random numbers come from numpy's global random state (np.random....), not from the generator "
              "rng passed in: draw them with rng, so that the same rng gives the same result")
MIXUP_PER_EXAMPLE = ("lam is drawn per example: the specification draws ONE lam = rng.beta(alpha, alpha) for the "
                     "whole batch, as the mixup paper's code does")


# ---------------------------------------------------------------- part 1: the EarlyStopping class
def _stopping_net():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def stopping_run(cls, kwargs, values):
    """Construct ``cls(**kwargs)`` and call ``step(value, net)`` once per value until it returns True,
    as a training loop does; then ``restore(net)``.

    Before step k (0-based) every tensor of the net's state_dict is set in place to k + 1, as an optimizer
    (parameters) and BatchNorm (running statistics) change them, so the restored tensors tell which step's
    state came back. Returns a dict: ``stops`` (what each step returned), ``weight``, ``bias`` and
    ``running_mean`` (the step + 1 whose state each holds after ``restore``, or 0 if ``restore`` failed),
    ``best`` and ``best_epoch`` (the attributes after the last step, None if absent).
    """
    import torch

    net = _stopping_net()
    stopper = cls(**dict(kwargs))
    stops = []
    for epoch, value in enumerate(values):
        with torch.no_grad():
            for tensor in net.state_dict().values():
                tensor.fill_(epoch + 1)
        stop = stopper.step(float(value), net)
        if not isinstance(stop, (bool, np.bool_)):
            raise TypeError(f"step must return True or False, got {type(stop).__name__}")
        stops.append(bool(stop))
        if stop:
            break
    best, best_epoch = getattr(stopper, "best", None), getattr(stopper, "best_epoch", None)
    stopper.restore(net)
    state = net.state_dict()

    def tag(name):
        return float(state[name].flatten()[0])

    return {"stops": stops, "weight": tag("0.weight"), "bias": tag("0.bias"),
            "running_mean": tag("1.running_mean"),
            "best": None if best is None else float(best),
            "best_epoch": None if best_epoch is None else int(best_epoch)}


def _describe(kwargs):
    return "EarlyStopping(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"


def check_early_stopping(cls) -> None:
    """The notebook's visible test of Part 1: a few sequences of validation losses, each with the steps at
    which training must stop and the step whose weights ``restore`` must bring back (worked out by hand)."""
    cases = [
        # kwargs, values, steps run until step returns True, the step restore brings back (0-based), hints
        ({"patience": 1}, [1.0, 1.1, 1.2, 1.3], 2, 0, {}),
        ({"patience": 1}, [2.0, 2.0, 3.0, 3.0], 2, 0, {3: TIE_IS_IMPROVEMENT}),
        ({"patience": 2}, [1.0, 0.8, 0.9, 0.85, 0.5], 4, 1, {None: LAST_NOT_BEST}),
        ({"patience": 2}, [1.0, 0.8, 0.9, 0.7, 0.75, 0.72, 0.6], 6, 3, {5: NEVER_RESET}),
        ({"patience": 1, "min_delta": 0.1}, [1.0, 0.95, 0.97, 0.5], 2, 0, {None: MIN_DELTA_SIGN, 3: MIN_DELTA_SIGN}),
        ({"patience": 0}, [3.0, 2.0, 2.5, 1.0], 3, 1, {}),
        ({"patience": 1, "mode": "max"}, [0.5, 0.7, 0.6, 0.9], 3, 1, {}),
    ]
    for kwargs, values, n_run, best, hints in cases:
        what = f"{_describe(kwargs)} with values {values}"
        out = stopping_run(cls, kwargs, values)
        stops = out["stops"]
        if len(stops) != n_run or (n_run <= len(values) and not stops[-1]):
            ran = len(stops) if stops and stops[-1] else None
            hint = hints.get(ran, PATIENCE_OFF_BY_ONE if ran is not None and abs(ran - n_run) == 1 else "")
            raise AssertionError(f"{what}: step should return True at step {n_run} (counting from 1) and False "
                                 f"before; yours " + (f"returned True at step {ran}" if ran else "never returned True")
                                 + (f". Likely: {hint}" if hint else ""))
        if out["weight"] != best + 1:
            hint = SHALLOW_STATE if out["weight"] == len(stops) else "restore brings back another step's weights"
            raise AssertionError(f"{what}: restore(net) should bring back the weights of step {best + 1} "
                                 f"(counting from 1), the best one; {hint}")
        if out["running_mean"] != best + 1:
            raise AssertionError(f"{what}: {BUFFERS_NOT_RESTORED}")
        if out["best"] is None or not math.isclose(out["best"], values[best]) or out["best_epoch"] != best:
            raise AssertionError(f"{what}: after the last step, stopper.best should be {values[best]} and "
                                 f"stopper.best_epoch {best} (counting steps from 0); yours are "
                                 f"{out['best']} and {out['best_epoch']}")


# ---------------------------------------------------------------- part 2: the training loop
class ScriptedStopper:
    """A stand-in for an EarlyStopping object whose decisions are fixed in advance: ``step`` returns True
    at its ``stop_at``-th call (counting from 1; never if None) and keeps a deep copy of the state at its
    ``best_at``-th call, which ``restore`` loads. It records what the loop gives it: the value, whether the
    net was in training mode, and the losses of the net on each split at that moment (computed in eval
    mode, then the mode is put back)."""

    def __init__(self, data, stop_at=None, best_at=1):
        self.data, self.stop_at, self.best_at = data, stop_at, best_at
        self.values, self.training, self.losses, self.restored_after, self.saved = [], [], [], [], None

    def _split_losses(self, net):
        import torch

        mode = net.training
        net.eval()
        with torch.no_grad():
            out = {split: torch.nn.functional.cross_entropy(net(self.data[f"X_{split}"]),
                                                             self.data[f"y_{split}"]).item()
                   for split in ("train", "val", "test")}
        net.train(mode)
        return out

    def step(self, value, net):
        self.values.append(float(value))
        self.training.append(bool(net.training))
        self.losses.append(self._split_losses(net))
        if len(self.values) == self.best_at:
            self.saved = copy.deepcopy(net.state_dict())
        return self.stop_at is not None and len(self.values) >= self.stop_at

    def restore(self, net):
        self.restored_after.append(len(self.values))
        if self.saved is not None:
            net.load_state_dict(self.saved)


class RecordingAugment:
    """An ``augment(X, y)`` that records which split it was given and returns the batch in reverse order, ``X``
    shifted by a small constant that changes at every call (so that augmented training changes the losses), with
    its targets reordered alike (so that a loop must use the targets it returns)."""

    def __init__(self, data):
        self.data, self.splits = data, []

    def __call__(self, X, y):
        import torch

        name = "other"
        for split in ("train", "val", "test"):
            ref = self.data[f"X_{split}"]
            if X is ref or (X.shape == ref.shape and torch.equal(X, ref)):
                name = split
                break
        self.splits.append(name)
        return X.flip(0) + 0.05 * len(self.splits), y.flip(0)


def loop_data(n_train=60, n_val=40, n_test=40, n_features=6, n_classes=3, seed=0):
    """Three splits of Gaussian blobs as float64 tensors, in the dict layout the loop takes."""
    from coursekit.data import make_classification

    X, y = make_classification(n_samples=n_train + n_val + n_test, n_features=n_features,
                               n_classes=n_classes, seed=seed)
    X = X.double()
    out = {}
    for split, (a, b) in (("train", (0, n_train)), ("val", (n_train, n_train + n_val)),
                          ("test", (n_train + n_val, n_train + n_val + n_test))):
        out[f"X_{split}"], out[f"y_{split}"] = X[a:b].clone(), y[a:b].clone()
    return out


def loop_net(n_features=6, n_classes=3, hidden=16, batchnorm=False, seed=0):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layers = [nn.Linear(n_features, hidden)] + ([nn.BatchNorm1d(hidden)] if batchnorm else []) \
        + [nn.ReLU(), nn.Linear(hidden, n_classes)]
    return nn.Sequential(*layers).double()


def loop_run(fn, spec):
    """Run ``fn(net, data, stopper, lr=..., num_epochs=..., augment=...)`` on the data and net ``spec``
    describes (a dict: ``seed``, ``batchnorm``, ``lr``, ``num_epochs``, ``stop_at``, ``best_at``,
    ``augment``; sizes optional), with a :class:`ScriptedStopper` and, if asked, a :class:`RecordingAugment`.

    Returns a dict of plain values: the history's two lists, the returned test loss, what the stopper
    recorded, the splits augment was called with and the test loss of the net as ``fn`` left it.
    """
    import torch

    sizes = {k: spec[k] for k in ("n_train", "n_val", "n_test") if k in spec}
    data = loop_data(seed=spec.get("seed", 0), **sizes)
    net = loop_net(batchnorm=spec.get("batchnorm", False), seed=spec.get("seed", 0))
    stopper = ScriptedStopper(data, spec.get("stop_at"), spec.get("best_at", 1))
    augment = RecordingAugment(data) if spec.get("augment") else None
    kwargs = {"lr": spec.get("lr", 0.1), "num_epochs": spec.get("num_epochs", 10)}
    if augment is not None:
        kwargs["augment"] = augment
    train_modes = []   # the mode of every forward pass with gradients on a training-sized batch (the steps)
    n_train = len(data["X_train"])

    def record(module, inputs):
        if torch.is_grad_enabled() and inputs and getattr(inputs[0], "shape", (0,))[0] == n_train:
            train_modes.append(bool(module.training))
    hook = net.register_forward_pre_hook(record)
    out = fn(net, data, stopper, **kwargs)
    hook.remove()
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], dict)):
        raise TypeError("return (history, test_loss), with history a dict of two lists")
    history, test_loss = out
    net.eval()
    with torch.no_grad():
        final_test = torch.nn.functional.cross_entropy(net(data["X_test"]), data["y_test"]).item()
    return {"train_loss": [float(v) for v in history.get("train_loss", [])],
            "val_loss": [float(v) for v in history.get("val_loss", [])],
            "test_loss": float(test_loss), "final_test": final_test,
            "stopper_values": stopper.values, "stopper_training": stopper.training,
            "split_losses": {split: [row[split] for row in stopper.losses] for split in ("train", "val", "test")},
            "restored_after": stopper.restored_after, "augmented": augment.splits if augment else [],
            "train_modes": train_modes}


def _same(a, b, rtol=1e-6):
    return len(a) == len(b) and bool(np.allclose(a, b, rtol=rtol, atol=1e-9))


def loop_mistake(out) -> str | None:
    """The named mistake a run of ``loop_run`` shows, if any (shared by the visible and hidden tests)."""
    got, losses = out["stopper_values"], out["split_losses"]
    if got and _same(got, losses["test"]) and not _same(got, losses["val"]):
        return STOP_ON_TEST
    if got and not _same(got, losses["val"]) and out["train_loss"] and _same(got, out["train_loss"]):
        return STOP_ON_TRAIN
    if got and _same(got, losses["train"]) and not _same(got, losses["val"]):
        return STOP_ON_TRAIN
    if any(s in ("val", "test") for s in out["augmented"]):
        return AUGMENT_AT_EVAL
    if out["restored_after"] and losses["test"] and math.isclose(out["test_loss"], losses["test"][-1], rel_tol=1e-9) \
            and not math.isclose(out["test_loss"], out["final_test"], rel_tol=1e-9):
        return TEST_BEFORE_RESTORE
    if out.get("train_modes") and not all(out["train_modes"]):
        return NO_TRAIN_MODE
    return None


def check_training_loop(fn) -> None:
    """The notebook's visible test of Part 2, with a stopper whose decisions are fixed in advance."""
    spec = {"seed": 5, "batchnorm": True, "lr": 0.2, "num_epochs": 12, "stop_at": 7, "best_at": 4, "augment": True}
    out = loop_run(fn, spec)
    mistake = loop_mistake(out)
    if mistake:
        raise AssertionError(f"train_with_early_stopping: {mistake}")
    n = len(out["stopper_values"])
    if n != 7:
        raise AssertionError(f"train_with_early_stopping: the stopper said stop at its 7th step, but it was called "
                             f"{n} times: break out of the loop as soon as stopper.step returns True")
    if not _same(out["stopper_values"], out["split_losses"]["val"]):
        if any(out["stopper_training"]):
            raise AssertionError(f"train_with_early_stopping: {VAL_IN_TRAIN_MODE}")
        raise AssertionError("train_with_early_stopping: the values given to stopper.step are not the validation "
                             "losses (mean cross-entropy of the net on X_val, y_val in eval mode)")
    if not _same(out["val_loss"], out["stopper_values"]):
        raise AssertionError("train_with_early_stopping: history['val_loss'] should hold the values given to the "
                             "stopper, one per epoch run")
    if len(out["train_loss"]) != n:
        raise AssertionError("train_with_early_stopping: history['train_loss'] needs one value per epoch run")
    if out["augmented"] != ["train"] * n:
        raise AssertionError(f"train_with_early_stopping: augment should be called once per epoch, on the training "
                             f"data only; it was called with {out['augmented']}")
    if out["restored_after"][-1:] != [n]:
        raise AssertionError("train_with_early_stopping: call stopper.restore(net) after the last epoch, before the "
                             "test loss")
    if not math.isclose(out["test_loss"], out["final_test"], rel_tol=1e-6):
        raise AssertionError("train_with_early_stopping: the returned test loss is not the loss of the restored net "
                             "on X_test, y_test (mean cross-entropy, eval mode)")
    full = loop_run(fn, {**spec, "stop_at": None, "augment": False})
    if len(full["stopper_values"]) != 12:
        raise AssertionError("train_with_early_stopping: a stopper that never says stop should see num_epochs=12 "
                             f"epochs; yours saw {len(full['stopper_values'])}")


# ---------------------------------------------------------------- part 3: random shifts
def shift_run(fn, X, y, max_shift, seed, shape=None, dtype="float64"):
    """``fn(X, y, max_shift, np.random.default_rng(seed))`` with ``X`` reshaped to ``shape`` and cast to
    ``dtype``. Returns ``(X_out as (n, 64) floats, y_out, shape_out, dtype_out, input_unchanged)``."""
    X = np.asarray(X, dtype=dtype)
    if shape is not None:
        X = X.reshape(shape)
    y = np.asarray(y).astype(np.int64)
    X_in, y_in = X.copy(), y.copy()
    X_out, y_out = fn(X, y, max_shift, np.random.default_rng(seed))
    X_out = np.asarray(X_out)
    unchanged = bool(np.array_equal(X, X_in) and np.array_equal(y, y_in))

    return (X_out.reshape(len(X_out), -1).astype(float), np.asarray(y_out, dtype=float), list(X_out.shape),
            str(X_out.dtype), unchanged,
            max_shift > 0 and _global_state_used(fn, (X_in, y_in, max_shift), seed, X_out))


def _global_state_used(fn, args, seed, first) -> bool:
    """Does ``fn(*args, rng)`` give another result, for the same ``rng`` seed, when numpy's global random state
    is seeded differently? Then it draws from np.random's global state instead of (or besides) ``rng``."""
    state = np.random.get_state()
    try:
        np.random.seed(987_654)
        again = fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args], np.random.default_rng(seed))
    except Exception:  # noqa: BLE001 - a second call that fails says nothing about the random state
        return False
    finally:
        np.random.set_state(state)
    again = again[0] if isinstance(again, tuple) else again
    try:
        return not np.array_equal(np.asarray(again, dtype=float), np.asarray(first, dtype=float))
    except (TypeError, ValueError):
        return False


def _expected_pixels(n, max_shift, seed):
    """For the visible test: image i has one lit pixel at (i % 8, (3 * i) % 8); where does it go?"""
    shifts = np.random.default_rng(seed).integers(-max_shift, max_shift, size=(n, 2), endpoint=True)
    rows, cols = np.arange(n) % 8, (3 * np.arange(n)) % 8
    return shifts, rows, cols


def check_random_shift(fn) -> None:
    """The notebook's visible test of Part 3, on images with a single lit pixel each."""
    n, max_shift, seed = 24, 2, 7
    shifts, rows, cols = _expected_pixels(n, max_shift, seed)
    X = np.zeros((n, 8, 8))
    X[np.arange(n), rows, cols] = 1.0 + np.arange(n)
    y = np.arange(n) % 10
    X_out, y_out, shape, dtype, unchanged, _ = shift_run(fn, X.reshape(n, 64), y, max_shift, seed)
    if shape != [n, 64]:
        raise AssertionError(f"random_shift: for X of shape ({n}, 64) return an array of the same shape, got {shape}")
    if not unchanged:
        raise AssertionError("random_shift: it changed its input in place; return new arrays")
    if not np.array_equal(y_out, y):
        raise AssertionError(f"random_shift: {LABELS_CHANGED}")
    out = X_out.reshape(n, 8, 8)

    def where(sign):
        """The images the shift rule with this direction explains: each lit pixel where it must go, or gone."""
        good = []
        for i in range(n):
            r, c = rows[i] + sign * shifts[i, 0], cols[i] + sign * shifts[i, 1]
            lit = [tuple(p) for p in np.argwhere(out[i] != 0)]
            inside = 0 <= r < 8 and 0 <= c < 8
            good.append(lit == [(r, c)] and out[i, r, c] == X[i, rows[i], cols[i]] if inside else lit == [])
        return np.array(good)

    right = where(1)
    if right.all():
        pass
    elif where(-1).all():
        raise AssertionError("random_shift: the images move the other way: a positive shifts[i, 0] moves the digit "
                             "down, a positive shifts[i, 1] to the right")
    else:
        i = int(np.flatnonzero(~right)[0])
        r, c = rows[i] + shifts[i, 0], cols[i] + shifts[i, 1]
        if not (0 <= r < 8 and 0 <= c < 8) and np.any(out[i] != 0):
            raise AssertionError(f"random_shift: image {i}: {WRAPPED}")
        raise AssertionError(f"random_shift: image {i} has one lit pixel at row {rows[i]}, column {cols[i]}; with "
                             "shifts drawn by rng.integers(-max_shift, max_shift, size=(n, 2), endpoint=True) it "
                             + (f"should move to row {r}, column {c}" if 0 <= r < 8 and 0 <= c < 8 else
                                "should leave the frame, leaving an image of zeros"))
    X_out, *_ = shift_run(fn, np.full((3, 64), 5.0), np.zeros(3), 0, 1)
    if not np.array_equal(X_out, np.full((3, 64), 5.0)):
        raise AssertionError("random_shift with max_shift=0 should return the images unchanged")


# ---------------------------------------------------------------- part 4: mixup
def mixup_run(fn, X, y, num_classes, alpha, seed, shape=None):
    """``fn(X, y, num_classes, alpha, np.random.default_rng(seed))``. Returns ``(X_mix as (n, d) floats,
    Y_mix, shape of X_mix, input_unchanged)``."""
    X = np.asarray(X, dtype=float)
    if shape is not None:
        X = X.reshape(shape)
    y = np.asarray(y).astype(np.int64)
    X_in, y_in = X.copy(), y.copy()
    X_mix, Y_mix = fn(X, y, num_classes, alpha, np.random.default_rng(seed))
    X_mix = np.asarray(X_mix, dtype=float)
    unchanged = bool(np.array_equal(X, X_in) and np.array_equal(y, y_in))
    draws = np.random.default_rng(seed)            # the draws the exercise specifies, to skip the second call
    lam = draws.beta(alpha, alpha) if alpha > 0 else 1.0
    flat = X_in.reshape(len(X_in), -1)
    specified = lam * flat + (1 - lam) * flat[draws.permutation(len(X_in))]
    same = X_mix.reshape(len(X_mix), -1).shape == specified.shape and np.allclose(
        X_mix.reshape(len(X_mix), -1), specified, rtol=1e-9, atol=1e-12)
    return (X_mix.reshape(len(X_mix), -1), np.asarray(Y_mix, dtype=float), list(X_mix.shape), unchanged,
            not same and _global_state_used(fn, (X_in, y_in, num_classes, alpha), seed, X_mix))


def mixup_mistake(X, y, num_classes, X_mix, Y_mix):
    """The named mistake mixed outputs show, judged from the outputs alone (any lam, any permutation)."""
    X = np.asarray(X, dtype=float).reshape(len(X), -1)
    Y = np.eye(num_classes)[np.asarray(y).astype(int)]
    if Y_mix.shape != Y.shape:
        return None
    if np.array_equal(Y_mix, Y) and not np.allclose(X_mix, X):
        return MIXUP_LABELS_NOT_MIXED
    # Which partner j and which lam explain row i of X_mix? Then the targets must mix the same pair.
    lams = []
    for i in range(len(X)):
        if np.allclose(X_mix[i], X[i], atol=1e-12):
            continue  # mixed with itself (or lam = 1): says nothing about the partner
        found = []   # every partner that explains the mixed input (repeated examples give several)
        for j in range(len(X)):
            d = X[i] - X[j]
            if not np.any(d):
                continue
            lam = float(d @ (X_mix[i] - X[j]) / (d @ d))
            if np.allclose(lam * X[i] + (1 - lam) * X[j], X_mix[i], atol=1e-9):
                found.append((j, lam))
        if not found:
            return None
        lams.append(found[0][1])
        if not any(np.allclose(lam * Y[i] + (1 - lam) * Y[j], Y_mix[i], atol=1e-9) for j, lam in found):
            return MIXUP_TWO_PERMUTATIONS
    if len(lams) > 1 and np.ptp(lams) > 1e-9:
        return MIXUP_PER_EXAMPLE
    return None


def check_mixup(fn) -> None:
    """The notebook's visible test of Part 4."""
    rng = np.random.default_rng(3)
    n, d, k, alpha, seed = 12, 5, 4, 0.4, 11
    X, y = rng.standard_normal((n, d)), rng.integers(0, k, n)
    X_mix, Y_mix, shape, unchanged, _ = mixup_run(fn, X, y, k, alpha, seed)
    if shape != [n, d] or Y_mix.shape != (n, k):
        raise AssertionError(f"mixup: return X_mix of shape {(n, d)} and Y_mix of shape {(n, k)}; "
                             f"got {tuple(shape)} and {Y_mix.shape}")
    if not unchanged:
        raise AssertionError("mixup: it changed its input in place; return new arrays")
    mistake = mixup_mistake(X, y, k, X_mix, Y_mix)
    if mistake:
        raise AssertionError(f"mixup: {mistake}")
    draws = np.random.default_rng(seed)
    lam = draws.beta(alpha, alpha)
    perm = draws.permutation(n)
    if not np.allclose(X_mix, lam * X + (1 - lam) * X[perm], atol=1e-12):
        raise AssertionError("mixup: X_mix should be lam * X + (1 - lam) * X[perm] with lam = rng.beta(alpha, alpha) "
                             "drawn first and perm = rng.permutation(n) second")
    if not np.allclose(Y_mix.sum(axis=1), 1.0):
        raise AssertionError("mixup: every row of Y_mix should sum to 1 (a mix of two one-hot targets)")
    Y = np.eye(k)[y]
    if not np.allclose(Y_mix, lam * Y + (1 - lam) * Y[perm], atol=1e-12):
        raise AssertionError("mixup: Y_mix should be lam * onehot(y) + (1 - lam) * onehot(y)[perm]")
    try:
        X_mix, Y_mix, *_ = mixup_run(fn, X, y, k, 0.0, seed)
    except ValueError as exc:
        raise AssertionError(f"mixup with alpha=0 raised ValueError ({exc}): with alpha == 0 do not draw lam "
                             "(rng.beta needs alpha > 0); lam = 1.0") from None
    if not (np.allclose(X_mix, X) and np.allclose(Y_mix, Y)):
        raise AssertionError("mixup with alpha=0 should not mix: lam = 1, the inputs and one-hot targets unchanged")
