"""The training command's data fallback, language models, early stopping, per-step log,
confusion matrix and TensorBoard logs (small data, no network, no real Fashion-MNIST)."""

import csv
import importlib.util
import json
import math
import sys
import types

import numpy as np
import pytest

from autograd import data, nn, reports, runs, text, train, training
from autograd.models import MLP, build_model
from tests.test_train import as_float, dataset_dir, make_images  # noqa: F401  (a fixture)

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


@pytest.fixture
def no_fashion_mnist(tmp_path, monkeypatch):
    """A machine without Fashion-MNIST: empty cache, no system package, no network."""
    monkeypatch.setenv("JITGRAD_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setitem(data.DATASETS["fashion-mnist"], "system_dirs", [])

    def no_network(url, dest):
        raise AssertionError("the default command must not download")

    monkeypatch.setattr(data, "_download", no_network)


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_without_fashion_mnist_the_default_command_trains_on_the_shipped_digits(
        no_fashion_mnist, tmp_path, capsys):
    out = tmp_path / "run"
    code = train.main(["--epochs", "2", "--out", str(out), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("notice: Fashion-MNIST is not on this machine; training on the "
                              "8x8 handwritten digits")
    assert "--dataset fashion-mnist" in printed and "on digits: 1442 train / 355 test" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"] == "digits" and summary["dataset_fallback"] is True
    assert summary["test_acc"] > 0.8  # two epochs of the MLP on real digits
    # The confusion matrix of the test set: rows the true digits, columns the predictions.
    rows = read_csv(out / "confusion.csv")
    matrix = np.array([[int(r[str(k)]) for k in range(10)] for r in rows])
    assert matrix.sum() == 355 and [r["true \\ predicted"] for r in rows] == list("0123456789")
    assert np.trace(matrix) / 355 == pytest.approx(summary["test_acc"])
    assert summary["confusion"] == matrix.tolist()
    assert (out / "confusion.png").is_file() == HAVE_MATPLOTLIB  # the train extra


def test_fashion_mnist_on_the_machine_is_preferred(dataset_dir, capsys, tmp_path):  # noqa: F811
    assert runs_dataset(["--data-dir", str(dataset_dir)]) == ("fashion-mnist", False)
    assert runs_dataset(["--dataset", "digits", "--data-dir", str(dataset_dir)]) == (
        "digits", False)


def runs_dataset(argv):
    args = train.parse_args(argv)
    return args.dataset, args.dataset_fallback


def test_steps_csv_has_every_step_and_the_png_sits_beside_the_epoch_curve(
        dataset_dir, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    code = train.main(["--model", "mlp", "--epochs", "2", "--limit", "64", "--batch-size", "16",
                       "--data-dir", str(dataset_dir), "--out", str(out), "--no-progress"])
    assert code == 0
    steps = read_csv(out / "steps.csv")
    assert list(steps[0]) == list(reports.STEP_FIELDS)
    assert [int(r["step"]) for r in steps] == list(range(1, 9))  # 64 / 16 = 4 a epoch
    assert [int(r["epoch"]) for r in steps] == [1] * 4 + [2] * 4
    # The step's rate: the cosine schedule from 0.001 (mlp's default) over 8 steps.
    lrs = [float(r["lr"]) for r in steps]
    assert lrs[0] == pytest.approx(1e-3) and lrs == sorted(lrs, reverse=True)
    history = read_csv(out / "history.csv")
    assert history[1]["lr"] == steps[-1]["lr"]
    assert history[0]["val_loss"] == "" and history[0]["val_acc"] == ""  # no validation set
    for png in ("steps.png", "curve.png"):
        assert (out / png).is_file() == HAVE_MATPLOTLIB  # the train extra


def test_plots_fall_back_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    steps = [{"step": 1, "epoch": 1, "lr": 0.1, "loss": 2.0, "acc": 0.5}]
    assert reports.plot_steps(steps, [], tmp_path / "steps.png") is False
    assert reports.plot_confusion(np.eye(2, dtype=int), ["a", "b"], tmp_path / "c.png") is False
    assert not list(tmp_path.iterdir())
    reports.write_csv(steps, tmp_path / "steps.csv", reports.STEP_FIELDS)
    assert read_csv(tmp_path / "steps.csv")[0]["loss"] == "2"


def test_confusion_matrix():
    m = reports.confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1], 3)
    np.testing.assert_array_equal(m, [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
    with pytest.raises(ValueError, match="y_pred holds 0..3, outside 0..2"):
        reports.confusion_matrix([0, 1], [0, 3], 3)
    with pytest.raises(ValueError, match="differ"):
        reports.confusion_matrix([0, 1], [0], 3)


# --- early stopping -------------------------------------------------------------------------


def test_early_stopping_keeps_the_best_weights():
    model = MLP(hidden=(2,), in_features=3, classes=2)
    stopper = training.EarlyStopping(2, "val_acc")
    scores = [0.5, 0.7, 0.6, 0.7, 0.4]  # best at epoch 2; two epochs without progress
    snapshots = []
    for epoch, acc in enumerate(scores, 1):
        for p in model.parameters():
            p.data[...] = epoch  # the weights "of" this epoch
        snapshots.append(model.state_dict())
        if stopper.update({"epoch": epoch, "val_acc": acc}, model):
            break
    assert (stopper.best_epoch, stopper.stopped_epoch, stopper.best_value) == (2, 4, 0.7)
    stopper.restore(model)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[1][key])
    by_loss = training.EarlyStopping(1, "val_loss")
    assert not by_loss.update({"epoch": 1, "val_loss": 2.0}, model)
    assert not by_loss.update({"epoch": 2, "val_loss": 1.0}, model)
    assert by_loss.update({"epoch": 3, "val_loss": 1.0}, model)  # equal is no progress
    with pytest.raises(ValueError, match="patience"):
        training.EarlyStopping(0)
    with pytest.raises(ValueError, match="monitor"):
        training.EarlyStopping(1, "test_acc")


def test_fit_refuses_early_stopping_without_validation():
    x, y = as_float(*make_images(32))
    with pytest.raises(ValueError, match="needs a validation set"):
        training.fit(MLP(hidden=(4,)), (x, y), (x, y), 1, 1e-3, 16,
                     early_stopping=training.EarlyStopping(1))


def test_patience_stops_and_saves_the_best_epochs_weights(no_fashion_mnist, tmp_path, capsys):
    out = tmp_path / "run"
    # A rate this high makes the validation accuracy wander, so the run stops early.
    code = train.main(["--epochs", "40", "--limit", "400", "--patience", "2", "--lr", "0.05",
                       "--schedule", "constant", "--out", str(out), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    history = read_csv(out / "history.csv")
    n, best = summary["epochs_completed"], summary["best_epoch"]
    assert summary["val_fraction"] == 0.1 and summary["stopped_early_at"] == n < 40
    assert "early stop: val_acc has not improved for 2 epochs" in printed
    val_accs = [float(r["val_acc"]) for r in history]
    assert n == best + 2 and val_accs[best - 1] == max(val_accs)
    assert f"at epoch {best}, the best by validation of {n} epochs (stopped early)" in printed
    # The saved weights are the best epoch's: they score its validation accuracy again.
    args = train.parse_args(["--limit", "400", "--patience", "2", "--out", str(out)])
    train_split = data.load("digits", "train")
    _, val = runs.hold_out(tuple(a[:400] for a in train_split), 0.1, 0)
    assert len(val[0]) == 40 and args.val_fraction == 0.1
    model = nn.load(build_model("mlp", image_shape=(1, 8, 8)), out / "weights.npz")
    _, acc = training.evaluate(model, *val)
    assert acc == pytest.approx(val_accs[best - 1], abs=1e-4)
    assert summary["test_acc"] == pytest.approx(float(history[best - 1]["test_acc"]), abs=1e-4)


def test_hold_out_is_seeded_and_disjoint():
    x = np.arange(50)
    (train_x,), (val_x,) = runs.hold_out((x,), 0.2, seed=0)
    assert len(val_x) == 10 and len(train_x) == 40
    assert sorted(np.concatenate([train_x, val_x])) == list(range(50))
    assert list(train_x) == sorted(train_x)  # the kept images stay in their order
    np.testing.assert_array_equal(runs.hold_out((x,), 0.2, seed=0)[1][0], val_x)
    assert not np.array_equal(runs.hold_out((x,), 0.2, seed=1)[1][0], val_x)
    assert runs.hold_out((x,), 0.0, seed=0) == ((x,), None)


# --- language models ------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["lstm-lm", "transformer-lm"])
def test_language_model_command(tmp_path, capsys, model):
    out = tmp_path / "run"
    code = train.main(["--model", model, "--epochs", "2", "--limit", "6000", "--context", "16",
                       "--batch-size", "32", "--sample-chars", "30", "--out", str(out),
                       "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "on the shipped novel (Austen, Persuasion)" in printed
    assert printed.count("--- sample after epoch") == 2
    summary = json.loads((out / "summary.json").read_text())
    for split in ("train", "val", "test"):
        assert summary[f"{split}_perplexity"] == pytest.approx(math.exp(summary[f"{split}_loss"]))
    assert summary["test_perplexity"] < summary["vocab_size"]  # better than uniform guessing
    assert f"test perplexity {summary['test_perplexity']:.3f}" in printed
    history = read_csv(out / "history.csv")
    assert float(history[1]["train_loss"]) < float(history[0]["train_loss"])
    samples = (out / "samples.txt").read_text()
    assert samples.count("--- after epoch") == 2
    test_text = text.load_text(limit=6000)[5400:]  # the last tenth
    prompt = runs.default_prompt(test_text)
    assert test_text.index(prompt) > 0 and test_text[test_text.index(prompt) - 1] == "\n"
    assert samples.splitlines()[1].startswith(prompt.splitlines()[0])
    assert not (out / "confusion.csv").exists()
    lm = build_model(model, vocab_size=summary["vocab_size"], context=16)
    nn.load(lm, out / "weights.npz")


def test_language_model_on_your_own_text(tmp_path, capsys):
    path = tmp_path / "mine.txt"
    path.write_text("the cat sat on the mat. " * 40, encoding="utf-8")
    out = tmp_path / "run"
    code = train.main(["--model", "lstm-lm", "--text", str(path), "--epochs", "1", "--context",
                       "8", "--prompt", "the ", "--sample-chars", "10", "--out", str(out),
                       "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"on {path}:" in printed and "11 distinct characters" in printed
    assert "\nthe " in printed  # the sample starts with the prompt


def test_language_model_text_too_short_for_a_window(tmp_path, capsys):
    code = train.main(["--model", "lstm-lm", "--limit", "300", "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "error: the validation text (27 characters of 300) is shorter than one window of " \
           "--context 64 characters and its next one" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "lstm-lm", "--dataset", "digits"], "argument --dataset: lstm-lm trains on"),
        (["--model", "mlp", "--text", "x.txt"], "argument --text: only for the language models"),
        (["--model", "transformer-lm", "--augment"], "argument --augment: only for the image"),
        (["--model", "cnn", "--context", "8"], "argument --context: only for the language"),
        (["--model", "lstm-lm", "--text", "/no/such/file.txt"], "argument --text: no such file"),
        (["--patience", "3", "--val-fraction", "0"], "argument --patience: early stopping needs"),
        (["--val-fraction", "1"], "argument --val-fraction: must be a number in [0, 1)"),
        (["--model", "lstm-lm", "--prompt", ""], "argument --prompt: a sample needs at least"),
        (["--model", "lstm-lm", "--prompt", "ʃ", "--limit", "3000", "--context", "8"], None),
    ],
)
def test_bad_combinations_exit_2_with_one_line(tmp_path, capsys, monkeypatch, argv, message):
    if message is None:  # a prompt with a character the text lacks: found before training
        assert train.main([*argv, "--out", str(tmp_path / "run")]) == 2
        assert "'ʃ' is not in the vocabulary" in capsys.readouterr().err
        return
    monkeypatch.setattr(data, "load", lambda *a, **k: pytest.fail("data loaded"))
    with pytest.raises(SystemExit) as info:
        train.main([*argv, "--out", str(tmp_path / "run")])
    assert info.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and message in errors[0]


# --- TensorBoard ----------------------------------------------------------------------------


def test_tensorboard_without_tensorboardx_exits_2_saying_what_to_install(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(SystemExit) as info:
        train.main(["--tensorboard", "--out", str(tmp_path / "run")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --tensorboard: tensorboardX is not installed: pip install tensorboardX" in err
    assert not (tmp_path / "run").exists()


class FakeSummaryWriter:
    """Records what a tensorboardX SummaryWriter is given."""

    def __init__(self, logdir):
        self.logdir, self.scalars, self.texts, self.closed = logdir, [], [], False
        WRITERS.append(self)

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, float(value), step))

    def add_text(self, tag, text, step):
        self.texts.append((tag, text, step))

    def close(self):
        self.closed = True


WRITERS = []


def test_tensorboard_logs_steps_epochs_and_samples(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorboardX",
                        types.SimpleNamespace(SummaryWriter=FakeSummaryWriter))
    WRITERS.clear()
    out = tmp_path / "run"
    code = train.main(["--model", "lstm-lm", "--tensorboard", "--epochs", "2", "--limit", "3000",
                       "--context", "16", "--sample-chars", "5", "--out", str(out),
                       "--no-progress"])
    assert code == 0
    (writer,) = WRITERS
    assert writer.logdir == str(out / "tensorboard") and writer.closed
    assert f"{out / 'tensorboard'}, {out / 'summary.json'}" in capsys.readouterr().out
    steps = read_csv(out / "steps.csv")
    logged = [(step, value) for tag, value, step in writer.scalars if tag == "step/loss"]
    assert logged == [(int(r["step"]), pytest.approx(float(r["loss"]), rel=1e-5)) for r in steps]
    tags = {tag for tag, _, _ in writer.scalars}
    assert {"step/lr", "step/acc", "epoch/train_loss", "epoch/val_loss", "epoch/test_acc"} <= tags
    assert [step for tag, _, step in writer.scalars if tag == "epoch/val_loss"] == [1, 2]
    assert [(tag, step) for tag, _, step in writer.texts] == [("sample", 1), ("sample", 2)]


def test_tensorboard_with_the_real_tensorboardx(no_fashion_mnist, tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    out = tmp_path / "run"
    assert train.main(["--tensorboard", "--epochs", "1", "--limit", "100", "--out", str(out),
                       "--no-progress"]) == 0
    assert f"{out / 'tensorboard'}," in capsys.readouterr().out
    (events,) = (out / "tensorboard").glob("events.out.tfevents.*")
    assert events.stat().st_size > 0
