"""What the training command writes into its run folder, besides the weights: the per-epoch
history and the per-step losses (CSV always, PNG when matplotlib is installed), a confusion
matrix for classifiers, and TensorBoard event logs when tensorboardX is installed.

>>> from autograd import reports
>>> reports.write_csv(history, "runs/mlp/history.csv")
>>> reports.plot_steps(steps, history, "runs/mlp/steps.png")
>>> matrix = reports.confusion_matrix(y_true, y_pred, 10)
"""

import csv

import numpy as np

from autograd.training import HISTORY_FIELDS

__all__ = [
    "STEP_FIELDS",
    "TensorBoardLogger",
    "confusion_matrix",
    "plot_confusion",
    "plot_history",
    "plot_steps",
    "tensorboard_available",
    "write_confusion_csv",
    "write_csv",
]

# The keys of each optimizer step's record (fit's ``on_step``), the columns of steps.csv.
STEP_FIELDS = ("step", "epoch", "lr", "loss", "acc")


def _format(value):
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else value


def write_csv(history, path, fields=HISTORY_FIELDS):
    """``history`` (a list of dicts keyed by ``fields``) as CSV; just the header when it is
    empty (a run interrupted in its first epoch). None (no validation set) is written empty."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in history:
            writer.writerow({k: _format(v) for k, v in row.items()})


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend, or None when it is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def plot_history(history, path, title=""):
    """Per-epoch loss and accuracy curves (train, validation when there is one, test) as a
    PNG; False when matplotlib is not installed."""
    plt = _pyplot()
    if plt is None:
        return False
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for split in ("train", "val", "test"):
        if history[0].get(f"{split}_loss") is None:
            continue
        ax_loss.plot(epochs, [r[f"{split}_loss"] for r in history], marker="o", label=split)
        ax_acc.plot(epochs, [r[f"{split}_acc"] for r in history], marker="o", label=split)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def plot_steps(steps, history, path, title=""):
    """The loss of every optimizer step (and its moving average), with each epoch's mean
    train loss and validation/test loss marked at the step that ended the epoch, as a PNG;
    False when matplotlib is not installed."""
    plt = _pyplot()
    if plt is None:
        return False
    step = np.array([r["step"] for r in steps])
    loss = np.array([r["loss"] for r in steps])
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(step, loss, lw=0.6, alpha=0.4, color="tab:blue", label="step loss")
    width = max(1, len(loss) // 50)
    if len(loss) > width > 1:
        smooth = np.convolve(loss, np.ones(width) / width, mode="valid")
        ax.plot(step[width - 1 :], smooth, color="tab:blue", label=f"mean of {width} steps")
    ends = {}  # epoch -> its last step
    for r in steps:
        ends[r["epoch"]] = r["step"]
    rows = [r for r in history if r["epoch"] in ends]
    x = [ends[r["epoch"]] for r in rows]
    for split, marker in (("train", "o"), ("val", "s"), ("test", "^")):
        if rows and rows[0].get(f"{split}_loss") is not None:
            ax.plot(x, [r[f"{split}_loss"] for r in rows], marker=marker, ls="--",
                    label=f"epoch {split} loss")
    ax.set(xlabel="optimizer step", ylabel="cross-entropy", title=title or "loss per step")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def confusion_matrix(y_true, y_pred, num_classes):
    """(num_classes, num_classes) int64 counts: row = true class, column = predicted."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix: y_true of shape {y_true.shape} and y_pred of "
                         f"shape {y_pred.shape} differ")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} holds {y.min()}..{y.max()}, outside "
                             f"0..{num_classes - 1}")
    flat = y_true.astype(np.int64) * num_classes + y_pred.astype(np.int64)
    return np.bincount(flat.ravel(), minlength=num_classes**2).reshape(num_classes,
                                                                       num_classes)


def write_confusion_csv(matrix, class_names, path):
    """The matrix as CSV: a header of predicted class names, one row per true class."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["true \\ predicted", *class_names])
        for name, row in zip(class_names, matrix):
            writer.writerow([name, *(int(v) for v in row)])


def plot_confusion(matrix, class_names, path, title=""):
    """The matrix as a PNG heat map with the counts written in; False without matplotlib."""
    plt = _pyplot()
    if plt is None:
        return False
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(1.6 + 0.62 * k, 1.2 + 0.55 * k))
    # Colour by each true class's share, so that small classes read as well as big ones.
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks(range(k), class_names, rotation=45, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set(xlabel="predicted", ylabel="true", title=title or "confusion matrix")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def tensorboard_available():
    """True when tensorboardX can be imported."""
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        return False
    return True


class TensorBoardLogger:
    """TensorBoard event logs through tensorboardX (``pip install tensorboardX``): the loss,
    accuracy and learning rate of every step, each epoch's train/val/test loss and accuracy,
    and text (samples of a language model).

    >>> tb = TensorBoardLogger("runs/mlp/tensorboard")
    >>> tb.step({"step": 1, "loss": 2.3, "acc": 0.1, "lr": 1e-3, "epoch": 1})
    >>> tb.close()                    # then: tensorboard --logdir runs
    """

    def __init__(self, logdir):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise RuntimeError("TensorBoardLogger: tensorboardX is not installed (pip install "
                               "tensorboardX)") from None
        self.writer = SummaryWriter(str(logdir))

    def step(self, record):
        """One optimizer step's record (``STEP_FIELDS``)."""
        for key in ("loss", "acc", "lr"):
            self.writer.add_scalar(f"step/{key}", record[key], record["step"])

    def epoch(self, row):
        """One epoch's history row."""
        for split in ("train", "val", "test"):
            for what in ("loss", "acc"):
                value = row.get(f"{split}_{what}")
                if value is not None:
                    self.writer.add_scalar(f"epoch/{split}_{what}", value, row["epoch"])

    def text(self, tag, text, step):
        self.writer.add_text(tag, text, step)

    def close(self):
        self.writer.close()
