"""Train a model on Fashion-MNIST (or MNIST): ``python -m autograd.train``.

    python -m autograd.train --model cnn --epochs 12
    python -m autograd.train --model mlp --limit 2000 --epochs 1     # a quick check

Shows a progress bar (tqdm when installed, plain lines otherwise) with the running loss and
accuracy, prints the test accuracy after every epoch, and writes to ``--out``:

- ``weights.npz``: the trained weights (``autograd.nn.save``; load with ``autograd.nn.load``);
- ``history.csv``: one row per epoch (learning rate, train/test loss and accuracy, seconds);
- ``curve.png``: loss and accuracy curves, when matplotlib is installed;
- ``summary.json``: the arguments, final test accuracy and wall time.

The same ``--seed`` reproduces a run exactly (initial weights, batch order, dropout and
augmentation all draw from generators seeded by it).
"""

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

import ops
import optim
from autograd import Tensor, data, nn, no_grad
from autograd.models import MODELS, build_model

__all__ = [
    "DEFAULTS",
    "augment",
    "evaluate",
    "fit",
    "main",
    "make_optimizer",
    "parse_args",
    "plot_history",
    "seed_everything",
    "train_epoch",
    "write_csv",
]

# Per-model settings that reach the Fashion-MNIST targets (see the README's results table).
DEFAULTS = {
    "mlp": {"epochs": 15, "lr": 1e-3, "batch_size": 128, "augment": False},
    "cnn": {"epochs": 12, "lr": 1e-3, "batch_size": 64, "augment": False},
    "cnn-bn": {"epochs": 30, "lr": 2e-3, "batch_size": 128, "augment": True},
    "gru": {"epochs": 15, "lr": 2e-3, "batch_size": 128, "augment": False},
}
COMMON_DEFAULTS = {"shift": 1}


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m autograd.train",
        description="Train a model on Fashion-MNIST or MNIST with jitgrad.",
    )
    p.add_argument("--model", choices=sorted(MODELS), default="mlp")
    p.add_argument("--dataset", choices=sorted(data.DATASETS), default="fashion-mnist")
    p.add_argument(
        "--epochs", type=int, help="default: per model (mlp 15, cnn 12, cnn-bn 30, gru 15)"
    )
    p.add_argument("--batch-size", type=int, help="default: per model (64 for cnn, else 128)")
    p.add_argument("--lr", type=float, help="peak learning rate (default: per model)")
    p.add_argument(
        "--schedule",
        choices=["cosine", "constant"],
        default="cosine",
        help="cosine: decay the learning rate to 0 over the run, per step",
    )
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random horizontal flips and shifts of up to --shift pixels (default: per model)",
    )
    p.add_argument(
        "--shift", type=int, default=None, help="largest augmentation shift (0: flips only)"
    )
    p.add_argument(
        "--dropout", type=float, default=None, help="dropout before the head (default: per model)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", help="directory holding the IDX files (see autograd.data)")
    p.add_argument("--out", default=None, help="output directory (default: runs/<model>)")
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        help="use only the first N training and N test images (quick runs)",
    )
    p.add_argument(
        "--no-progress", action="store_true", help="plain progress lines instead of a tqdm bar"
    )
    args = p.parse_args(argv)
    for key, value in {**COMMON_DEFAULTS, **DEFAULTS[args.model]}.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.out is None:
        args.out = str(Path("runs") / args.model)
    if args.epochs < 1 or args.batch_size < 1 or (args.limit is not None and args.limit < 1):
        p.error("--epochs, --batch-size and --limit must be positive")
    if args.dropout is None:
        args.dropout = MODELS[args.model][1]
    if args.shift < 0 or (args.dropout is not None and not 0 <= args.dropout < 1):
        p.error("--shift must be >= 0 and --dropout in [0, 1)")
    return args


def seed_everything(seed):
    """Seed the generator of ``autograd.nn.init``: initial weights and Dropout masks."""
    nn.init.seed(seed)


def make_optimizer(model, lr, weight_decay=0.0):
    """Adam on every parameter of ``model``."""
    return optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)


def set_lr(opt, lr):
    for group in opt.param_groups:
        group["lr"] = lr


def cosine_lr(base, step, total):
    return 0.5 * base * (1.0 + math.cos(math.pi * min(step, total) / total))


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


def train_epoch(model, opt, batches, lr_at=None, step=0, transform=None, progress=None):
    """One pass over ``batches`` (an iterable of ``(images, labels)``).

    ``lr_at(step)`` sets the learning rate before each step. Returns ``(mean loss, accuracy,
    next step)``, both averaged over samples.
    """
    model.train()
    total_loss = 0.0
    correct = seen = 0
    for xb, yb in batches:
        if transform is not None:
            xb = transform(xb)
        if lr_at is not None:
            set_lr(opt, lr_at(step))
        logits = model(Tensor(xb))
        loss = ops.cross_entropy(logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        n = len(yb)
        total_loss += float(loss.item()) * n
        correct += int((logits.data.argmax(axis=1) == yb).sum())
        seen += n
        if progress is not None:
            progress.update(total_loss / seen, correct / seen)
    return total_loss / seen, correct / seen, step


def evaluate(model, x, y, batch_size=1000):
    """``(mean loss, accuracy)`` of ``model`` in eval mode on ``x, y``."""
    model.eval()
    total_loss = 0.0
    correct = 0
    with no_grad():
        for i in range(0, len(x), batch_size):
            xb, yb = x[i : i + batch_size], y[i : i + batch_size]
            logits = model(Tensor(xb))
            total_loss += float(ops.cross_entropy(logits, yb).item()) * len(yb)
            correct += int((logits.data.argmax(axis=1) == yb).sum())
    model.train()
    return total_loss / len(x), correct / len(x)


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
    log=print,
):
    """Train ``model`` on ``train = (x, y)`` with Adam; evaluate on ``test`` every epoch.

    ``augment_shift``: None for no augmentation, else random flips and shifts of up to that
    many pixels. Returns the history: one dict per epoch.
    """
    transform = None
    if augment_shift is not None:
        rng = np.random.default_rng([seed, 1])  # independent of the batch order

        def transform(xb):
            return augment(xb, rng, augment_shift)

    batches = data.BatchIterator(*train, batch_size=batch_size, seed=seed)
    opt = make_optimizer(model, lr, weight_decay)
    total_steps = epochs * len(batches)
    lr_at = (lambda s: cosine_lr(lr, s, total_steps)) if schedule == "cosine" else None
    history = []
    step = 0
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        progress = _Progress(len(batches), f"epoch {epoch}/{epochs}", plain_progress)
        try:
            train_loss, train_acc, step = train_epoch(
                model, opt, batches, lr_at, step, transform, progress
            )
        finally:
            progress.close()
        train_seconds = time.perf_counter() - t0
        test_loss, test_acc = evaluate(model, *test)
        row = {
            "epoch": epoch,
            "lr": opt.param_groups[0]["lr"],
            "train_loss": train_loss,
            "train_acc": train_acc,
            "test_loss": test_loss,
            "test_acc": test_acc,
            "epoch_seconds": train_seconds,
            "elapsed": time.perf_counter() - start,
        }
        history.append(row)
        log(
            f"epoch {epoch}/{epochs}: train loss {train_loss:.4f} acc {train_acc:.4f} | "
            f"test loss {test_loss:.4f} acc {test_acc:.4f} | {train_seconds:.1f} s"
        )
    return history


def write_csv(history, path):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(history[0]))
        writer.writeheader()
        for row in history:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )


def plot_history(history, path, title=""):
    """Loss and accuracy curves as a PNG; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for split in ("train", "test"):
        ax_loss.plot(epochs, [r[f"{split}_loss"] for r in history], marker="o", label=split)
        ax_acc.plot(epochs, [r[f"{split}_acc"] for r in history], marker="o", label=split)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        train = data.load(args.dataset, "train", args.data_dir)
        test = data.load(args.dataset, "test", args.data_dir)
    except (data.DatasetNotFoundError, data.CorruptFileError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    limited = args.limit is not None and args.limit < len(test[0])
    if args.limit is not None:
        train = tuple(a[: args.limit] for a in train)
        test = tuple(a[: args.limit] for a in test)

    seed_everything(args.seed)
    model = build_model(args.model, args.dropout)
    n_params = sum(p.size for p in model.parameters())
    print(
        f"{args.model} ({n_params:,} parameters) on {args.dataset}: {len(train[0])} train / "
        f"{len(test[0])} test images; {args.epochs} epochs, batch {args.batch_size}, Adam lr "
        f"{args.lr:g} ({args.schedule}), augment "
        f"{f'on (flips, shifts <= {args.shift})' if args.augment else 'off'}, dropout "
        f"{args.dropout}, seed {args.seed}",
        flush=True,
    )

    start = time.perf_counter()
    history = fit(
        model,
        train,
        test,
        args.epochs,
        args.lr,
        args.batch_size,
        args.seed,
        args.schedule,
        args.weight_decay,
        args.shift if args.augment else None,
        args.no_progress,
    )
    wall = time.perf_counter() - start

    nn.save(model, out / "weights.npz")
    write_csv(history, out / "history.csv")
    plotted = plot_history(
        history,
        out / "curve.png",
        f"{args.model} on {args.dataset}, test acc {history[-1]['test_acc']:.4f}",
    )
    summary = dict(
        vars(args),
        test_acc=history[-1]["test_acc"],
        test_loss=history[-1]["test_loss"],
        wall_seconds=wall,
        parameters=n_params,
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    note = f" (on the first {len(test[0])} test images only)" if limited else ""
    print(
        f"test accuracy {history[-1]['test_acc']:.4f}{note} after {args.epochs} epochs, "
        f"{wall:.1f} s"
    )
    print(
        f"wrote {out / 'weights.npz'}, {out / 'history.csv'}"
        + (f", {out / 'curve.png'}" if plotted else " (pip install matplotlib for a PNG)")
        + f", {out / 'summary.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
