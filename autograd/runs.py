"""One run of the training command: the data it loads and splits, the model it builds, the
hooks it gives ``fit`` (step records, language-model samples, TensorBoard) and the files it
writes. ``autograd.train`` parses the arguments and drives these.
"""

import json
import math
import sys
from pathlib import Path

import numpy as np

from autograd import data, nn, reports, text
from autograd.models import LANGUAGE_MODELS, build_model
from autograd.training import seed_everything

__all__ = [
    "TEST_FRACTION",
    "Recorder",
    "Run",
    "default_prompt",
    "describe",
    "final_row",
    "hold_out",
    "prepare",
    "result_line",
    "summarize",
    "write_results",
]

TEST_FRACTION = 0.1  # the end of the text held out as the language models' test set


class Run:
    """What ``prepare`` made: the splits (``val`` None without a validation set), the model,
    whether ``--limit`` cut the test set, and the classes' names or the vocabulary."""

    def __init__(self, train, val, test, model, limited, class_names=None, vocab=None,
                 prompt=None):
        self.train, self.val, self.test, self.model = train, val, test, model
        self.limited, self.class_names = limited, class_names
        self.vocab, self.prompt = vocab, prompt


def hold_out(train, fraction, seed):
    """``(train, val)``: a random ``fraction`` of the training set (drawn from ``seed``) held
    out, the rest kept in its order; val None when ``fraction`` is 0."""
    n_val = int(round(len(train[0]) * fraction))
    if n_val == 0:
        return train, None
    order = np.random.default_rng([seed, 2]).permutation(len(train[0]))
    is_val = np.zeros(len(train[0]), bool)
    is_val[order[:n_val]] = True
    return tuple(a[~is_val] for a in train), tuple(a[is_val] for a in train)


def load_images(args):
    if args.dataset_fallback:
        print(
            "notice: Fashion-MNIST is not on this machine; training on the 8x8 handwritten "
            "digits shipped with jitgrad (UCI, CC BY 4.0) instead. For Fashion-MNIST, give "
            "--dataset fashion-mnist (downloads it) or apt-get install dataset-fashion-mnist.",
            flush=True,
        )
    train = data.load(args.dataset, "train", args.data_dir)
    test = data.load(args.dataset, "test", args.data_dir)
    limited = args.limit is not None and args.limit < len(test[0])
    if args.limit is not None:
        train = tuple(a[: args.limit] for a in train)
        test = tuple(a[: args.limit] for a in test)
    train, val = hold_out(train, args.val_fraction, args.seed)
    if len(train[0]) == 0:
        raise ValueError(f"--val-fraction {args.val_fraction} leaves no training image")
    return train, val, test, limited


def load_text(args):
    """The text cut into train / val / test windows: the test set is the last tenth of the
    text, the validation set the last ``--val-fraction`` of the rest."""
    corpus = text.load_text(args.text, limit=args.limit)
    vocab = text.CharVocab(corpus)
    head, test_text = text.split_text(corpus, TEST_FRACTION)
    train_text, val_text = text.split_text(head, args.val_fraction)
    splits = {}
    for name, part in (("train", train_text), ("val", val_text), ("test", test_text)):
        if name == "val" and not part:
            splits[name] = None
            continue
        try:
            splits[name] = text.windows(vocab.encode(part), args.context)
        except ValueError:
            what = {"train": "training", "val": "validation", "test": "test"}[name]
            raise ValueError(f"the {what} text ({len(part)} characters of {len(corpus)}) is "
                             f"shorter than one window of --context {args.context} characters "
                             "and its next one; give more text (--limit) or a shorter "
                             "--context") from None
    prompt = args.prompt if args.prompt is not None else default_prompt(test_text)
    vocab.encode(prompt)  # a prompt with characters the text lacks fails here, not at epoch 1
    return splits, vocab, prompt


def default_prompt(test_text, length=40):
    """The start of the samples: ``length`` characters of the held-out text from its first
    whole line (the split falls mid-word), so that a sample continues unseen text."""
    start = test_text.find("\n") + 1
    prompt = test_text[start : start + length].lstrip("\n")
    return prompt or test_text[:length]


def prepare(args, make_dir=True):
    """Load the data, create the output directory (unless ``make_dir`` is false: the ranks
    of a distributed run other than 0 write nothing) and build the model.

    Returns a ``Run``; None after printing the error when the data or the directory is not
    usable.
    """
    try:
        if args.model in LANGUAGE_MODELS:
            splits, vocab, prompt = load_text(args)
            run = Run(splits["train"], splits["val"], splits["test"], None, False,
                       vocab=vocab, prompt=prompt)
        else:
            train, val, test, limited = load_images(args)
            run = Run(train, val, test, None, limited,
                       class_names=data.CLASS_NAMES[args.dataset])
    except (data.DatasetNotFoundError, data.CorruptFileError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return None
    out = Path(args.out)
    try:  # parse_args checked the path; this catches what changed since
        if make_dir:
            out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"error: --out {out}: cannot create the directory: {e.strerror or e}",
              file=sys.stderr)
        return None
    seed_everything(args.seed)
    if run.vocab is not None:
        run.model = build_model(args.model, args.dropout, vocab_size=len(run.vocab),
                                context=args.context)
    else:
        run.model = build_model(args.model, args.dropout, image_shape=run.train[0].shape[1:])
    return run


def describe(args, run):
    """The line printed before training: model, data and settings."""
    n_params = sum(p.size for p in run.model.parameters())
    sizes = f"{len(run.train[0])} train / " + (
        f"{len(run.val[0])} val / " if run.val is not None else "") + f"{len(run.test[0])} test"
    if run.vocab is not None:
        data_part = (f"{args.text or 'the shipped novel (Austen, Persuasion)'}: {sizes} windows "
                     f"of {args.context} characters, {len(run.vocab)} distinct characters")
        extra = ""
    else:
        data_part = f"{args.dataset}: {sizes} images"
        extra = (f", augment {f'on (flips, shifts <= {args.shift})' if args.augment else 'off'}"
                 f", dropout {args.dropout}")
    stop = f", early stopping after {args.patience} epochs without progress" if (
        args.patience) else ""
    return (f"{args.model} ({n_params:,} parameters) on {data_part}; {args.epochs} epochs, "
            f"batch {args.batch_size}, Adam lr {args.lr:g} ({args.schedule}){extra}{stop}, "
            f"seed {args.seed}")


class Recorder:
    """fit's per-step and per-epoch hooks: keeps every step's record, prints and keeps the
    language models' samples, and feeds TensorBoard when asked."""

    def __init__(self, args, run, out):
        self.args, self.run = args, run
        self.steps, self.samples = [], []
        self.rng = np.random.default_rng([args.seed, 3])  # samples apart from training draws
        self.tb = reports.TensorBoardLogger(out / "tensorboard") if args.tensorboard else None

    def step(self, record):
        self.steps.append(record)
        if self.tb is not None:
            self.tb.step(record)

    def epoch(self, row):
        if self.tb is not None:
            self.tb.epoch(row)
        if self.run.vocab is None or self.args.sample_chars == 0:
            return
        sample = text.sample(self.run.model, self.run.vocab, self.run.prompt,
                             self.args.sample_chars, self.args.temperature, self.rng)
        self.samples.append((row["epoch"], sample))
        print(f"--- sample after epoch {row['epoch']} (temperature {self.args.temperature:g}) "
              f"---\n{sample}\n---", flush=True)
        if self.tb is not None:
            self.tb.text("sample", sample, row["epoch"])

    def close(self):
        if self.tb is not None:
            self.tb.close()


def final_row(history, stopper):
    """The history row of the weights kept: the best epoch's with early stopping."""
    if stopper is not None and stopper.best_epoch is not None:
        return history[stopper.best_epoch - 1]
    return history[-1] if history else {}


def summarize(args, run, history, final, stopper, stopped, wall):
    summary = dict(
        vars(args),
        **{f"{split}_{what}": final.get(f"{split}_{what}")
           for split in ("train", "val", "test") for what in ("loss", "acc")},
        wall_seconds=wall,
        parameters=sum(p.size for p in run.model.parameters()),
        interrupted=stopped is not None,
        epochs_completed=len(history),
    )
    if stopper is not None:
        summary.update(best_epoch=stopper.best_epoch, stopped_early_at=stopper.stopped_epoch)
    if run.vocab is not None:
        for split in ("train", "val", "test"):
            loss = final.get(f"{split}_loss")
            summary[f"{split}_perplexity"] = None if loss is None else math.exp(loss)
        summary.update(vocab="".join(run.vocab.chars), vocab_size=len(run.vocab))
    if stopped is not None:
        summary["steps_completed"] = stopped.steps
    return summary


def write_results(out, run, history, steps, summary, title, confusion=None, samples=()):
    """Write weights.npz, history.csv, steps.csv, the PNGs (when matplotlib is installed and
    an epoch finished), confusion.csv, samples.txt and summary.json into ``out``; the list of
    the files written."""
    nn.save(run.model, out / "weights.npz")  # nn.save is the one writer of checkpoints
    reports.write_csv(history, out / "history.csv")
    reports.write_csv(steps, out / "steps.csv", reports.STEP_FIELDS)
    written = [out / "weights.npz", out / "history.csv", out / "steps.csv"]
    if history and reports.plot_history(history, out / "curve.png", title):
        written.append(out / "curve.png")
    if steps and reports.plot_steps(steps, history, out / "steps.png", title):
        written.append(out / "steps.png")
    if confusion is not None:
        reports.write_confusion_csv(confusion, run.class_names, out / "confusion.csv")
        written.append(out / "confusion.csv")
        if reports.plot_confusion(confusion, run.class_names, out / "confusion.png",
                                  f"{title}: test set"):
            written.append(out / "confusion.png")
    if samples:
        (out / "samples.txt").write_text(
            "".join(f"--- after epoch {epoch} ---\n{sample}\n\n" for epoch, sample in samples))
        written.append(out / "samples.txt")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return [*written, out / "summary.json"]


def result_line(args, run, final, history, stopper, wall):
    """The last line printed: the test score of the weights kept."""
    n = len(history)
    how = f"after {n} epochs"
    if stopper is not None and stopper.best_epoch is not None:
        how = (f"at epoch {stopper.best_epoch}, the best by validation of {n} epochs"
               + (" (stopped early)" if stopper.stopped_epoch is not None else ""))
    if run.vocab is not None:
        ppl = {s: math.exp(final[f"{s}_loss"]) for s in ("train", "val", "test")
               if final.get(f"{s}_loss") is not None}
        others = ", ".join(f"{s} {v:.3f}" for s, v in ppl.items() if s != "test")
        return (f"test perplexity {ppl['test']:.3f} ({others}; character accuracy "
                f"{final['test_acc']:.4f}) {how}, {wall:.1f} s")
    note = f" (on the first {len(run.test[0])} test images only)" if run.limited else ""
    return f"test accuracy {final['test_acc']:.4f}{note} {how}, {wall:.1f} s"
