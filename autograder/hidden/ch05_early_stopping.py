"""Hidden tests for Chapter 5: early stopping and data augmentation.

Each part states the contract the exercise's text gives and tries every item of it in a scenario. The student's
class or function is exercised inside the sandbox by the drivers of ``coursekit.checks.early_stopping`` (the same
ones the visible tests use); here the values they return are compared with the same drivers run on
``solutions.early_stopping``. When an answer behaves like a known-wrong implementation (the mistakes the chapter
names), the message names the mistake. Messages never contain the hidden inputs or the expected values.
"""

from __future__ import annotations

import copy
import functools
import math

import numpy as np

from coursekit.checks import early_stopping as ck
from solutions import early_stopping as ref

from .common import Failure, Mistake, close, expect, probe, returned
from ..verdicts import Credit, Part, Scenario

DRIVER = "coursekit.checks.early_stopping:"


# ---------------------------------------------------------------- part 1: EarlyStopping
class _Buggy(ref.EarlyStopping):
    """The reference with one named mistake switched on."""
    bug = ""

    def is_improvement(self, value):
        if self.bug == "first_is_best" and getattr(self, "seen", None) is None:
            self.seen = True
            return True
        if self.bug == "tie":
            return value <= self.best - self.min_delta if self.mode == "min" else value >= self.best + self.min_delta
        if self.bug == "delta_sign":
            return value < self.best + self.min_delta if self.mode == "min" else value > self.best - self.min_delta
        if self.bug == "delta_ignored":
            return value < self.best if self.mode == "min" else value > self.best
        return super().is_improvement(value)

    def step(self, value, net):
        value = float(value)
        self.epoch += 1
        if self.bug == "compare_last":
            improved = self.is_improvement(value)
            previous = getattr(self, "previous", None)
            better_than_last = previous is None or (value < previous if self.mode == "min" else value > previous)
            self.previous = value
            if improved:
                self.best, self.best_epoch = value, self.epoch
                self.best_state = copy.deepcopy(net.state_dict())
            if better_than_last:
                self.wait = 0
                return False
            self.wait += 1
            return self.wait >= self.patience
        if self.bug == "tie_ignored":  # improve if best - value > min_delta; count if best - value < min_delta
            gain = (self.best - value) if self.mode == "min" else (value - self.best)
            if gain > self.min_delta:
                self.best, self.best_epoch, self.wait = value, self.epoch, 0
                self.best_state = copy.deepcopy(net.state_dict())
                return False
            if gain < self.min_delta:
                self.wait += 1
                return self.wait >= self.patience
            return False
        improved = self.is_improvement(value)
        if self.bug == "never_reset":
            if improved:
                self.best, self.best_epoch = value, self.epoch
                self.best_state = copy.deepcopy(net.state_dict())
                return False
            self.wait += 1
            return self.wait >= self.patience
        self.wait += 1
        if improved:
            self.best, self.best_epoch, self.wait = value, self.epoch, 0
            if self.bug == "shallow":
                self.best_state = net.state_dict()
            elif self.bug == "params_only":
                self.best_state = {k: v.clone() for k, v in net.named_parameters()}
            else:
                self.best_state = copy.deepcopy(net.state_dict())
            return False
        if self.bug == "off_by_one":
            return self.wait > self.patience
        return self.wait >= self.patience

    def restore(self, net):
        if self.bug == "params_only":
            if self.best_state is not None:
                net.load_state_dict(self.best_state, strict=False)
        elif self.bug != "no_restore":
            super().restore(net)


_BUGS = {
    "shallow": ck.SHALLOW_STATE, "no_restore": ck.SHALLOW_STATE, "params_only": ck.BUFFERS_NOT_RESTORED,
    "never_reset": ck.NEVER_RESET, "compare_last": ck.LAST_NOT_BEST, "delta_sign": ck.MIN_DELTA_SIGN,
    "delta_ignored": ck.MIN_DELTA_SIGN, "tie": ck.TIE_IS_IMPROVEMENT, "off_by_one": ck.PATIENCE_OFF_BY_ONE,
    "first_is_best": ck.FIRST_IS_BEST, "tie_ignored": ck.TIE_NOT_COUNTED,
}
_KEYS = {"shallow": "last_not_best_state", "no_restore": "last_not_best_state", "delta_ignored": "delta_sign"}


def _buggy(bug):
    return type(f"Buggy_{bug}", (_Buggy,), {"bug": bug})


@functools.lru_cache(maxsize=None)
def _stopping_reference(kwargs_items, values, bug=""):
    cls = _buggy(bug) if bug else ref.EarlyStopping
    return ck.stopping_run(cls, dict(kwargs_items), list(values))


PARAMS, BUFFERS = ("weight", "bias"), ("running_mean",)


def _agree(a, b, restored, attributes=False) -> bool:
    """Do the runs ``a`` and ``b`` agree on the stops and the ``restored`` tensors (and, with ``attributes``, on
    best and best_epoch, as the scenario judges them)?"""
    if list(a["stops"]) != list(b["stops"]) or not all(a[k] == b[k] for k in restored):
        return False
    return not attributes or (a["best_epoch"] == b["best_epoch"] and a["best"] is not None
                              and math.isclose(a["best"], b["best"], rel_tol=1e-12))


def _ruled_out(fails) -> frozenset:
    """The keys of the named mistakes whose every model (``_BUGS``) ``fails(bug)`` a scenario."""
    keys = {_KEYS.get(bug, bug) for bug in _BUGS}
    return frozenset(key for key in keys if all(fails(bug) for bug in _BUGS if _KEYS.get(bug, bug) == key))


_STOPPING_CASES = {}   # scenario label -> (run keys, restored tensors, attributes judged)


@functools.lru_cache(maxsize=None)
def _stopping_rules_out(label):
    """The mistakes whose models fail scenario ``label``: a passing answer did not make them. Once per process."""
    keys, restored, attributes = _STOPPING_CASES[label]
    wants = [_stopping_reference(*key) for key in keys]
    return _ruled_out(lambda bug: not all(_agree(_stopping_reference(*key, bug=bug), want, restored, attributes)
                                          for key, want in zip(keys, wants)))


def _stopping_scenario(label, covers, runs, attributes=False, buffers=False):
    """One scenario: ``runs`` is a list of (kwargs, values); each is one call of the driver. The restored buffers
    are judged only where ``buffers`` (the item of their own), the parameters everywhere."""
    calls = [probe(DRIVER + "stopping_run", "EarlyStopping", kwargs, list(values)) for kwargs, values in runs]
    restored = PARAMS + (BUFFERS if buffers else ())
    keys = [(tuple(sorted(kwargs.items())), tuple(values)) for kwargs, values in runs]
    _STOPPING_CASES[label] = (keys, restored, attributes)

    def same(a, b):
        return _agree(a, b, restored)

    def check(values_):
        outs = returned(values_, "EarlyStopping")
        if any(not isinstance(out, dict) or "stops" not in out for out in outs):
            raise Failure("EarlyStopping could not be exercised")
        wants = [_stopping_reference(*key) for key in keys]
        if not all(same(out, want) for out, want in zip(outs, wants)):
            # the named mistakes whose model gives this answer's stops and restored state on every run
            found = [bug for bug in _BUGS
                     if all(same(out, _stopping_reference(*key, bug=bug)) for out, key in zip(outs, keys))
                     and not all(same(_stopping_reference(*key, bug=bug), want) for key, want in zip(keys, wants))]
            names = {_KEYS.get(bug, bug) for bug in found}
            if len(names) == 1:
                raise Mistake(_BUGS[found[0]], key=names.pop(), plain="the stops or the restored state differ "
                                                                      "from the rules'")
        for (kwargs, values), out, want in zip(runs, outs, wants):
            if list(out["stops"]) != want["stops"]:
                ran = len(out["stops"]) if out["stops"] and out["stops"][-1] else None
                raise Failure("step returned True " + ("at another step than it should" if ran else "never, "
                                                       "although training should have stopped"))
            if out["weight"] != want["weight"] or out["bias"] != want["bias"]:
                raise Failure("restore(net) brings back the parameters of another step than the best one")
            if buffers and out["running_mean"] != want["running_mean"]:
                raise Mistake(ck.BUFFERS_NOT_RESTORED, key="params_only", plain="the buffers restored differ")
            if attributes:
                if out["best_epoch"] != want["best_epoch"]:
                    raise Failure("best_epoch is not the index (counting calls of step from 0) of the best value")
                if out["best"] is None or not math.isclose(out["best"], want["best"], rel_tol=1e-12):
                    raise Failure("best is not the best value seen")
        return _stopping_rules_out(label)   # passed: the mistakes whose models fail here are not the answer's
    return Scenario(label, calls, check, covers)


_RESTORE_NONE = ({"patience": 3}, [float("nan")] * 3)


def _restored_last(out) -> bool:
    """restore(net) before any improvement left the net as the last step made it."""
    return out["weight"] == len(out["stops"]) and out["running_mean"] == len(out["stops"])


@functools.lru_cache(maxsize=None)
def _restore_none_rules_out():
    key = (tuple(sorted(_RESTORE_NONE[0].items())), tuple(_RESTORE_NONE[1]))
    return _ruled_out(lambda bug: not _restored_last(_stopping_reference(*key, bug=bug)))


def _restore_none_scenario():
    """restore(net) when no value has improved (only NaN): the net keeps the state of the last step run. Judged on
    the restore alone, whatever the stops."""
    run = _RESTORE_NONE
    calls = [probe(DRIVER + "stopping_run", "EarlyStopping", *run)]

    def check(values):
        (v,) = values
        if not v.get("ok"):
            raise Failure(f"restore(net) before any improvement raised {v.get('error', 'an error').split(':')[0]}: "
                          "when no value has improved yet there is no best state, so leave net as it is")
        (out,) = returned(values, "EarlyStopping")
        if not _restored_last(out):
            model = _stopping_reference((tuple(sorted(run[0].items()))), tuple(run[1]), bug="first_is_best")
            if out["weight"] == model["weight"]:
                raise Mistake(ck.FIRST_IS_BEST, key="first_is_best", plain="restore(net) changed the net")
            raise Failure("restore(net) changed the net although no value had improved: leave it as it is")
        return _restore_none_rules_out()   # passed: the mistakes whose models fail here are not the answer's
    return Scenario("restore before any improvement", calls, check, ("restore_none",))


def _mode_error_scenario():
    calls = [probe(DRIVER + "stopping_run", "EarlyStopping", {"mode": "auto"}, [1.0, 2.0])]

    def check(values):
        (v,) = values
        if v.get("ok"):
            raise Failure("EarlyStopping(mode='auto') should raise ValueError: only 'min' and 'max' are allowed")
        if not str(v.get("error", "")).startswith("ValueError"):
            raise Failure("an unknown mode should raise ValueError, not another error")
    return Scenario("an unknown mode", calls, check, ("mode_error",))


_VISIBLE_RUNS = [
    ({"patience": 1}, [1.0, 1.1, 1.2, 1.3]),
    ({"patience": 1}, [2.0, 2.0, 3.0, 3.0]),
    ({"patience": 1, "min_delta": 0.1}, [1.0, 0.95, 0.97, 0.5]),
    ({"patience": 2}, [1.0, 0.8, 0.9, 0.7, 0.75, 0.72, 0.6]),
    ({"patience": 2}, [1.0, 0.8, 0.9, 0.85, 0.5]),
    ({"patience": 0}, [3.0, 2.0, 2.5, 1.0]),
    ({"patience": 1, "mode": "max"}, [0.5, 0.7, 0.6, 0.9]),
]
_rng = np.random.default_rng(505)
_NOISY = [round(float(v), 6) for v in 1.0 / np.sqrt(np.arange(1, 41)) + 0.04 * _rng.standard_normal(40)]

EARLY_STOPPING = Part(
    "EarlyStopping",
    contract={
        "default": "EarlyStopping() has Keras' defaults: patience=0, min_delta=0, mode='min'",
        "patience": "step returns True at the patience-th step in a row without improvement (patience=0: the first)",
        "reset": "an improvement resets the count of steps without improvement",
        "best_not_last": "a value improves only on the best value so far, not on the previous one",
        "strict": "a value equal to the best is no improvement (strict comparison, as Keras)",
        "min_delta": "an improvement must beat the best by more than min_delta",
        "min_delta_abs": "a negative min_delta counts as its absolute value (as Keras)",
        "max": "mode='max': larger is better, improvement iff value > best + min_delta",
        "nan": "a NaN value is never an improvement (best starts at +inf or -inf)",
        "deep_copy": "the best state is a copy that later in-place changes of the net's tensors do not reach",
        "buffers": "the whole state_dict is kept and restored, buffers (BatchNorm running statistics) included",
        "never_stops": "a value that improves at every step never stops training; restore then gives the last state",
        "attributes": "after the steps, best holds the best value and best_epoch its 0-based step",
        "mode_error": "a mode other than 'min' and 'max' raises ValueError",
        "nan_first": "a NaN as the first value is no improvement either: best stays at +inf (-inf) until a number comes",
        "plateau": "a plateau of values equal to the best counts toward patience, like any step without improvement",
        "restore_none": "restore(net) before any improvement (only NaN values so far) leaves net as it is",
    },
    scenarios=[
        _stopping_scenario("the notebook's visible examples", ("patience", "reset", "strict", "min_delta", "max"),
                           _VISIBLE_RUNS),
        _stopping_scenario("patience = 3 on a noisy curve", ("patience", "reset", "best_not_last"),
                           [({"patience": 3}, _NOISY), ({"patience": 5}, _NOISY)]),
        _stopping_scenario("a value that rises and falls", ("best_not_last",),
                           [({"patience": 2}, [0.9, 0.6, 0.8, 0.7, 0.65, 0.5, 0.55, 0.52, 0.51])]),
        _stopping_scenario("values equal to the best", ("strict",),
                           [({"patience": 2}, [0.5, 0.4, 0.4, 0.4, 0.45, 0.5]), ({"patience": 1, "mode": "max"},
                                                                             [0.8, 0.8, 0.9])]),
        _stopping_scenario("min_delta > 0", ("min_delta",),
                           [({"patience": 2, "min_delta": 0.05}, [1.0, 0.9, 0.88, 0.86, 0.8, 0.79, 0.78, 0.77]),
                            ({"patience": 1, "min_delta": 0.01}, [0.5, 0.495, 0.485, 0.47])]),
        _stopping_scenario("a negative min_delta", ("min_delta_abs",),
                           [({"patience": 1, "min_delta": -0.05}, [1.0, 0.97, 0.9, 0.88, 0.86])]),
        _stopping_scenario("mode = 'max'", ("max",),
                           [({"patience": 2, "mode": "max"}, [0.2, 0.5, 0.45, 0.6, 0.58, 0.59, 0.7]),
                            ({"patience": 1, "mode": "max", "min_delta": 0.1}, [0.3, 0.35, 0.5, 0.55]),
                            ({"patience": 2, "mode": "max"}, [0.5, 0.9, 0.6, 0.7, 0.65])]),
        _stopping_scenario("the default settings", ("default",), [({}, [0.7, 0.5, 0.6, 0.2])]),
        _stopping_scenario("a NaN value", ("nan",),
                           [({"patience": 1}, [0.7, 0.5, float("nan"), 0.4]),
                            ({"patience": 2, "mode": "max"}, [0.1, float("nan"), 0.3, 0.2, 0.25])]),
        _stopping_scenario("restore after many more steps", ("deep_copy",),
                           [({"patience": 8}, [0.3] + [0.31 + 0.01 * k for k in range(9)])]),
        _stopping_scenario("BatchNorm's running statistics restored", ("buffers",),
                           [({"patience": 8}, [0.3] + [0.31 + 0.01 * k for k in range(9)])], buffers=True),
        _stopping_scenario("a NaN as the first value", ("nan_first",),
                           [({"patience": 2}, [float("nan"), 0.5, 0.6, 0.4, 0.45, 0.5]),
                            ({"patience": 1, "mode": "max"}, [float("nan"), 0.2, 0.1])]),
        _stopping_scenario("a plateau of equal values", ("plateau",),
                           [({"patience": 2}, [0.5, 0.4, 0.4, 0.4, 0.4]), ({"patience": 3}, [1.0] * 6)]),
        _restore_none_scenario(),
        _stopping_scenario("a value that improves at every step", ("never_stops", "deep_copy"),
                           [({"patience": 0}, [1.0, 0.9, 0.8, 0.7, 0.6])]),
        _stopping_scenario("the attributes best and best_epoch", ("attributes",),
                           [({"patience": 2}, [0.9, 0.7, 0.8, 0.6, 0.65, 0.66]),
                            ({"patience": 1, "mode": "max"}, [0.1, 0.4, 0.3])], attributes=True),
        _mode_error_scenario(),
    ],
)


# ---------------------------------------------------------------- part 2: the training loop
@functools.lru_cache(maxsize=None)
def _loop_reference(spec_items):
    return ck.loop_run(ref.train_with_early_stopping, dict(spec_items))


def _loop_model(bug):
    """The reference loop with one named mistake: the model an answer is compared with before it is named."""
    import torch
    from torch import nn

    def loop(net, data, stopper, lr=0.1, num_epochs=100, augment=None):
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        history = {"train_loss": [], "val_loss": []}
        net.train()
        for _ in range(num_epochs):
            if bug != "no_train_mode":
                net.train()
            X, y = data["X_train"], data["y_train"]
            if augment is not None:
                X, y_aug = augment(X, y)
                y = y if bug == "targets_ignored" else y_aug
            if bug != "no_zero_grad":
                opt.zero_grad()
            loss = loss_fn(net(X), y)
            loss.backward()
            opt.step()
            if bug != "val_in_train_mode":
                net.eval()
            with torch.no_grad():
                val_loss = loss_fn(net(data["X_val"]), data["y_val"]).item()
            history["train_loss"].append(loss.item())
            history["val_loss"].append(val_loss)
            if stopper.step(val_loss, net):
                break
        stopper.restore(net)
        net.eval()
        with torch.no_grad():
            test_loss = loss_fn(net(data["X_test"]), data["y_test"]).item()
        return history, test_loss
    return loop


_LOOP_MODELS = {"targets_ignored": ck.TARGETS_IGNORED, "no_zero_grad": ck.NO_ZERO_GRAD,
                "no_train_mode": ck.NO_TRAIN_MODE, "val_in_train_mode": ck.VAL_IN_TRAIN_MODE}
_LOOP_KEYS = {ck.STOP_ON_TEST: "stop_on_test", ck.STOP_ON_TRAIN: "stop_on_train", ck.AUGMENT_AT_EVAL: "augment_eval",
              ck.TEST_BEFORE_RESTORE: "test_before_restore", ck.NO_TRAIN_MODE: "no_train_mode"}


@functools.lru_cache(maxsize=None)
def _loop_model_run(bug, spec_items):
    return ck.loop_run(_loop_model(bug), dict(spec_items))


def _values_agree(out, want) -> bool:
    """The loop's values: the epochs run, what the stopper was given, the history and the test loss."""
    def near(a, b):
        return len(a) == len(b) and (not a or bool(np.allclose(a, b, rtol=1e-6, atol=1e-9)))
    return near(out["stopper_values"], want["stopper_values"]) and near(out["val_loss"], want["val_loss"]) \
        and near(out["train_loss"], want["train_loss"]) and near([out["test_loss"]], [want["test_loss"]])


@functools.lru_cache(maxsize=None)
def _loop_rules_out(spec_items):
    """The mistakes whose models (``_LOOP_MODELS``) fail the run ``spec_items``: a passing answer did not make them
    (without BatchNorm the mode of the net changes nothing, without augment its targets do not matter). Once per
    process."""
    want = _loop_reference(spec_items)
    return frozenset(bug for bug in _LOOP_MODELS if not _values_agree(_loop_model_run(bug, spec_items), want))


def _loop_scenario(label, covers, spec):
    calls = [probe(DRIVER + "loop_run", "train_with_early_stopping", spec)]
    items = tuple(sorted(spec.items()))

    def check(values):
        (out,) = returned(values, "train_with_early_stopping")
        if not isinstance(out, dict) or "stopper_values" not in out:
            raise Failure("train_with_early_stopping could not be run")
        want = _loop_reference(items)
        if _values_agree(out, want):   # judged by its values; the records below only name a mistake
            return _loop_rules_out(items)   # passed: the mistakes whose models fail here are not the answer's
        plain = "the losses or the epochs run differ from the rules'"
        mistake = ck.loop_mistake(out)
        if mistake:
            raise Mistake(mistake, key=_LOOP_KEYS.get(mistake), plain=plain)
        for bug, message in _LOOP_MODELS.items():
            model = _loop_model_run(bug, items)
            if _values_agree(out, model) and not _values_agree(model, want):
                raise Mistake(message, key=bug, plain=plain)
        n, n_want = len(out["stopper_values"]), len(want["stopper_values"])
        if n != n_want:
            raise Failure(f"the loop ran {'more' if n > n_want else 'fewer'} epochs than it should: break as soon as "
                          "stopper.step returns True, and run num_epochs epochs otherwise")
        if out["restored_after"][-1:] != [n]:
            raise Failure("call stopper.restore(net) after the loop, before the test loss")
        if out["augmented"] != want["augmented"]:
            raise Failure("augment should be applied once per epoch to the training data, and only when given")
        expect(out["stopper_values"], want["stopper_values"], "the values given to stopper.step", rtol=1e-6)
        expect(out["val_loss"], want["val_loss"], "history['val_loss']", rtol=1e-6)
        expect(out["train_loss"], want["train_loss"], "history['train_loss'] (the loss of each epoch's forward pass, "
                                                      "before its step)", rtol=1e-6)
        expect(out["test_loss"], want["test_loss"], "the returned test loss", rtol=1e-6)
    return Scenario(label, calls, check, covers)


_VISIBLE_LOOP = {"seed": 5, "batchnorm": True, "lr": 0.2, "num_epochs": 12, "stop_at": 7, "best_at": 4,
                 "augment": True}

TRAINING_LOOP = Part(
    "train_with_early_stopping",
    contract={
        "val_only": "the stopper is given the validation loss (mean cross-entropy on X_val, y_val), never the "
                    "training or test loss",
        "eval_mode": "the validation loss is computed in eval mode (matters with BatchNorm or dropout)",
        "break": "the loop ends at the epoch where stopper.step returns True",
        "num_epochs": "with a stopper that never stops, num_epochs epochs run",
        "restore_then_test": "stopper.restore(net) is called once, after the loop, and the returned test loss is "
                             "that of the restored net",
        "augment_train_only": "augment(X_train, y_train) is applied once per epoch, to the training data only",
        "augment_none": "without augment the training data is used as it is",
        "history": "history holds one training loss (before the step) and one validation loss per epoch run",
        "sgd_lr": "one full-batch torch.optim.SGD step with the given lr per epoch",
        "zero_grad": "the gradients are zeroed before every backward: each step uses its own epoch's gradient",
        "train_mode": "every epoch trains in training mode (net.train() again after the previous validation)",
        "augment_targets": "the targets augment returns are the ones trained on (augment may reorder the batch)",
    },
    scenarios=[
        _loop_scenario("the notebook's visible run", ("val_only", "eval_mode", "break", "augment_train_only",
                                                      "restore_then_test"), _VISIBLE_LOOP),
        _loop_scenario("a stopper that stops at epoch 5", ("val_only", "break", "history", "sgd_lr", "zero_grad"),
                       {"seed": 1, "lr": 0.1, "num_epochs": 20, "stop_at": 5, "best_at": 3}),
        _loop_scenario("a stopper that never stops", ("num_epochs", "history"),
                       {"seed": 2, "lr": 0.1, "num_epochs": 9, "stop_at": None, "best_at": 6}),
        _loop_scenario("a network with BatchNorm", ("eval_mode", "train_mode"),
                       {"seed": 3, "batchnorm": True, "lr": 0.1, "num_epochs": 15, "stop_at": 8, "best_at": 8}),
        _loop_scenario("with augment", ("augment_train_only", "augment_targets"),
                       {"seed": 4, "lr": 0.1, "num_epochs": 10, "stop_at": 6, "best_at": 2, "augment": True}),
        _loop_scenario("without augment", ("augment_none",),
                       {"seed": 6, "lr": 0.1, "num_epochs": 10, "stop_at": 4, "best_at": 1}),
        _loop_scenario("the best state long before the stop", ("restore_then_test",),
                       {"seed": 7, "lr": 0.3, "num_epochs": 30, "stop_at": 12, "best_at": 2}),
        _loop_scenario("lr = 0.03", ("sgd_lr",),
                       {"seed": 8, "lr": 0.03, "num_epochs": 6, "stop_at": None, "best_at": 6,
                        "n_train": 30, "n_val": 20, "n_test": 25}),
    ],
)


# ---------------------------------------------------------------- part 3: random shifts
def _digits(n, seed):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    idx = np.random.default_rng(seed).choice(len(y), n, replace=False)
    return X[idx] / 16.0, y[idx]


def _visible_shift_args():
    n, max_shift, seed = 24, 2, 7
    _, rows, cols = ck._expected_pixels(n, max_shift, seed)
    X = np.zeros((n, 8, 8))
    X[np.arange(n), rows, cols] = 1.0 + np.arange(n)
    return X.reshape(n, 64), np.arange(n) % 10, max_shift, seed


def _rolled(X, max_shift, seed, sign=1):
    n = len(X)
    shifts = np.random.default_rng(seed).integers(-max_shift, max_shift, size=(n, 2), endpoint=True)
    imgs = np.asarray(X, dtype=float).reshape(n, 8, 8)
    wrapped = np.stack([np.roll(img, tuple(sign * s), axis=(0, 1)) for img, s in zip(imgs, shifts)])
    moved = ref.shift_images(imgs, sign * shifts)
    return wrapped.reshape(n, 64), moved.reshape(n, 64)


def _all_valid_shifts(X, X_out, max_shift):
    """Seed-independent: is every output image its input shifted by some (dr, dc) with |dr|, |dc| <= max_shift?"""
    imgs, outs = np.asarray(X, float).reshape(-1, 8, 8), np.asarray(X_out, float).reshape(-1, 8, 8)
    moves = [(dr, dc) for dr in range(-max_shift, max_shift + 1) for dc in range(-max_shift, max_shift + 1)]
    return all(any(np.allclose(ref.shift_images(img[None], [m])[0], out) for m in moves)
               for img, out in zip(imgs, outs))


_SHIFT_CASES = {}   # scenario label -> (X, y, max_shift, seed, shape, dtype)


@functools.lru_cache(maxsize=None)
def _shift_models(label):
    """The specified X_shifted (as (n, 64) floats) of scenario ``label``, key -> the X_shifted of each form of that
    mistake, and the keys whose every form fails the scenario (a passing answer rules them out). Once per process."""
    X, y, max_shift, seed, shape, dtype = _SHIFT_CASES[label]
    Xa = np.asarray(X, dtype=dtype).astype(float)
    want_X, _ = ref.random_shift(Xa.reshape(shape) if shape else Xa, y, max_shift, np.random.default_rng(seed))
    want_X = np.asarray(want_X).reshape(len(Xa), 64)
    wrapped, _ = _rolled(Xa, max_shift, seed)
    wrapped_back, moved_back = _rolled(Xa, max_shift, seed, sign=-1)
    models = {"wrapped": (wrapped,), "wrong_way": (moved_back, wrapped_back)}
    fails = frozenset(k for k, forms in models.items() if not any(close(f, want_X, rtol=1e-6) for f in forms))
    return want_X, models, fails


def _shift_scenario(label, covers, X, y, max_shift, seed, shape=None, dtype="float64", inplace=False):
    """``inplace``: this scenario judges that the inputs are left unchanged (the others judge the values only)."""
    calls = [probe(DRIVER + "shift_run", "random_shift", X, y, max_shift, seed, shape, dtype)]
    _SHIFT_CASES[label] = (X, y, max_shift, seed, shape, dtype)

    def check(values):
        (out,) = returned(values, "random_shift")
        if not (isinstance(out, tuple) and len(out) == 6):
            raise Failure("random_shift should return (X_shifted, y)")
        X_out, y_out, shape_out, dtype_out, unchanged, global_state = out
        Xa = np.asarray(X, dtype=dtype).astype(float)
        want_X, models, ruled_out = _shift_models(label)
        plain = "X_shifted or y differ from the specification's"
        if not close(y_out, np.asarray(y, dtype=float), rtol=0, atol=0):
            raise Mistake(ck.LABELS_CHANGED, key="labels_changed", plain=plain)
        right = close(X_out, want_X, rtol=1e-6)
        if not right and global_state:
            raise Mistake(ck.GLOBAL_RNG, key="global_rng", plain=plain)
        if close(X_out, models["wrapped"][0]) and not right:
            raise Mistake(ck.WRAPPED, key="wrapped", plain=plain)
        if any(close(X_out, f) for f in models["wrong_way"]) and not right:
            raise Mistake("the images move the wrong way: a positive shifts[i, 0] moves the digit down, a positive "
                          "shifts[i, 1] to the right", key="wrong_way", plain=plain)
        want_shape = list(shape) if shape else [len(Xa), 64]
        if list(shape_out) != want_shape:
            raise Failure(f"X_shifted should have the shape of X ({len(want_shape)} dimensions)")
        if dtype_out != dtype:
            raise Failure(f"X_shifted should have the dtype of X ({dtype}), not {dtype_out}")
        if inplace and not unchanged:
            raise Failure("random_shift changed its input in place")
        if not right and _all_valid_shifts(Xa, X_out, max_shift):
            raise Failure("every image is a valid zero-filled shift, but not the shift drawn as specified: draw all "
                          "shifts at once, rng.integers(-max_shift, max_shift, size=(n, 2), endpoint=True), "
                          "column 0 for rows and column 1 for columns")
        expect(X_out, want_X, "X_shifted (with the shifts drawn as specified)", rtol=1e-6)
        return ruled_out   # passed: the mistakes whose models fail here are not the answer's
    return Scenario(label, calls, check, covers)


_Xd, _yd = _digits(30, 1)
_Xs, _ys = _digits(12, 2)
_vis = _visible_shift_args()

RANDOM_SHIFT = Part(
    "random_shift",
    contract={
        "draws": "shifts = rng.integers(-max_shift, max_shift, size=(n, 2), endpoint=True), drawn once",
        "direction": "pixel (r, c) moves to (r + shifts[i, 0], c + shifts[i, 1]): down and to the right",
        "zero_fill": "pixels leaving the frame are dropped, vacated pixels are 0 (no wrapping around)",
        "labels": "y is returned unchanged",
        "shape_8x8": "X of shape (n, 8, 8) gives X_shifted of shape (n, 8, 8)",
        "dtype": "X_shifted has the dtype of X (float32 stays float32)",
        "max_shift_0": "max_shift = 0 returns the images unchanged",
        "n_1": "a batch of one image",
        "no_inplace": "the inputs are not changed in place",
        "rng_only": "the shifts come from rng alone, never from numpy's global random state",
        "int_pixels": "integer images (raw load_digits values) give integer images of the same dtype",
    },
    scenarios=[
        _shift_scenario("the notebook's visible images", ("draws", "direction", "zero_fill", "labels"), *_vis),
        _shift_scenario("digit images, max_shift = 1", ("draws", "labels", "rng_only"), _Xd, _yd, 1, 21),
        _shift_scenario("the inputs left unchanged", ("no_inplace",), _Xd, _yd, 2, 28, inplace=True),
        _shift_scenario("integer pixels", ("int_pixels",), np.round(_Xs * 16), _ys, 2, 27, dtype="int64"),
        _shift_scenario("max_shift = 3", ("zero_fill", "direction"), _Xs, _ys, 3, 22),
        _shift_scenario("images of shape (n, 8, 8)", ("shape_8x8",), _Xs, _ys, 2, 23, shape=[12, 8, 8]),
        _shift_scenario("float32 images", ("dtype",), _Xs, _ys, 1, 24, dtype="float32"),
        _shift_scenario("max_shift = 0", ("max_shift_0",), _Xs, _ys, 0, 25),
        _shift_scenario("one image", ("n_1",), _Xd[:1], _yd[:1], 2, 26),
    ],
)


# ---------------------------------------------------------------- part 4: mixup
def _one_lam_one_perm(X, y, k, X_mix, Y_mix):
    """Seed-independent: is each row lam * x_i + (1 - lam) * x_j for one lam and a partner j whose target is mixed
    the same way?"""
    X = np.asarray(X, float).reshape(len(X), -1)
    Y = np.eye(k)[np.asarray(y).astype(int)]
    X_mix = np.asarray(X_mix, float).reshape(len(X), -1)
    lams = []
    for i in range(len(X)):
        for j in range(len(X)):
            d = X[i] - X[j]
            if not np.any(d):
                continue
            lam = float(d @ (X_mix[i] - X[j]) / (d @ d))
            if np.allclose(lam * X[i] + (1 - lam) * X[j], X_mix[i]) and \
                    np.allclose(lam * Y[i] + (1 - lam) * Y[j], Y_mix[i]):
                lams.append(lam)
                break
        else:
            if not np.allclose(X_mix[i], X[i]):
                return False
    return len(lams) > 0 and np.ptp(lams) < 1e-9


def _mixup_scenario(label, covers, X, y, k, alpha, seed, shape=None, inplace=False):
    """``inplace``: this scenario judges that the inputs are left unchanged (the others judge the values only)."""
    calls = [probe(DRIVER + "mixup_run", "mixup", X, y, k, alpha, seed, shape)]

    def check(values):
        (out,) = returned(values, "mixup")
        if not (isinstance(out, tuple) and len(out) == 5):
            raise Failure("mixup should return (X_mix, Y_mix)")
        X_mix, Y_mix, shape_out, unchanged, global_state = out
        Xa = np.asarray(X, dtype=float)
        want_X, want_Y = ref.mixup(Xa.reshape(shape) if shape else Xa, y, k, alpha, np.random.default_rng(seed))
        want_X = want_X.reshape(len(Xa), -1)
        if np.shape(Y_mix) != want_Y.shape:
            raise Failure("Y_mix should have shape (n, num_classes): one mixed one-hot target per example")
        right = close(X_mix, want_X, rtol=1e-9) and close(Y_mix, want_Y, rtol=1e-9)
        plain = "X_mix or Y_mix differ from the specification's"
        # the mistakes' models only for a wrong answer (about 35 ms)
        mistake = None if right else ck.mixup_mistake(Xa, y, k, np.asarray(X_mix), np.asarray(Y_mix))
        if mistake and not right:
            raise Mistake(mistake, key={ck.MIXUP_TWO_PERMUTATIONS: "two_permutations",
                                        ck.MIXUP_LABELS_NOT_MIXED: "labels_not_mixed",
                                        ck.MIXUP_PER_EXAMPLE: "lam_per_example"}.get(mistake), plain=plain)
        if not right and global_state:
            raise Mistake(ck.GLOBAL_RNG, key="global_rng", plain=plain)
        if list(shape_out) != (list(shape) if shape else list(np.shape(Xa))):
            raise Failure("X_mix should have the shape of X")
        if inplace and not unchanged:
            raise Failure("mixup changed its input in place")
        if not close(X_mix, want_X, rtol=1e-9) and len(Xa) > 1 and mistake is None \
                and np.allclose(np.sum(Y_mix, axis=1), 1.0) and _one_lam_one_perm(Xa, y, k, X_mix, Y_mix):
            raise Failure("X_mix and Y_mix are a valid mixup with one lam and one permutation, but not the draws "
                          "specified: lam = rng.beta(alpha, alpha) first (no draw when alpha == 0), then "
                          "perm = rng.permutation(n), and nothing else drawn from rng")
        expect(X_mix, want_X, "X_mix (with lam drawn first, then the permutation)", rtol=1e-9)
        expect(Y_mix, want_Y, "Y_mix", rtol=1e-9)
    return Scenario(label, calls, check, covers)


_rv = np.random.default_rng(3)
_Xv, _yv = _rv.standard_normal((12, 5)), _rv.integers(0, 4, 12)
_Xm, _ym = _digits(16, 4)

MIXUP = Part(
    "mixup",
    contract={
        "one_lam": "one lam = rng.beta(alpha, alpha) for the whole batch, drawn before the permutation",
        "one_perm": "one perm = rng.permutation(n), the same for inputs and targets",
        "targets": "Y_mix = lam * onehot(y) + (1 - lam) * onehot(y)[perm], shape (n, num_classes)",
        "alpha0": "alpha = 0 draws no lam: lam = 1, nothing is mixed",
        "alpha1": "alpha = 1 (lam uniform on [0, 1])",
        "nd_input": "X of shape (n, 8, 8) is mixed along its first axis and keeps its shape",
        "n_1": "a batch of one example",
        "no_inplace": "the inputs are not changed in place",
        "rng_only": "lam and the permutation come from rng alone, never from numpy's global random state",
        "ties": "a batch with repeated examples (the same image twice)",
    },
    scenarios=[
        _mixup_scenario("the notebook's visible batch", ("one_lam", "one_perm", "targets"), _Xv, _yv, 4, 0.4, 11),
        _mixup_scenario("digit images, alpha = 0.2", ("one_lam", "one_perm", "targets", "rng_only"),
                        _Xm, _ym, 10, 0.2, 31),
        _mixup_scenario("the inputs left unchanged", ("no_inplace",), _Xm, _ym, 10, 0.3, 36, inplace=True),
        _mixup_scenario("repeated examples", ("ties",), np.vstack([_Xm[:5], _Xm[:5]]), np.concatenate([_ym[:5]] * 2),
                        10, 0.5, 37),
        _mixup_scenario("alpha = 1", ("alpha1", "one_perm"), _Xm, _ym, 10, 1.0, 32),
        _mixup_scenario("alpha = 0", ("alpha0",), _Xm, _ym, 10, 0.0, 33),
        _mixup_scenario("inputs of shape (n, 8, 8)", ("nd_input",), _Xm, _ym, 10, 0.5, 34, shape=[16, 8, 8]),
        _mixup_scenario("a batch of one", ("n_1",), _Xm[:1], _ym[:1], 10, 0.5, 35),
    ],
)


EARLY_STOPPING.credit = [
    Credit("patience, improvement and the best weights", 1.5, ("default", "patience", "reset", "best_not_last",
                                                               "strict", "plateau", "deep_copy", "never_stops")),
    Credit("min_delta and mode", 0.5, ("min_delta", "min_delta_abs", "max", "mode_error")),
    Credit("NaN values, restore before any improvement", 0.5, ("nan", "nan_first", "restore_none")),
    Credit("buffers, best and best_epoch", 0.5, ("buffers", "attributes")),
]
TRAINING_LOOP.credit = [
    Credit("training on the validation loss, stopping and the test loss", 1.0,
           ("val_only", "break", "num_epochs", "restore_then_test", "history", "sgd_lr", "zero_grad")),
    Credit("train and eval modes", 0.5, ("eval_mode", "train_mode")),
    Credit("augment", 0.5, ("augment_train_only", "augment_none", "augment_targets")),
]
RANDOM_SHIFT.credit = [
    Credit("the shifts drawn and applied as specified", 1.0, ("draws", "direction", "zero_fill", "labels",
                                                              "rng_only")),
    Credit("shapes, dtypes, inputs unchanged", 0.5, ("shape_8x8", "dtype", "int_pixels", "no_inplace")),
    Credit("max_shift = 0 and one image", 0.5, ("max_shift_0", "n_1")),
]
MIXUP.credit = [
    Credit("one lam and one permutation for inputs and targets", 1.0, ("one_lam", "one_perm", "targets", "rng_only",
                                                                      "alpha1")),
    Credit("alpha = 0", 0.5, ("alpha0",)),
    Credit("shapes, one example, repeated examples, inputs unchanged", 0.5, ("nd_input", "n_1", "ties",
                                                                            "no_inplace")),
]


def points_line(credit) -> str:
    """The line of the exercise text that shows a part's weights."""
    return "**Points:** " + " · ".join(f"{c.label} ({c.points:g})" for c in credit)


PARTS = {
    "test_early_stopping": EARLY_STOPPING,
    "test_train_with_early_stopping": TRAINING_LOOP,
    "test_random_shift": RANDOM_SHIFT,
    "test_mixup": MIXUP,
}
