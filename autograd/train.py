"""Train an image classifier or a character-level language model: ``python -m autograd.train``.

    python -m autograd.train                          # mlp on Fashion-MNIST, else the digits
    python -m autograd.train --model cnn --dataset fashion-mnist --epochs 12
    python -m autograd.train --model mlp --limit 2000 --epochs 1     # a quick check
    python -m autograd.train --model lstm-lm          # on the shipped novel, with samples
    python -m autograd.train --model mlp --patience 3 # early stopping on 10% held out

Classifiers train on Fashion-MNIST when its files are on the machine, else (with a notice)
on the 8x8 handwritten digits shipped in the package; ``--dataset`` picks one, and
``--dataset fashion-mnist`` or ``mnist`` downloads the files when they are missing. The
language models (``lstm-lm``, ``transformer-lm``) read the shipped novel or ``--text FILE``,
print samples after every epoch and report perplexities.

Shows a progress bar (tqdm when installed, plain lines otherwise) with the running loss and
accuracy, prints the scores after every epoch, and writes to ``--out``:

- ``weights.npz``: the trained weights (``autograd.nn.save``; load with ``autograd.nn.load``);
- ``history.csv``: one row per epoch (learning rate, train/val/test loss and accuracy,
  seconds) and ``curve.png`` (when matplotlib is installed);
- ``steps.csv``: the loss, accuracy and learning rate of every optimizer step, and
  ``steps.png`` beside the per-epoch losses;
- classifiers: ``confusion.csv`` and ``confusion.png``, the test set's confusion matrix;
- language models: ``samples.txt``, the samples printed during training;
- ``tensorboard/``: event logs, with ``--tensorboard`` (needs tensorboardX);
- ``summary.json``: the arguments, final scores and wall time.

The same ``--seed`` reproduces a run exactly (initial weights, batch order, dropout and
augmentation all draw from generators seeded by it).

Ctrl-C stops the run at the end of the current batch and still writes the files above: the
weights after the last finished step, the finished epochs' history, and a summary marked
``"interrupted": true``; the exit code is then 130. A second Ctrl-C stops at once.

``--patience N`` stops when the validation score (accuracy; loss for the language models)
has not improved for N epochs and keeps the best epoch's weights; the validation set is the
``--val-fraction`` of the training set held out (default 0.1 then, and for the language
models always; else 0).

The training loop itself (``fit``, ``train_epoch``, ``evaluate``, ``augment``) lives in
``autograd.training`` and the writers of the files in ``autograd.reports``; both are
re-exported here.
"""

import argparse
import math
import os
import sys
import time
from pathlib import Path

from autograd import data, reports, runs
from autograd.distributed.command import DistributedRun
from autograd.models import LANGUAGE_MODELS, MODELS
from autograd.reports import plot_history, write_csv
from autograd.training import (
    HISTORY_FIELDS,
    EarlyStopping,
    TrainingInterrupted,
    hold_interrupt,
    augment,
    evaluate,
    fit,
    make_optimizer,
    make_scheduler,
    predict,
    seed_everything,
    train_epoch,
)

__all__ = [
    "DEFAULTS",
    "DIGITS_DEFAULTS",
    "HISTORY_FIELDS",
    "LM_DEFAULTS",
    "EarlyStopping",
    "TrainingInterrupted",
    "augment",
    "evaluate",
    "fit",
    "main",
    "make_optimizer",
    "make_scheduler",
    "parse_args",
    "plot_history",
    "predict",
    "seed_everything",
    "train_epoch",
    "write_csv",
]

# Per-model settings that reach the Fashion-MNIST targets (see the README's results table);
# MNIST uses them too.
DEFAULTS = {
    "mlp": {"epochs": 15, "lr": 1e-3, "batch_size": 128, "augment": False},
    "cnn": {"epochs": 12, "lr": 1e-3, "batch_size": 64, "augment": False},
    "cnn-bn": {"epochs": 30, "lr": 2e-3, "batch_size": 128, "augment": True},
    "gru": {"epochs": 15, "lr": 2e-3, "batch_size": 128, "augment": False},
}
# The shipped 8x8 digits: 1,442 training images, so more epochs of smaller batches; never
# flipped (a mirrored digit is another symbol or none).
DIGITS_DEFAULTS = {
    "mlp": {"epochs": 30, "lr": 2e-3, "batch_size": 32, "augment": False},
    "cnn": {"epochs": 30, "lr": 2e-3, "batch_size": 32, "augment": False},
    "cnn-bn": {"epochs": 30, "lr": 2e-3, "batch_size": 32, "augment": False},
    "gru": {"epochs": 40, "lr": 3e-3, "batch_size": 32, "augment": False},
}
# The language models on the shipped novel: a few minutes on 2 cores (README's table).
LM_DEFAULTS = {
    "lstm-lm": {"epochs": 5, "lr": 3e-3, "batch_size": 32},
    "transformer-lm": {"epochs": 4, "lr": 2e-3, "batch_size": 32},
}
COMMON_DEFAULTS = {"shift": 1}
LM_COMMON_DEFAULTS = {"augment": False, "context": 64}


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
    """The command line's arguments, checked, with the per-model and per-dataset defaults
    filled in (``args.dataset`` resolved: see ``resolve_dataset``).

    Every bad value exits through ``argparse`` (status 2, one line naming the option) before
    anything is loaded or written.
    """
    p = _Parser(
        prog="python -m autograd.train",
        description="Train an image classifier (Fashion-MNIST, MNIST or the shipped 8x8 digits) "
        "or a character-level language model with jitgrad.",
    )
    p.add_argument("--model", choices=sorted(MODELS), default="mlp")
    p.add_argument(
        "--dataset",
        choices=sorted(data.IMAGE_DATASETS),
        default=None,
        help="classifiers only (default: fashion-mnist when its files are on this machine, "
        "else the shipped digits)",
    )
    p.add_argument(
        "--epochs",
        type=_POSITIVE_INT,
        help="default: per model and dataset (fashion-mnist: mlp 15, cnn 12, cnn-bn 30, gru 15; "
        "digits: 30, gru 40; lstm-lm 5, transformer-lm 4)",
    )
    p.add_argument(
        "--batch-size", type=_POSITIVE_INT, help="default: per model and dataset"
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
    p.add_argument(
        "--patience",
        type=_POSITIVE_INT,
        default=None,
        help="stop when the validation score has not improved for N epochs, keeping the best "
        "weights (accuracy; loss for the language models)",
    )
    p.add_argument(
        "--val-fraction",
        type=_PROBABILITY,
        default=None,
        help="share of the training set held out for validation (default: 0.1 with --patience "
        "and for the language models, else 0)",
    )
    p.add_argument("--seed", type=_NONNEGATIVE_INT, default=0)
    p.add_argument("--jit", action="store_true",
                   help="compile the training step with autograd.jit (the same numbers)")
    p.add_argument("--data-dir", help="directory holding the IDX files (see autograd.data)")
    p.add_argument("--out", default=None, help="output directory (default: runs/<model>)")
    p.add_argument(
        "--limit",
        type=_POSITIVE_INT,
        default=None,
        help="use only the first N training and N test images, or the first N characters of "
        "the text (quick runs)",
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
    p.add_argument(
        "--tensorboard",
        action="store_true",
        help="write TensorBoard event logs to <out>/tensorboard (needs: pip install tensorboardX)",
    )
    lm = p.add_argument_group("language models (lstm-lm, transformer-lm)")
    lm.add_argument("--text", default=None,
                    help="a UTF-8 text file to train on (default: the shipped novel)")
    lm.add_argument("--context", type=_POSITIVE_INT, default=None,
                    help="characters per training window (default: 64)")
    lm.add_argument("--sample-chars", type=_NONNEGATIVE_INT, default=200,
                    help="length of the samples printed after every epoch (0: none)")
    lm.add_argument("--temperature", type=_NONNEGATIVE_FLOAT, default=0.8,
                    help="sampling temperature (0: always the likeliest character)")
    lm.add_argument("--prompt", default=None,
                    help="start of every sample (default: 40 characters of the held-out test "
                    "text, from its first whole line)")
    args = p.parse_args(argv)
    _check_and_fill(p, args)
    return args


def _check_and_fill(p, args):
    """parse_args' checks that span options, then the defaults of the model and dataset."""
    is_lm = args.model in LANGUAGE_MODELS
    args.dataset_fallback = False  # set by resolve_dataset for the image models
    if is_lm and args.dataset is not None:
        p.error(f"argument --dataset: {args.model} trains on text, not images: give --text "
                "FILE, or nothing for the shipped novel")
    if is_lm:
        given = [o for o, v in (("--augment", args.augment), ("--shift", args.shift),
                                ("--data-dir", args.data_dir)) if v is not None]
        if given:
            p.error(f"argument {given[0]}: only for the image models, not {args.model}")
    if not is_lm:
        given = [o for o, v in (("--text", args.text), ("--context", args.context),
                                ("--prompt", args.prompt)) if v is not None]
        if given:
            p.error(f"argument {given[0]}: only for the language models "
                    f"({', '.join(LANGUAGE_MODELS)}), not {args.model}")
    if args.prompt == "":
        p.error("argument --prompt: a sample needs at least one character to start from")
    if args.jit and args.distributed:
        p.error("argument --jit: not with --distributed (a compiled step does not run the "
                "gradient hooks that average the gradients across ranks)")
    if args.text is not None and not Path(args.text).is_file():
        p.error(f"argument --text: no such file: {args.text}")
    if args.val_fraction is None:
        args.val_fraction = 0.1 if (args.patience is not None or is_lm) else 0.0
    if args.patience is not None and args.val_fraction == 0:
        p.error("argument --patience: early stopping needs a validation set: give "
                "--val-fraction > 0")
    if args.tensorboard and not reports.tensorboard_available():
        p.error("argument --tensorboard: tensorboardX is not installed: pip install "
                "tensorboardX, or leave out --tensorboard")
    if is_lm:
        defaults = {**LM_COMMON_DEFAULTS, **LM_DEFAULTS[args.model]}
    else:
        args.dataset, args.dataset_fallback = resolve_dataset(args.dataset, args.data_dir)
        per_dataset = DIGITS_DEFAULTS if args.dataset == "digits" else DEFAULTS
        defaults = {**COMMON_DEFAULTS, **per_dataset[args.model]}
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if args.out is None:
        args.out = str(Path("runs") / args.model)
    problem = _output_dir_problem(args.out)
    if problem is not None:
        p.error(f"argument --out: cannot write to {args.out}: {problem}")
    if args.dropout is None:
        args.dropout = MODELS[args.model][1]


def resolve_dataset(dataset, data_dir=None):
    """``(dataset, fell_back)``: the dataset asked for, or when None, Fashion-MNIST if its
    files are already on this machine (nothing is downloaded) and else the shipped digits
    (``fell_back`` True)."""
    if dataset is not None:
        return dataset, False
    try:
        data.find_dataset("fashion-mnist", data_dir, download=False)
    except data.DatasetNotFoundError:
        return "digits", True
    return "fashion-mnist", False


def main(argv=None):
    """Run the command line; returns the exit status: 0, 2 when the data or the output
    directory is not usable (bad arguments exit with 2 through argparse), 130 after Ctrl-C."""
    args = parse_args(argv)
    run = DistributedRun(args) if args.distributed else None  # only rank 0 prints and writes
    try:
        prepared = runs.prepare(args, make_dir=run is None or run.is_root)
        if prepared is None:
            return 2
        print(runs.describe(args, prepared), flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted before training started: nothing written", file=sys.stderr)
        return 130
    out = Path(args.out)
    is_lm = prepared.vocab is not None
    stopper = None
    if args.patience is not None:
        stopper = EarlyStopping(args.patience, "val_loss" if is_lm else "val_acc")
    recorder = runs.Recorder(args, prepared, out)

    start = time.perf_counter()
    stopped = None  # the TrainingInterrupted of a Ctrl-C
    try:
        history = fit(
            prepared.model if run is None else run.wrap(prepared.model),
            prepared.train,
            prepared.test,
            args.epochs,
            args.lr,
            args.batch_size,
            args.seed,
            args.schedule,
            args.weight_decay,
            args.shift if args.augment else None,
            args.no_progress,
            val=prepared.val,
            early_stopping=stopper,
            on_step=recorder.step,
            on_epoch=recorder.epoch,
            perplexity=is_lm,
            batches=None if run is None else run.batches(prepared.train, args.batch_size),
            compiled=args.jit,
        )
    except TrainingInterrupted as e:
        history, stopped = e.history, e
    finally:
        recorder.close()
    wall = time.perf_counter() - start
    if run is not None and not run.is_root:
        return 0

    final = runs.final_row(history, None if stopped is not None else stopper)
    summary = runs.summarize(args, prepared, history, final, stopper, stopped, wall)
    trained_on = (args.text or "Persuasion") if is_lm else args.dataset
    title = f"{args.model} on {trained_on}"
    if history:
        title += (f", test ppl {math.exp(final['test_loss']):.2f}" if is_lm
                  else f", test acc {final['test_acc']:.4f}")
    if stopped is not None:
        title += f" (interrupted after {len(history)} epochs)"
    written = None
    try:
        with hold_interrupt():  # a Ctrl-C now waits until the files are complete
            confusion = None
            if not is_lm and stopped is None:
                x_test, y_test = prepared.test
                confusion = reports.confusion_matrix(
                    y_test, predict(prepared.model, x_test), len(prepared.class_names))
                summary["confusion"] = confusion.tolist()
            written = runs.write_results(out, prepared, history, recorder.steps, summary,
                                         title, confusion, recorder.samples)
            if args.tensorboard:
                written.insert(-1, out / "tensorboard")
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
    print(runs.result_line(args, prepared, final, history, stopper, wall))
    hint = "" if out / "curve.png" in written else " (pip install matplotlib for PNGs)"
    print(f"wrote {files}{hint}")
    return 130 if late_stop else 0


if __name__ == "__main__":
    sys.exit(main())
