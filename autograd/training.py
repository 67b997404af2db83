"""The training loop behind ``python -m autograd.train``: ``fit`` trains a model with Adam and
a per-step learning-rate schedule, evaluating on a validation set (when given) and a test set
after every epoch, and can stop early, keeping the best weights by validation score.

The same loop trains classifiers (logits (N, classes), labels (N,)) and language models
(logits (N, T, vocab), targets (N, T)): loss and accuracy are averaged over every target.

>>> from autograd.training import fit, seed_everything
>>> seed_everything(0)
>>> history = fit(model, (x_train, y_train), (x_test, y_test), epochs=3, lr=1e-3, batch_size=64)

Runs with the same seed reproduce exactly: initial weights, batch order, dropout and
augmentation all draw from generators seeded by it.

A Ctrl-C (SIGINT) takes effect between batches: the batch under way is applied whole, then
``fit`` raises ``TrainingInterrupted`` (a KeyboardInterrupt) carrying the finished epochs. A
second Ctrl-C stops at once.
"""

import contextlib
import functools
import signal
import threading
import time

import numpy as np

import ops
import optim
from autograd import Tensor, data, jit, nn, no_grad

__all__ = [
    "HISTORY_FIELDS",
    "EarlyStopping",
    "TrainingInterrupted",
    "augment",
    "evaluate",
    "fit",
    "hold_interrupt",
    "make_optimizer",
    "make_scheduler",
    "predict",
    "seed_everything",
    "train_epoch",
]

# The keys of each epoch's record in fit's history (and the columns of history.csv).
HISTORY_FIELDS = (
    "epoch",
    "lr",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "test_loss",
    "test_acc",
    "epoch_seconds",
    "elapsed",
)


def seed_everything(seed):
    """Seed the generator of ``autograd.nn.init``: initial weights and Dropout masks."""
    nn.init.seed(seed)


def make_optimizer(model, lr, weight_decay=0.0):
    """Adam on every parameter of ``model``."""
    return optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)


def make_scheduler(opt, schedule, total_steps):
    """The learning-rate schedule, stepped once per batch: ``"cosine"`` decays from the
    optimizer's rate to 0 over ``total_steps`` steps (``optim.lr_scheduler.CosineAnnealingLR``),
    ``"constant"`` keeps it (None: no scheduler)."""
    if schedule == "constant":
        return None
    if schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    raise ValueError(f"make_scheduler: unknown schedule {schedule!r}; expected 'cosine' or "
                     "'constant'")


def augment(x, rng, shift=2):
    """Random horizontal flips and translations by up to ``shift`` pixels (zero fill).

    x (N, C, H, W) -> a new array of the same shape.
    """
    n, _, h, w = x.shape
    flip = rng.random(n) < 0.5
    x = np.where(flip[:, None, None, None], x[..., ::-1], x)
    padded = np.pad(x, ((0, 0), (0, 0), (shift, shift), (shift, shift)))
    dy = rng.integers(0, 2 * shift + 1, n)
    dx = rng.integers(0, 2 * shift + 1, n)
    rows = (dy[:, None] + np.arange(h))[:, None, :, None]  # (N, 1, H, 1)
    cols = (dx[:, None] + np.arange(w))[:, None, None, :]  # (N, 1, 1, W)
    return padded[
        np.arange(n)[:, None, None, None], np.arange(x.shape[1])[None, :, None, None], rows, cols
    ]


class _Progress:
    """A tqdm bar when tqdm is installed (and wanted), else a line every ~10% of the epoch."""

    def __init__(self, total, desc, plain=False):
        self.total, self.desc, self.n = total, desc, 0
        self.bar = None
        if not plain:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(
                    total=total,
                    desc=desc,
                    unit="batch",
                    leave=True,
                    dynamic_ncols=True,
                    mininterval=0.5,
                )
        self.every = max(1, total // 10)

    def update(self, loss, acc):
        self.n += 1
        if self.bar is not None:
            self.bar.update(1)
            if self.n % 10 == 0 or self.n == self.total:
                self.bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.4f}", refresh=False)
        elif self.n % self.every == 0 or self.n == self.total:
            print(
                f"{self.desc}: {self.n}/{self.total} batches, loss {loss:.4f}, acc {acc:.4f}",
                flush=True,
            )

    def close(self):
        if self.bar is not None:
            self.bar.close()


@contextlib.contextmanager
def hold_interrupt():
    """Hold a Ctrl-C (SIGINT) until the block ends, then raise it.

    Around one batch, so that a Ctrl-C leaves the model as it was after a whole number of
    steps: never a half-applied optimizer step, BatchNorm statistics of one layer updated and
    not the next, or a numba compilation cut short (llvmlite prints a KeyboardInterrupt
    raised in its callbacks as "Exception ignored" and carries on). A second Ctrl-C inside
    the block raises at once.
    """
    # Asked first rather than read from signal.signal's return: a handler installed outside
    # Python reads as None and could not be put back.
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous) or threading.current_thread() is not threading.main_thread():
        # Ctrl-C ignored (SIG_IGN), left to the OS or handled outside Python: not ours to
        # change; and signals only reach the main thread, so elsewhere there is nothing to hold.
        yield
        return
    held = []

    def hold(signum, frame):
        if held:
            raise KeyboardInterrupt
        held.append((signum, frame))

    signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        previous(*held[0])  # the default handler raises KeyboardInterrupt


def make_train_step(model, opt, scheduler=None, compiled=False):
    """``step(x, y) -> (loss, logits)``: forward, cross-entropy, backward, the optimizer's
    and the scheduler's step; through ``autograd.jit`` when ``compiled``."""
    def step(x, y):
        logits = model(x)
        loss = ops.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        return loss, logits

    return jit(step) if compiled else step


def train_epoch(model, opt, batches, scheduler=None, transform=None, progress=None,
                on_step=None, step=None):
    """One pass over ``batches`` (an iterable of ``(inputs, targets)``).

    ``scheduler`` (an ``optim.lr_scheduler`` scheduler, or None) is stepped after every
    optimizer step; ``on_step(loss, acc, lr)`` is called after it with the batch's mean loss
    and accuracy and the step's learning rate. A Ctrl-C takes effect between batches (see
    ``fit``). ``step`` is the training step (``make_train_step``'s), made here when None.

    Returns
    -------
    (mean loss, accuracy, lr): loss and accuracy averaged over every target (samples, or
    characters of a language model), ``lr`` the learning rate of the last step.
    """
    model.train()
    total_loss = 0.0
    correct = seen = 0
    lr = opt.param_groups[0]["lr"]
    step = make_train_step(model, opt, scheduler) if step is None else step
    for xb, yb in batches:
        with hold_interrupt():
            if transform is not None:
                xb = transform(xb)
            lr = opt.param_groups[0]["lr"]
            loss, logits = step(Tensor(xb), yb)
            n = yb.size  # the loss is the mean over every target
            batch_loss = float(loss.item())
            batch_correct = int((logits.data.argmax(axis=-1) == yb).sum())
            total_loss += batch_loss * n
            correct += batch_correct
            seen += n
            if progress is not None:
                progress.update(total_loss / seen, correct / seen)
            if on_step is not None:
                on_step(batch_loss, batch_correct / n, lr)
    return total_loss / seen, correct / seen, lr


def _eval_batches(model, x, batch_size):
    """Yield ``(slice, logits)`` of ``model`` in eval mode without gradients, batch by batch;
    the model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for i in range(0, len(x), batch_size):
                with hold_interrupt():
                    part = slice(i, i + batch_size)
                    yield part, model(Tensor(x[part]))
    finally:
        model.train(was_training)


def evaluate(model, x, y, batch_size=1000):
    """``(mean loss, accuracy)`` of ``model`` in eval mode on ``x, y``, averaged over every
    target; the model's mode is restored afterwards."""
    total_loss = 0.0
    correct = 0
    for part, logits in _eval_batches(model, x, batch_size):
        yb = y[part]
        total_loss += float(ops.cross_entropy(logits, yb).item()) * yb.size
        correct += int((logits.data.argmax(axis=-1) == yb).sum())
    return total_loss / y.size, correct / y.size


def predict(model, x, batch_size=1000):
    """The class ``model`` (in eval mode) gives each of ``x``: an int64 array, (N,) for a
    classifier."""
    parts = [logits.data.argmax(axis=-1) for _, logits in _eval_batches(model, x, batch_size)]
    return np.concatenate(parts).astype(np.int64)


class EarlyStopping:
    """Stop when the validation score has not improved for ``patience`` epochs, and keep the
    weights of the best epoch.

    ``monitor`` is a key of fit's history rows: ``"val_acc"`` (higher is better) or
    ``"val_loss"`` (lower is better). ``fit`` calls ``update`` after every epoch and
    ``restore`` at the end; then ``best_epoch`` and ``stopped_epoch`` (None when the run
    went to its last epoch) tell what happened.
    """

    def __init__(self, patience, monitor="val_acc"):
        if int(patience) < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1, got {patience}")
        if monitor not in ("val_acc", "val_loss"):
            raise ValueError(f"EarlyStopping: monitor must be 'val_acc' or 'val_loss', got "
                             f"{monitor!r}")
        self.patience, self.monitor = int(patience), monitor
        self.best_value = self.best_epoch = self.best_state = self.stopped_epoch = None
        self.waited = 0

    def _better(self, value):
        if self.best_value is None:
            return True
        return value > self.best_value if self.monitor == "val_acc" else value < self.best_value

    def update(self, row, model):
        """Record epoch ``row`` (snapshotting ``model`` when it is the best so far); True when
        training should stop."""
        value = row[self.monitor]
        if self._better(value):
            self.best_value, self.best_epoch, self.waited = value, row["epoch"], 0
            self.best_state = model.state_dict()  # copies
            return False
        self.waited += 1
        if self.waited >= self.patience:
            self.stopped_epoch = row["epoch"]
            return True
        return False

    def restore(self, model):
        """Load the best epoch's weights into ``model`` (nothing before the first update)."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)


def _scores(split, loss, acc, perplexity):
    ppl = f" (ppl {np.exp(loss):.3f})" if perplexity else ""
    return f"{split} loss {loss:.4f}{ppl} acc {acc:.4f}"


class TrainingInterrupted(KeyboardInterrupt):
    """Raised by ``fit`` on Ctrl-C (a KeyboardInterrupt, so it stops a caller that does not
    know it): ``history`` holds the finished epochs, ``steps`` the optimizer steps taken; the
    model holds the weights after those steps."""

    def __init__(self, history, steps):
        super().__init__(f"training interrupted after {len(history)} epochs ({steps} steps)")
        self.history, self.steps = history, steps


def fit(
    model,
    train,
    test,
    epochs,
    lr,
    batch_size,
    seed=0,
    schedule="cosine",
    weight_decay=0.0,
    augment_shift=None,
    plain_progress=False,
    log=functools.partial(print, flush=True),
    *,
    val=None,
    early_stopping=None,
    on_step=None,
    on_epoch=None,
    perplexity=False,
    batches=None,
    compiled=False,
):
    """Train ``model`` on ``train = (x, y)`` with Adam; evaluate on ``val`` (when given) and
    ``test`` every epoch.

    ``augment_shift``: None for no augmentation, else random flips and shifts of up to that
    many pixels. Returns the history: one dict per epoch, keyed by ``HISTORY_FIELDS`` (``lr``
    is the rate of the epoch's last step; ``val_loss`` and ``val_acc`` are None without
    ``val``).

    ``early_stopping``: an ``EarlyStopping`` (needs ``val``); training stops when it says so
    and the model gets the best epoch's weights back. ``on_step(record)`` is called after
    every optimizer step with a dict ``step``, ``epoch``, ``lr``, ``loss``, ``acc`` (of that
    batch); ``on_epoch(row)`` after every epoch with its history row. ``perplexity``: the
    epoch lines give exp(loss) too (language models). ``batches``: the epochs' batches
    (default: ``train`` reshuffled by a ``data.BatchIterator``), e.g. a rank's share from
    ``autograd.distributed.DistributedBatchIterator``. ``compiled``: the training step runs
    through ``autograd.jit``.

    A Ctrl-C finishes the current batch, then raises ``TrainingInterrupted`` carrying the
    finished epochs' history and the number of steps taken; the model keeps the weights of
    the last step.
    """
    if early_stopping is not None and val is None:
        raise ValueError("fit: early stopping needs a validation set (val=)")
    transform = None
    if augment_shift is not None:
        rng = np.random.default_rng([seed, 1])  # independent of the batch order

        def transform(xb):
            return augment(xb, rng, augment_shift)

    if batches is None:
        batches = data.BatchIterator(*train, batch_size=batch_size, seed=seed)
    opt = make_optimizer(model, lr, weight_decay)
    scheduler = make_scheduler(opt, schedule, epochs * len(batches))
    train_step = make_train_step(model, opt, scheduler, compiled)
    history = []
    progress_bars = []  # one per epoch; their counts of applied batches add up to the steps
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            progress = _Progress(len(batches), f"epoch {epoch}/{epochs}", plain_progress)
            progress_bars.append(progress)
            step_hook = None
            if on_step is not None:

                def step_hook(loss, acc, lr, epoch=epoch):
                    on_step({"step": sum(bar.n for bar in progress_bars), "epoch": epoch,
                             "lr": lr, "loss": loss, "acc": acc})

            try:
                train_loss, train_acc, last_lr = train_epoch(
                    model, opt, batches, scheduler, transform, progress, step_hook, train_step
                )
                train_seconds = time.perf_counter() - t0
                val_loss, val_acc = evaluate(model, *val) if val is not None else (None, None)
                test_loss, test_acc = evaluate(model, *test)
            finally:
                progress.close()
            row = {
                "epoch": epoch,
                "lr": last_lr,
                "train_loss": train_loss,
                "train_acc": train_acc,
                "val_loss": val_loss,
                "val_acc": val_acc,
                "test_loss": test_loss,
                "test_acc": test_acc,
                "epoch_seconds": train_seconds,
                "elapsed": time.perf_counter() - start,
            }
            history.append(row)
            log(f"epoch {epoch}/{epochs}: " + " | ".join(
                _scores(split, row[f"{split}_loss"], row[f"{split}_acc"], perplexity)
                for split in ("train", "val", "test") if row[f"{split}_loss"] is not None
            ) + f" | {train_seconds:.1f} s")
            if on_epoch is not None:
                on_epoch(row)
            if early_stopping is not None and early_stopping.update(row, model):
                log(f"early stop: {early_stopping.monitor} has not improved for "
                    f"{early_stopping.patience} epochs; keeping the weights of epoch "
                    f"{early_stopping.best_epoch}")
                break
        if early_stopping is not None:
            early_stopping.restore(model)
    except KeyboardInterrupt:
        # Wherever it landed, the counts are exact: progress.n only moves inside a batch,
        # together with the optimizer step.
        steps = sum(bar.n for bar in progress_bars)
        raise TrainingInterrupted(history, steps) from None
    return history
