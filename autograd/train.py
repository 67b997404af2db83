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

Ctrl-C stops the run at the end of the current batch and still writes the files above: the
weights after the last finished step, the finished epochs' history, and a summary marked
``"interrupted": true``; the exit code is then 130. A second Ctrl-C stops at once.

The training loop itself (``fit``, ``train_epoch``, ``evaluate``, ``augment``) lives in
``autograd.training`` and is re-exported here.
"""

import argparse
import csv
import json
import math
import os
import sys
import time
from pathlib import Path

from autograd import data, nn
from autograd.distributed.command import DistributedRun
from autograd.models import MODELS, build_model
from autograd.training import (
    HISTORY_FIELDS,
    TrainingInterrupted,
    hold_interrupt,
    augment,
    evaluate,
    fit,
    make_optimizer,
    make_scheduler,
    seed_everything,
    train_epoch,
)

__all__ = [
    "DEFAULTS",
    "HISTORY_FIELDS",
    "TrainingInterrupted",
    "augment",
    "evaluate",
    "fit",
    "main",
    "make_optimizer",
    "make_scheduler",
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


def _checked(convert, ok, what):
    """An argparse ``type``: ``convert`` the text, then refuse values failing ``ok``, so that a
    bad value is one line naming the option (``argument --lr: must be ..., got 'nan'``) before
    any data is loaded."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


_POSITIVE_INT = _checked(int, lambda v: v >= 1, "an integer >= 1")
_NONNEGATIVE_INT = _checked(int, lambda v: v >= 0, "an integer >= 0")
_POSITIVE_FLOAT = _checked(float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0")
_NONNEGATIVE_FLOAT = _checked(
    float, lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0"
)
_PROBABILITY = _checked(float, lambda v: 0 <= v < 1, "a number in [0, 1)")  # False for nan


def _output_dir_problem(out):
    """Why the directory ``out`` cannot be created and written to, or None.

    Checked when the arguments are parsed, so that a bad ``--out`` fails at once rather than
    after the data is loaded. Looks at the nearest part of the path that exists.
    """
    path = Path(out)
    for part in (path, *path.parents):
        try:
            exists = part.exists()
        except OSError as e:  # e.g. a directory we may not list
            return f"cannot look at {part}: {e.strerror or e}"
        if not exists:
            continue
        if not part.is_dir():
            return f"{part} {'exists and ' if part == path else ''}is not a directory"
        if not os.access(part, os.W_OK | os.X_OK):
            return f"{part} is not writable"
        return None
    return None


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are the one line that names the option: the usage of a
    dozen options printed above it would bury it."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")


def parse_args(argv=None):
    """The command line's arguments, checked, with the per-model defaults filled in.

    Every bad value exits through ``argparse`` (status 2, one line naming the option) before
    anything is loaded or written.
    """
    p = _Parser(
        prog="python -m autograd.train",
        description="Train a model on Fashion-MNIST or MNIST with jitgrad.",
    )
    p.add_argument("--model", choices=sorted(MODELS), default="mlp")
    p.add_argument("--dataset", choices=sorted(data.DATASETS), default="fashion-mnist")
    p.add_argument(
        "--epochs",
        type=_POSITIVE_INT,
        help="default: per model (mlp 15, cnn 12, cnn-bn 30, gru 15)",
    )
    p.add_argument(
        "--batch-size", type=_POSITIVE_INT, help="default: per model (64 for cnn, else 128)"
    )
    p.add_argument("--lr", type=_POSITIVE_FLOAT, help="peak learning rate (default: per model)")
    p.add_argument(
        "--schedule",
        choices=["cosine", "constant"],
        default="cosine",
        help="cosine: decay the learning rate to 0 over the run, per step",
    )
    p.add_argument("--weight-decay", type=_NONNEGATIVE_FLOAT, default=0.0)
    p.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random horizontal flips and shifts of up to --shift pixels (default: per model)",
    )
    p.add_argument(
        "--shift",
        type=_NONNEGATIVE_INT,
        default=None,
        help="largest augmentation shift (0: flips only)",
    )
    p.add_argument(
        "--dropout",
        type=_PROBABILITY,
        default=None,
        help="dropout before the head (default: per model)",
    )
    p.add_argument("--seed", type=_NONNEGATIVE_INT, default=0)
    p.add_argument("--data-dir", help="directory holding the IDX files (see autograd.data)")
    p.add_argument("--out", default=None, help="output directory (default: runs/<model>)")
    p.add_argument(
        "--limit",
        type=_POSITIVE_INT,
        default=None,
        help="use only the first N training and N test images (quick runs)",
    )
    p.add_argument(
        "--no-progress", action="store_true", help="plain progress lines instead of a tqdm bar"
    )
    p.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel over an MPI job: mpiexec -n N python -m autograd.train "
        "--distributed; --batch-size is per rank (needs the dist extra)",
    )
    args = p.parse_args(argv)
    for key, value in {**COMMON_DEFAULTS, **DEFAULTS[args.model]}.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.out is None:
        args.out = str(Path("runs") / args.model)
    problem = _output_dir_problem(args.out)
    if problem is not None:
        p.error(f"argument --out: cannot write to {args.out}: {problem}")
    if args.dropout is None:
        args.dropout = MODELS[args.model][1]
    return args


def write_csv(history, path):
    """``history`` (a list of dicts keyed by ``HISTORY_FIELDS``) as CSV; just the header when
    it is empty (a run interrupted in its first epoch)."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HISTORY_FIELDS)
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


def _prepare(args, make_dir=True):
    """Load the data, create the output directory (unless ``make_dir`` is false) and build
    the model.

    Returns ``(train, test, model, limited)``, ``limited`` telling whether ``--limit`` cut the
    test set; None after printing the error when the data or the directory is not usable.
    """
    try:
        train = data.load(args.dataset, "train", args.data_dir)
        test = data.load(args.dataset, "test", args.data_dir)
    except (data.DatasetNotFoundError, data.CorruptFileError) as e:
        print(f"error: {e}", file=sys.stderr)
        return None
    limited = args.limit is not None and args.limit < len(test[0])
    if args.limit is not None:
        train = tuple(a[: args.limit] for a in train)
        test = tuple(a[: args.limit] for a in test)
    out = Path(args.out)
    try:  # parse_args checked the path; this catches what changed since
        if make_dir:
            out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"error: --out {out}: cannot create the directory: {e.strerror or e}",
              file=sys.stderr)
        return None
    seed_everything(args.seed)
    model = build_model(args.model, args.dropout)
    return train, test, model, limited


def _write_results(out, model, history, summary, title):
    """Write weights.npz, history.csv, curve.png (when matplotlib is installed and an epoch
    finished) and summary.json into ``out``; the list of the files written."""
    nn.save(model, out / "weights.npz")  # nn.save is the one writer of checkpoints
    write_csv(history, out / "history.csv")
    written = [out / "weights.npz", out / "history.csv"]
    if history and plot_history(history, out / "curve.png", title):
        written.append(out / "curve.png")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return [*written, out / "summary.json"]


def main(argv=None):
    """Run the command line; returns the exit status: 0, 2 when the data or the output
    directory is not usable (bad arguments exit with 2 through argparse), 130 after Ctrl-C."""
    args = parse_args(argv)
    run = DistributedRun(args) if args.distributed else None  # only rank 0 prints and writes
    try:
        prepared = _prepare(args, make_dir=run is None or run.is_root)
        if prepared is None:
            return 2
        train, test, model, limited = prepared
        n_params = sum(p.size for p in model.parameters())
        print(
            f"{args.model} ({n_params:,} parameters) on {args.dataset}: {len(train[0])} "
            f"train / {len(test[0])} test images; {args.epochs} epochs, batch "
            f"{args.batch_size}, Adam lr {args.lr:g} ({args.schedule}), augment "
            f"{f'on (flips, shifts <= {args.shift})' if args.augment else 'off'}, dropout "
            f"{args.dropout}, seed {args.seed}",
            flush=True,
        )
    except KeyboardInterrupt:
        print("\ninterrupted before training started: nothing written", file=sys.stderr)
        return 130
    out = Path(args.out)

    start = time.perf_counter()
    stopped = None  # the TrainingInterrupted of a Ctrl-C
    try:
        history = fit(
            model if run is None else run.wrap(model),
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
            batches=None if run is None else run.batches(train, args.batch_size),
        )
    except TrainingInterrupted as e:
        history, stopped = e.history, e
    wall = time.perf_counter() - start
    if run is not None and not run.is_root:
        return 0

    last = history[-1] if history else {}
    summary = dict(
        vars(args),
        test_acc=last.get("test_acc"),
        test_loss=last.get("test_loss"),
        wall_seconds=wall,
        parameters=n_params,
        interrupted=stopped is not None,
        epochs_completed=len(history),
    )
    title = f"{args.model} on {args.dataset}"
    if history:
        title += f", test acc {last['test_acc']:.4f}"
    if stopped is not None:
        summary["steps_completed"] = stopped.steps
        title += f" (interrupted after {len(history)} epochs)"
    written = None
    try:
        with hold_interrupt():  # a Ctrl-C now waits until the files are complete
            written = _write_results(out, model, history, summary, title)
    except KeyboardInterrupt:
        if written is None:  # a second Ctrl-C cut the writing short
            print(f"\ninterrupted while writing the results: the files in {out} may be "
                  "incomplete", file=sys.stderr)
            return 130
        late_stop = True
    else:
        late_stop = False

    files = ", ".join(str(f) for f in written)
    if stopped is not None:
        n = len(history)
        finished = {0: "no finished epoch", 1: "the 1 finished epoch"}.get(
            n, f"the {n} finished epochs"
        )
        print(
            f"\ninterrupted during epoch {n + 1}/{args.epochs}: kept {finished} and the "
            f"weights after {stopped.steps} optimizer steps",
            file=sys.stderr,
        )
        print(f"wrote {files} (marked interrupted)")
        return 130
    note = f" (on the first {len(test[0])} test images only)" if limited else ""
    print(
        f"test accuracy {last['test_acc']:.4f}{note} after {args.epochs} epochs, {wall:.1f} s"
    )
    hint = "" if out / "curve.png" in written else " (pip install matplotlib for a PNG)"
    print(f"wrote {files}{hint}")
    return 130 if late_stop else 0


if __name__ == "__main__":
    sys.exit(main())
