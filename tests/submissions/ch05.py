"""Chapter 5 (early stopping and data augmentation): known-buggy and correct answers.

Each buggy answer reproduces one mistake the chapter names (COURSE.md's list and issue 12's) and says, in
``visible`` and ``hidden``, the words the visible test's message and the grader's feedback must contain. The
correct ones are other valid ways of writing each answer, which must keep full marks.
"""

from __future__ import annotations

from submissions import Variant

_ES_HEAD = '''
class EarlyStopping:
    def __init__(self, patience=0, min_delta=0.0, mode="min"):
        if mode not in ("min", "max"):
            raise ValueError(mode)
        self.patience, self.min_delta, self.mode = patience, abs(min_delta), mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch, self.best_state, self.wait, self.calls = None, None, 0, 0

    def better(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta
'''


def _es(step, restore="        if self.best_state is not None:\n            net.load_state_dict(self.best_state)\n",
        better=None):
    head = _ES_HEAD if better is None else _ES_HEAD.split("    def better")[0] + better
    return head + "\n    def step(self, value, net):\n" + step + "\n    def restore(self, net):\n" + restore


_STEP_OK = '''        epoch, self.calls = self.calls, self.calls + 1
        self.wait += 1
        if self.better(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_state = copy.deepcopy(net.state_dict())
            return False
        return self.wait >= self.patience
'''

ES_SHALLOW = _es(_STEP_OK.replace("copy.deepcopy(net.state_dict())", "net.state_dict()"))
ES_DICT_COPY = _es(_STEP_OK.replace("copy.deepcopy(net.state_dict())", "dict(net.state_dict())"))
ES_RESTORES_LAST = _es(_STEP_OK, restore="        pass\n")
ES_PARAMS_ONLY = _es(_STEP_OK.replace("copy.deepcopy(net.state_dict())",
                                      "{k: v.detach().clone() for k, v in net.named_parameters()}"),
                     restore="        net.load_state_dict(self.best_state, strict=False)\n")
ES_NEVER_RESET = _es('''        epoch, self.calls = self.calls, self.calls + 1
        if self.better(value):
            self.best, self.best_epoch = value, epoch
            self.best_state = copy.deepcopy(net.state_dict())
            return False
        self.wait += 1
        return self.wait >= self.patience
''')
ES_COMPARE_LAST = _es('''        epoch, self.calls = self.calls, self.calls + 1
        last = getattr(self, "last", None)
        self.last = value
        if self.better(value):
            self.best, self.best_epoch = value, epoch
            self.best_state = copy.deepcopy(net.state_dict())
        if last is None or (value < last if self.mode == "min" else value > last):
            self.wait = 0
            return False
        self.wait += 1
        return self.wait >= self.patience
''')
ES_MIN_DELTA_SIGN = _es(_STEP_OK, better='''    def better(self, value):
        if self.mode == "min":
            return value < self.best + self.min_delta
        return value > self.best - self.min_delta
''')
ES_OFF_BY_ONE = _es(_STEP_OK.replace("self.wait >= self.patience", "self.wait > self.patience"))
ES_TIE = _es(_STEP_OK, better='''    def better(self, value):
        if self.mode == "min":
            return value <= self.best - self.min_delta
        return value >= self.best + self.min_delta
''')

_LOOP = '''
def train_with_early_stopping(net, data, stopper, lr=0.1, num_epochs=100, augment=None):
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = {"train_loss": [], "val_loss": []}
    for _ in range(num_epochs):
        net.train()
        X, y = data["X_train"], data["y_train"]
        if augment is not None:
            X, y = augment(X, y)
        opt.zero_grad()
        loss = loss_fn(net(X), y)
        loss.backward()
        opt.step()
        net.eval()
        with torch.no_grad():
            val_loss = loss_fn(net(data["X_val"]), data["y_val"]).item()
            test_now = loss_fn(net(data["X_test"]), data["y_test"]).item()
        history["train_loss"].append(loss.item())
        history["val_loss"].append(val_loss)
        if stopper.step(val_loss, net):
            break
    stopper.restore(net)
    net.eval()
    with torch.no_grad():
        test_loss = loss_fn(net(data["X_test"]), data["y_test"]).item()
    return history, test_loss
'''
LOOP_STOPS_ON_TEST = _LOOP.replace("if stopper.step(val_loss, net):", "if stopper.step(test_now, net):")
LOOP_STOPS_ON_TRAIN = _LOOP.replace("if stopper.step(val_loss, net):", "if stopper.step(loss.item(), net):")
LOOP_AUGMENTS_EVAL = _LOOP.replace(
    'val_loss = loss_fn(net(data["X_val"]), data["y_val"]).item()',
    'val_loss = loss_fn(*_eval_pair(net, data, augment)).item()').replace(
    "def train_with_early_stopping", '''def _eval_pair(net, data, augment):
    X, y = data["X_val"], data["y_val"]
    if augment is not None:
        X, y = augment(X, y)
    return net(X), y


def train_with_early_stopping''')
LOOP_TEST_BEFORE_RESTORE = _LOOP.replace('''    stopper.restore(net)
    net.eval()
    with torch.no_grad():
        test_loss = loss_fn(net(data["X_test"]), data["y_test"]).item()
''', '''    net.eval()
    with torch.no_grad():
        test_loss = loss_fn(net(data["X_test"]), data["y_test"]).item()
    stopper.restore(net)
''')
LOOP_TRAIN_MODE_EVAL = _LOOP.replace("        net.eval()\n        with torch.no_grad():\n            val_loss",
                                     "        with torch.no_grad():\n            val_loss").replace(
    '            test_now = loss_fn(net(data["X_test"]), data["y_test"]).item()\n', "")

_SHIFT = '''
def random_shift(X, y, max_shift, rng):
    X = np.asarray(X)
    n = X.shape[0]
    shifts = rng.integers(-max_shift, max_shift, size=(n, 2), endpoint=True)
    images = X.reshape(n, 8, 8)
    out = np.zeros_like(images)
    for i, (dr, dc) in enumerate(shifts):
        for r in range(8):
            for c in range(8):
                if 0 <= r + dr < 8 and 0 <= c + dc < 8:
                    out[i, r + dr, c + dc] = images[i, r, c]
    return out.reshape(X.shape), np.array(y)
'''
SHIFT_WRAPS = '''
def random_shift(X, y, max_shift, rng):
    X = np.asarray(X)
    n = X.shape[0]
    shifts = rng.integers(-max_shift, max_shift, size=(n, 2), endpoint=True)
    images = X.reshape(n, 8, 8)
    out = np.stack([np.roll(img, (int(dr), int(dc)), axis=(0, 1)) for img, (dr, dc) in zip(images, shifts)])
    return out.reshape(X.shape), np.array(y)
'''
SHIFT_CHANGES_LABELS = _SHIFT.replace("np.array(y)", "np.sort(y)")
SHIFT_WRONG_WAY = _SHIFT.replace("for i, (dr, dc) in enumerate(shifts):",
                                 "for i, (dr, dc) in enumerate(-shifts):")

_MIXUP = '''
def mixup(X, y, num_classes, alpha, rng):
    X = np.asarray(X, dtype=float)
    lam = rng.beta(alpha, alpha) if alpha > 0 else 1.0
    perm = rng.permutation(len(X))
    Y = np.eye(num_classes)[np.asarray(y, dtype=int)]
    return lam * X + (1 - lam) * X[perm], lam * Y + (1 - lam) * Y[perm]
'''
MIXUP_TWO_PERMS = _MIXUP.replace("lam * Y + (1 - lam) * Y[perm]", "lam * Y + (1 - lam) * Y[rng.permutation(len(X))]")
MIXUP_LABELS_NOT_MIXED = _MIXUP.replace("lam * Y + (1 - lam) * Y[perm]", "Y")
MIXUP_PER_EXAMPLE = '''
def mixup(X, y, num_classes, alpha, rng):
    X = np.asarray(X, dtype=float)
    n = len(X)
    lam = rng.beta(alpha, alpha, size=n) if alpha > 0 else np.ones(n)
    perm = rng.permutation(n)
    Y = np.eye(num_classes)[np.asarray(y, dtype=int)]
    lx = lam.reshape((n,) + (1,) * (X.ndim - 1))
    return lx * X + (1 - lx) * X[perm], lam[:, None] * Y + (1 - lam[:, None]) * Y[perm]
'''

# ---------------------------------------------------------------- contract items (edge cases, draw order)
ES_MIN_DELTA_NOT_ABS = _es(_STEP_OK).replace("abs(min_delta)", "min_delta")
ES_NO_MODE_CHECK = _es(_STEP_OK).replace('        if mode not in ("min", "max"):\n            raise ValueError(mode)\n',
                                         "")
SHIFT_FLOAT64 = _SHIFT.replace("out = np.zeros_like(images)", "out = np.zeros(images.shape)")
SHIFT_TWO_DRAWS = _SHIFT.replace(
    "shifts = rng.integers(-max_shift, max_shift, size=(n, 2), endpoint=True)",
    "shifts = np.stack([rng.integers(-max_shift, max_shift, size=n, endpoint=True),\n"
    "                       rng.integers(-max_shift, max_shift, size=n, endpoint=True)], axis=1)")
MIXUP_BETA_AT_ZERO = _MIXUP.replace("lam = rng.beta(alpha, alpha) if alpha > 0 else 1.0", "lam = rng.beta(alpha, alpha)")
MIXUP_PERM_FIRST = _MIXUP.replace(
    "    lam = rng.beta(alpha, alpha) if alpha > 0 else 1.0\n    perm = rng.permutation(len(X))\n",
    "    perm = rng.permutation(len(X))\n    lam = rng.beta(alpha, alpha) if alpha > 0 else 1.0\n")

# ---------------------------------------------------------------- issue 23: the edges of the contracts
# Degenerate inputs: best starts as None and the first value is taken without a comparison (a NaN first value
# then becomes the best forever).
ES_FIRST_IS_BEST = _es('''        epoch, self.calls = self.calls, self.calls + 1
        if self.best_epoch is None and not hasattr(self, "started"):
            self.started = True
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_state = copy.deepcopy(net.state_dict())
            return False
        self.wait += 1
        if self.better(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_state = copy.deepcopy(net.state_dict())
            return False
        return self.wait >= self.patience
''')
# Degenerate inputs: a plateau of equal losses neither resets nor counts (a popular tutorial's two-branch form).
ES_TIE_NOT_COUNTED = _es('''        epoch, self.calls = self.calls, self.calls + 1
        gain = self.best - value if self.mode == "min" else value - self.best
        if gain > self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_state = copy.deepcopy(net.state_dict())
        elif gain < self.min_delta:
            self.wait += 1
            if self.wait >= self.patience:
                return True
        return False
''')
# Degenerate inputs: restore before any improvement.
ES_RESTORE_NONE = _es(_STEP_OK, restore="        net.load_state_dict(self.best_state)\n")
# Composition: the targets augment returns are dropped.
LOOP_IGNORES_TARGETS = _LOOP.replace("            X, y = augment(X, y)", "            X, _ = augment(X, y)")
# State over time: net.train() once, before the loop: from the second epoch on it trains in eval mode.
LOOP_TRAIN_ONCE = _LOOP.replace("    for _ in range(num_epochs):\n        net.train()\n",
                                "    net.train()\n    for _ in range(num_epochs):\n")
# State over time: the gradients are never zeroed.
LOOP_NO_ZERO_GRAD = _LOOP.replace("        opt.zero_grad()\n", "")
# Randomness: numpy's global random state instead of rng.
SHIFT_GLOBAL_RNG = _SHIFT.replace("shifts = rng.integers(-max_shift, max_shift, size=(n, 2), endpoint=True)",
                                  "shifts = np.random.randint(-max_shift, max_shift + 1, size=(n, 2))")
MIXUP_GLOBAL_BETA = _MIXUP.replace("lam = rng.beta(alpha, alpha) if alpha > 0 else 1.0",
                                   "lam = np.random.beta(alpha, alpha) if alpha > 0 else 1.0")
# Text that decides: lam folded to max(lam, 1 - lam), as some implementations do.
MIXUP_LAM_FOLDED = _MIXUP.replace("    perm = rng.permutation(len(X))\n",
                                  "    lam = max(lam, 1 - lam)\n    perm = rng.permutation(len(X))\n")
# A NaN (a failed evaluation) skipped: it neither counts toward patience nor resets it. On the NaN scenarios the
# answer is the model of a plateau that is not counted (a NaN gain is neither > nor < min_delta), which the plateau
# scenarios it passes rule out.
ES_SKIPS_NAN = _es('''        epoch, self.calls = self.calls, self.calls + 1
        if math.isnan(value):                      # no value this epoch: wait for the next one
            return False
        self.wait += 1
        if self.better(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_state = copy.deepcopy(net.state_dict())
            return False
        return self.wait >= self.patience
''')

# Correct, on the edges.
ES_GAIN_FORM = _es('''        epoch, self.calls = self.calls, self.calls + 1
        gain = self.best - value if self.mode == "min" else value - self.best
        if gain > self.min_delta:                  # NaN and ties: no gain
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_state = copy.deepcopy(net.state_dict())
            return False
        self.wait += 1
        return self.wait >= self.patience
''')
LOOP_TRAIN_BEFORE_STEP = _LOOP.replace('''        history["train_loss"].append(loss.item())
        history["val_loss"].append(val_loss)
        if stopper.step(val_loss, net):
            break''', '''        history["train_loss"].append(loss.item())
        history["val_loss"].append(val_loss)
        net.train()                                  # back to training before the stopper copies the state
        if stopper.step(val_loss, net):
            stopper.restore(net)                     # restored here and again after the loop: harmless
            break''')
SHIFT_ROLL_AND_ZERO = '''
def random_shift(X, y, max_shift, rng):
    X = np.asarray(X)
    n = X.shape[0]
    shifts = rng.integers(-max_shift, max_shift, size=(n, 2), endpoint=True)
    out = X.reshape(n, 8, 8).copy()
    for i, (dr, dc) in enumerate(shifts):
        img = np.roll(out[i], (dr, dc), axis=(0, 1))
        if dr > 0:
            img[:dr] = 0
        elif dr < 0:
            img[dr:] = 0
        if dc > 0:
            img[:, :dc] = 0
        elif dc < 0:
            img[:, dc:] = 0
        out[i] = img
    return out.reshape(X.shape), np.array(y, copy=True)
'''
MIXUP_RETURNS_LIST = '''
def mixup(X, y, num_classes, alpha, rng):
    lam = rng.beta(alpha, alpha) if alpha != 0 else 1.0
    perm = rng.permutation(len(X))
    X = np.asarray(X, dtype=np.float64)
    Y = np.eye(num_classes)[np.asarray(y, dtype=int)]
    return [lam * X + (1 - lam) * X[perm], lam * Y + (1 - lam) * Y[perm]]
'''

BUGGY = [
    Variant("es_shallow_state_dict", "EarlyStopping", ES_SHALLOW, "test_early_stopping",
            visible="shallow", hidden="last ones, not the best"),
    Variant("es_dict_copy_of_state_dict", "EarlyStopping", ES_DICT_COPY, "test_early_stopping",
            visible="deepcopy", hidden="shallow dict copy"),
    Variant("es_restores_last_weights", "EarlyStopping", ES_RESTORES_LAST, "test_early_stopping",
            visible="last ones, not the best", hidden="last ones, not the best"),
    Variant("es_buffers_not_restored", "EarlyStopping", ES_PARAMS_ONLY, "test_early_stopping",
            visible="buffers", hidden="running statistics"),
    Variant("es_patience_never_reset", "EarlyStopping", ES_NEVER_RESET, "test_early_stopping",
            visible="never reset", hidden="never reset"),
    Variant("es_compares_with_last_value", "EarlyStopping", ES_COMPARE_LAST, "test_early_stopping",
            visible="previous one", hidden="previous one"),
    Variant("es_min_delta_wrong_sign", "EarlyStopping", ES_MIN_DELTA_SIGN, "test_early_stopping",
            visible="wrong sign", hidden="wrong sign"),
    Variant("es_patience_off_by_one", "EarlyStopping", ES_OFF_BY_ONE, "test_early_stopping",
            visible="off by one", hidden="off by one"),
    Variant("es_tie_is_improvement", "EarlyStopping", ES_TIE, "test_early_stopping",
            visible="equal to the best", hidden="equal to the best"),
    Variant("loop_stops_on_test_data", "train_with_early_stopping", LOOP_STOPS_ON_TEST,
            "test_train_with_early_stopping", visible="TEST data", hidden="TEST data"),
    Variant("loop_stops_on_training_loss", "train_with_early_stopping", LOOP_STOPS_ON_TRAIN,
            "test_train_with_early_stopping", visible="training data", hidden="loss on the training data"),
    Variant("loop_augments_validation_data", "train_with_early_stopping", LOOP_AUGMENTS_EVAL,
            "test_train_with_early_stopping", visible="training only", hidden="augmentation belongs to training"),
    Variant("loop_test_loss_before_restore", "train_with_early_stopping", LOOP_TEST_BEFORE_RESTORE,
            "test_train_with_early_stopping", visible="before restoring", hidden="before restoring"),
    Variant("loop_validates_in_train_mode", "train_with_early_stopping", LOOP_TRAIN_MODE_EVAL,
            "test_train_with_early_stopping", visible="training mode", hidden="training mode"),
    Variant("shift_wraps_around", "random_shift", SHIFT_WRAPS, "test_random_shift",
            visible="wraps around", hidden="wraps around"),
    Variant("shift_changes_labels", "random_shift", SHIFT_CHANGES_LABELS, "test_random_shift",
            visible="labels changed", hidden="labels changed"),
    Variant("shift_wrong_direction", "random_shift", SHIFT_WRONG_WAY, "test_random_shift",
            visible="other way", hidden="wrong way"),
    Variant("mixup_two_permutations", "mixup", MIXUP_TWO_PERMS, "test_mixup",
            visible="ONE permutation", hidden="ONE permutation"),
    Variant("mixup_labels_not_mixed", "mixup", MIXUP_LABELS_NOT_MIXED, "test_mixup",
            visible="targets are not mixed", hidden="targets are not mixed"),
    Variant("mixup_lam_per_example", "mixup", MIXUP_PER_EXAMPLE, "test_mixup",
            visible="per example", hidden="per example"),
    Variant("es_negative_min_delta_not_abs", "EarlyStopping", ES_MIN_DELTA_NOT_ABS, "test_early_stopping",
            visible=None, hidden="a negative min_delta", not_named="wrong sign"),
    Variant("es_unknown_mode_accepted", "EarlyStopping", ES_NO_MODE_CHECK, "test_early_stopping",
            visible=None, hidden="should raise ValueError"),
    Variant("shift_returns_float64", "random_shift", SHIFT_FLOAT64, "test_random_shift",
            visible=None, hidden="dtype of X"),
    Variant("shift_draws_rows_and_columns_apart", "random_shift", SHIFT_TWO_DRAWS, "test_random_shift",
            visible="rng.integers(-max_shift", hidden="not the shift drawn as specified"),
    Variant("mixup_draws_beta_at_alpha_zero", "mixup", MIXUP_BETA_AT_ZERO, "test_mixup",
            visible="alpha", hidden="alpha = 0"),
    Variant("mixup_permutation_before_lambda", "mixup", MIXUP_PERM_FIRST, "test_mixup",
            visible="drawn first", hidden="not the draws specified"),
    Variant("es_nan_first_becomes_best", "EarlyStopping", ES_FIRST_IS_BEST, "test_early_stopping",
            visible=None, hidden="first value is taken as the best"),
    Variant("es_plateau_not_counted", "EarlyStopping", ES_TIE_NOT_COUNTED, "test_early_stopping",
            visible=None, hidden="plateau of equal values never stops"),
    Variant("es_restore_without_best", "EarlyStopping", ES_RESTORE_NONE, "test_early_stopping",
            visible=None, hidden="restore before any improvement"),
    Variant("loop_ignores_augmented_targets", "train_with_early_stopping", LOOP_IGNORES_TARGETS,
            "test_train_with_early_stopping", visible=None, hidden="targets augment returns are ignored"),
    Variant("loop_train_mode_set_once", "train_with_early_stopping", LOOP_TRAIN_ONCE,
            "test_train_with_early_stopping", visible="training mode at the start of every epoch",
            hidden="training mode at the start of every epoch"),
    Variant("loop_never_zeroes_gradients", "train_with_early_stopping", LOOP_NO_ZERO_GRAD,
            "test_train_with_early_stopping", visible=None, hidden="never zeroed"),
    Variant("shift_global_random_state", "random_shift", SHIFT_GLOBAL_RNG, "test_random_shift",
            visible=None, hidden="global random state"),
    Variant("mixup_global_beta", "mixup", MIXUP_GLOBAL_BETA, "test_mixup", visible=None,
            hidden="global random state"),
    Variant("mixup_lam_folded", "mixup", MIXUP_LAM_FOLDED, "test_mixup", visible="drawn first",
            hidden="not the draws specified"),
    # named as the uncounted plateau without the rule-outs of the plateau scenarios it passes
    Variant("es_nan_skipped", "EarlyStopping", ES_SKIPS_NAN, "test_early_stopping", visible=None,
            hidden="a NaN as the first value", not_named="plateau of equal values never stops"),
]

# ---------------------------------------------------------------- correct alternatives
ES_CLONES_SIGNED = '''
class EarlyStopping:
    """Compares sign * value; keeps cloned tensors."""

    def __init__(self, patience=0, min_delta=0.0, mode="min"):
        if mode == "min":
            self.sign = 1.0
        elif mode == "max":
            self.sign = -1.0
        else:
            raise ValueError("mode must be 'min' or 'max'")
        self.patience, self.min_delta = patience, abs(min_delta)
        self.best, self.best_epoch, self.wait, self.t, self.saved = self.sign * math.inf, None, 0, 0, None

    def step(self, value, net):
        self.t += 1
        if self.sign * value < self.sign * self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, self.t - 1, 0
            self.saved = {k: v.detach().clone() for k, v in net.state_dict().items()}
            return False
        self.wait += 1
        return self.wait >= self.patience

    def restore(self, net):
        if self.saved is not None:
            net.load_state_dict(self.saved)
'''
ES_BYTES = '''
import io


class EarlyStopping:
    """Keeps the best state serialized with torch.save; counts bad epochs in a list of flags."""

    def __init__(self, patience=0, min_delta=0.0, mode="min"):
        if mode not in {"min", "max"}:
            raise ValueError(f"unknown mode {mode}")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = float("inf") if mode == "min" else float("-inf")
        self.history, self.best_epoch, self.blob = [], None, None
        self.wait = 0

    def step(self, value, net):
        delta = abs(self.min_delta)
        improved = value < self.best - delta if self.mode == "min" else value > self.best + delta
        self.history.append(value)
        if not improved:
            self.wait += 1
            return self.wait >= self.patience
        self.best, self.best_epoch, self.wait = value, len(self.history) - 1, 0
        buffer = io.BytesIO()
        torch.save(net.state_dict(), buffer)
        self.blob = buffer.getvalue()
        return False

    def restore(self, net):
        if self.blob is not None:
            net.load_state_dict(torch.load(io.BytesIO(self.blob)))
'''
LOOP_FUNCTIONAL = '''
def train_with_early_stopping(net, data, stopper, lr=0.1, num_epochs=100, augment=None):
    import torch.nn.functional as F

    opt = torch.optim.SGD(net.parameters(), lr=lr)
    train_losses, val_losses = [], []
    epoch = 0
    while epoch < num_epochs:
        epoch += 1
        net.train(True)
        X, y = (data["X_train"], data["y_train"]) if augment is None else augment(data["X_train"], data["y_train"])
        loss = F.cross_entropy(net(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        train_losses.append(float(loss))
        net.train(False)
        with torch.inference_mode():
            val_losses.append(float(F.cross_entropy(net(data["X_val"]), data["y_val"])))
        if stopper.step(val_losses[-1], net):
            break
    stopper.restore(net)
    net.train(False)
    with torch.inference_mode():
        test_loss = float(F.cross_entropy(net(data["X_test"]), data["y_test"]))
    return {"train_loss": train_losses, "val_loss": val_losses}, test_loss
'''
LOOP_HELPER = '''
def _evaluate(net, X, y):
    net.eval()
    with torch.no_grad():
        return nn.CrossEntropyLoss()(net(X), y).item()


def train_with_early_stopping(net, data, stopper, lr=0.1, num_epochs=100, augment=None):
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    history = {"train_loss": [], "val_loss": []}
    stop = False
    for epoch in range(num_epochs):
        if stop:
            break
        net.train()
        X, y = data["X_train"], data["y_train"]
        if augment:
            X, y = augment(X, y)
        for p in net.parameters():
            p.grad = None
        loss = nn.functional.cross_entropy(net(X), y, reduction="mean")
        loss.backward()
        opt.step()
        history["train_loss"].append(loss.item())
        history["val_loss"].append(_evaluate(net, data["X_val"], data["y_val"]))
        stop = bool(stopper.step(history["val_loss"][-1], net))
    stopper.restore(net)
    return history, _evaluate(net, data["X_test"], data["y_test"])
'''
SHIFT_PAD = '''
def random_shift(X, y, max_shift, rng):
    X = np.asarray(X)
    n = len(X)
    shifts = rng.integers(-max_shift, max_shift, size=(n, 2), endpoint=True)
    m = 8
    padded = np.pad(X.reshape(n, 8, 8), ((0, 0), (m, m), (m, m)))
    out = np.empty((n, 8, 8), dtype=X.dtype)
    for i in range(n):
        dr, dc = shifts[i]
        out[i] = padded[i, m - dr:m - dr + 8, m - dc:m - dc + 8]
    return out.reshape(X.shape), y.copy()
'''
SHIFT_SCIPY = '''
from scipy import ndimage


def random_shift(X, y, max_shift, rng):
    X = np.asarray(X)
    shifts = rng.integers(-max_shift, max_shift, size=(len(X), 2), endpoint=True)
    images = X.reshape(-1, 8, 8)
    out = np.stack([ndimage.shift(img, s, order=0, mode="constant", cval=0.0) for img, s in zip(images, shifts)])
    return out.reshape(X.shape).astype(X.dtype), np.asarray(y)
'''
MIXUP_ZEROS = '''
def mixup(X, y, num_classes, alpha, rng):
    X = np.array(X, dtype=float)
    y = np.asarray(y).astype(int)
    lam = 1.0
    if alpha > 0:
        lam = rng.beta(alpha, alpha)
    idx = rng.permutation(X.shape[0])
    Y = np.zeros((len(y), num_classes))
    Y[np.arange(len(y)), y] = 1.0
    X_mix = lam * X + (1.0 - lam) * np.take(X, idx, axis=0)
    Y_mix = lam * Y + (1.0 - lam) * Y[idx]
    return X_mix, Y_mix
'''
MIXUP_TORCH = '''
def mixup(X, y, num_classes, alpha, rng):
    lam = float(rng.beta(alpha, alpha)) if alpha else 1.0
    perm = torch.as_tensor(rng.permutation(len(X)))
    X = torch.as_tensor(np.asarray(X, dtype=np.float64))
    Y = nn.functional.one_hot(torch.as_tensor(np.asarray(y)).long(), num_classes).double()
    return (lam * X + (1 - lam) * X[perm]).numpy(), (lam * Y + (1 - lam) * Y[perm]).numpy()
'''

CORRECT = [
    Variant("es_signed_clones", "EarlyStopping", ES_CLONES_SIGNED, "test_early_stopping"),
    Variant("es_serialized_state", "EarlyStopping", ES_BYTES, "test_early_stopping"),
    Variant("loop_functional_while", "train_with_early_stopping", LOOP_FUNCTIONAL, "test_train_with_early_stopping"),
    Variant("loop_with_helper", "train_with_early_stopping", LOOP_HELPER, "test_train_with_early_stopping"),
    Variant("shift_by_padding", "random_shift", SHIFT_PAD, "test_random_shift"),
    Variant("shift_with_scipy", "random_shift", SHIFT_SCIPY, "test_random_shift"),
    Variant("mixup_zeros_and_take", "mixup", MIXUP_ZEROS, "test_mixup"),
    Variant("mixup_in_torch", "mixup", MIXUP_TORCH, "test_mixup"),
    Variant("es_gain_form", "EarlyStopping", ES_GAIN_FORM, "test_early_stopping"),
    Variant("loop_train_mode_before_step_restores_twice", "train_with_early_stopping", LOOP_TRAIN_BEFORE_STEP,
            "test_train_with_early_stopping"),
    Variant("shift_roll_and_zero", "random_shift", SHIFT_ROLL_AND_ZERO, "test_random_shift"),
    Variant("mixup_returns_a_list", "mixup", MIXUP_RETURNS_LIST, "test_mixup"),
]
