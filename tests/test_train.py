"""The training command and its pieces, on small generated datasets (no real data, no network)."""

import csv
import gzip
import json
import math
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optim
from autograd import Tensor, data, nn, train, training
from autograd.models import CNN, MLP, GRUClassifier, build_model

ROOT = Path(__file__).resolve().parent.parent


def make_images(n, seed=0):
    """A learnable 10-class problem: class k lights up a 6x6 block at a class-specific spot,
    over uniform noise. Returns uint8 images (n, 28, 28) and labels (n,)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 100, (n, 28, 28))
    for k in range(10):
        r, c = 2 + 8 * (k // 4), 2 + 6 * (k % 4)
        images[labels == k, r : r + 6, c : c + 6] += 150
    return images.astype(np.uint8), labels.astype(np.uint8)


def as_float(images, labels):
    return images[:, None].astype(np.float32) / 255, labels.astype(np.int64)


def write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes(), compresslevel=1))


@pytest.fixture
def dataset_dir(tmp_path, monkeypatch):
    """A generated Fashion-MNIST look-alike; the cache, system dir and network are cut off."""
    monkeypatch.setenv("JITGRAD_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setitem(data.DATASETS["fashion-mnist"], "system_dirs", [])
    monkeypatch.setattr(
        data,
        "_download",
        lambda url, dest: (_ for _ in ()).throw(OSError("network unreachable (test)")),
    )
    directory = tmp_path / "fmnist"
    directory.mkdir()
    for split, n, seed in (("train", 300, 0), ("test", 100, 1)):
        images, labels = make_images(n, seed)
        images_base, labels_base = data.SPLITS[split]
        write_idx(directory / (images_base + ".gz"), images)
        write_idx(directory / (labels_base + ".gz"), labels)
    return directory


def small_models():
    return {
        "mlp": lambda: MLP(hidden=(32,)),
        "cnn": lambda: CNN(channels=(4, 8), hidden=16),
        "cnn-bn": lambda: CNN(batch_norm=True, channels=(4, 8), hidden=16, dropout=0.1),
        "gru": lambda: GRUClassifier(hidden=16),
    }


@pytest.mark.parametrize("name", sorted(small_models()))
def test_loss_falls(name):
    nn.init.seed(0)
    model = small_models()[name]()
    x, y = as_float(*make_images(256))
    opt = train.make_optimizer(model, lr=1e-2)
    before, _ = train.evaluate(model, x, y)
    batches = data.BatchIterator(x, y, batch_size=32, seed=0)
    for _ in range(3):
        train_loss, _, _ = train.train_epoch(model, opt, batches)
    after, acc = train.evaluate(model, x, y)
    assert np.isfinite(train_loss)
    assert after < 0.85 * before, (before, after)
    assert acc > 0.2  # chance is 0.1


def test_build_model_shapes():
    x = Tensor(np.zeros((2, 1, 28, 28), np.float32))
    for name in ("mlp", "cnn", "cnn-bn", "gru"):
        nn.init.seed(0)
        model = build_model(name)
        model.eval()
        assert model(x).shape == (2, 10), name
    with pytest.raises(ValueError, match="unknown model"):
        build_model("resnet")


def test_fit_reproduces_exactly():
    x, y = as_float(*make_images(128))
    test = as_float(*make_images(64, seed=1))

    def run(seed, compiled=False):
        train.seed_everything(seed)
        model = CNN(batch_norm=True, channels=(2, 4), hidden=8, dropout=0.2)
        history = train.fit(
            model,
            (x, y),
            test,
            epochs=2,
            lr=1e-2,
            batch_size=32,
            seed=seed,
            augment_shift=2,
            plain_progress=True,
            log=lambda *a: None,
            compiled=compiled,
        )
        return history, model.state_dict()

    (h1, s1), (h2, s2), (h3, _) = run(3), run(3, compiled=True), run(4)
    # The second run compiles its step with autograd.jit (batch norm, dropout, augmentation,
    # Adam and the scheduler replayed): the same numbers.
    for key in ("train_loss", "train_acc", "test_loss", "test_acc", "lr"):
        np.testing.assert_allclose([r[key] for r in h1], [r[key] for r in h2], rtol=1e-6)
    for key in s1:
        np.testing.assert_allclose(s1[key], s2[key], rtol=1e-5, atol=1e-7)
    assert [r["train_loss"] for r in h1] != [r["train_loss"] for r in h3]
    # 128 images in batches of 32: 4 steps an epoch; the rate of each epoch's last step.
    assert [r["lr"] for r in h1] == [old_cosine_lr(1e-2, 3, 8), old_cosine_lr(1e-2, 7, 8)]


def old_cosine_lr(base, step, total):
    """The schedule train.py computed itself before it used optim.lr_scheduler (the README's
    accuracy figures were measured with it)."""
    return 0.5 * base * (1.0 + math.cos(math.pi * min(step, total) / total))


@pytest.mark.parametrize(
    ("lr", "epochs", "batches"),
    [(1e-3, 15, 469), (1e-3, 12, 938), (2e-3, 30, 469), (2e-3, 15, 469), (1e-2, 2, 4)],
)
def test_cosine_schedule_matches_the_old_one_exactly(lr, epochs, batches):
    """The README's runs (mlp, cnn, cnn-bn, gru with 60000 images) see bit-identical rates."""
    opt = train.make_optimizer(MLP(hidden=(2,)), lr)
    scheduler = train.make_scheduler(opt, "cosine", epochs * batches)
    used = []
    for _ in range(epochs * batches):
        used.append(opt.param_groups[0]["lr"])  # the rate of this step
        scheduler.step()
    assert used == [old_cosine_lr(lr, t, epochs * batches) for t in range(epochs * batches)]
    per_epoch = used[batches - 1 :: batches]  # history's lr: the epoch's last step
    assert per_epoch == [old_cosine_lr(lr, e * batches - 1, epochs * batches)
                         for e in range(1, epochs + 1)]
    assert train.make_scheduler(opt, "constant", 10) is None
    with pytest.raises(ValueError, match="unknown schedule"):
        train.make_scheduler(opt, "linear", 10)


def test_augment():
    rng = np.random.default_rng(0)
    x = np.random.default_rng(1).random((64, 1, 28, 28), dtype=np.float32)
    out = train.augment(x, rng, shift=2)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not np.array_equal(out, x)
    np.testing.assert_array_equal(out, train.augment(x, np.random.default_rng(0), shift=2))
    # With no shift, every image is either itself or its mirror image.
    out = train.augment(x, np.random.default_rng(2), shift=0)
    same = (out == x).all(axis=(1, 2, 3))
    mirrored = (out == x[..., ::-1]).all(axis=(1, 2, 3))
    assert (same | mirrored).all() and same.any() and mirrored.any()
    # A shift moves content by at most 2 pixels, filling with zeros.
    one = np.zeros((1, 1, 28, 28), np.float32)
    one[0, 0, 10, 10] = 1.0
    for seed in range(10):
        out = train.augment(one, np.random.default_rng(seed))
        (r,), (c,) = np.nonzero(out[0, 0])[0], np.nonzero(out[0, 0])[1]
        assert abs(r - 10) <= 2 and (abs(c - 10) <= 2 or abs(c - 17) <= 2)


def test_cli_main(dataset_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    saved = []
    real_save = nn.save
    monkeypatch.setattr(nn, "save", lambda m, path: (saved.append(path), real_save(m, path)))
    code = train.main(
        [
            "--model",
            "mlp",
            "--epochs",
            "2",
            "--limit",
            "200",
            "--lr",
            "0.005",
            "--data-dir",
            str(dataset_dir),
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert float(rows[1]["train_loss"]) < float(rows[0]["train_loss"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "mlp" and summary["limit"] == 200
    assert summary["interrupted"] is False and summary["epochs_completed"] == 2
    assert saved == [out / "weights.npz"]  # the checkpoint goes through nn.save only
    assert 0.0 <= summary["test_acc"] <= 1.0
    model = build_model("mlp")
    nn.load(model, out / "weights.npz")  # the saved weights fit the model
    loaded = model.state_dict()
    assert not np.array_equal(
        loaded["net.1.weight"], build_model("mlp").state_dict()["net.1.weight"]
    )


def test_cli_missing_dataset(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JITGRAD_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setitem(data.DATASETS["fashion-mnist"], "system_dirs", [])
    monkeypatch.setattr(
        data,
        "_download",
        lambda url, dest: (_ for _ in ()).throw(OSError("network unreachable (test)")),
    )
    code = train.main(["--dataset", "fashion-mnist", "--epochs", "1", "--out",
                       str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "network unreachable (test)" in err and "put them in" in err
    assert not (tmp_path / "run").exists()  # no empty output directory left behind


def test_cli_subprocess(dataset_dir, tmp_path):
    """``python -m autograd.train`` end to end, with the tqdm bar."""
    out = tmp_path / "run"
    env = dict(os.environ, JITGRAD_DATA=str(tmp_path / "nowhere"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograd.train",
            "--model",
            "cnn",
            "--epochs",
            "1",
            "--limit",
            "64",
            "--batch-size",
            "32",
            "--data-dir",
            str(dataset_dir),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout
    for name in ("weights.npz", "history.csv", "summary.json"):
        assert (out / name).is_file()


def test_plot_falls_back_without_matplotlib(tmp_path, monkeypatch):
    history = [
        {
            "epoch": 1,
            "lr": 0.1,
            "train_loss": 1.0,
            "train_acc": 0.5,
            "test_loss": 1.1,
            "test_acc": 0.4,
            "epoch_seconds": 1.0,
            "elapsed": 1.0,
        }
    ]
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert train.plot_history(history, tmp_path / "curve.png") is False
    assert not (tmp_path / "curve.png").exists()
    train.write_csv(history, tmp_path / "history.csv")
    assert (tmp_path / "history.csv").read_text().splitlines()[0].startswith("epoch,lr,")


def test_progress_falls_back_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    progress = training._Progress(20, "epoch 1/1")
    for _ in range(20):
        progress.update(0.5, 0.75)
    progress.close()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10 and lines[-1] == "epoch 1/1: 20/20 batches, loss 0.5000, acc 0.7500"


def test_parse_args_defaults_and_overrides():
    args = train.parse_args(["--model", "cnn-bn", "--dataset", "fashion-mnist"])
    assert (args.epochs, args.batch_size, args.augment, args.shift) == (30, 128, True, 1)
    assert args.dropout == 0.0 and args.out.endswith("cnn-bn")
    args = train.parse_args(["--model", "cnn-bn", "--dataset", "digits"])
    assert (args.epochs, args.batch_size, args.augment) == (30, 32, False)
    args = train.parse_args(["--model", "gru", "--lr", "0.01", "--augment", "--shift", "0"])
    assert (args.lr, args.augment, args.shift, args.dropout) == (0.01, True, 0, None)
    args = train.parse_args(["--model", "cnn", "--dropout", "0", "--no-augment"])
    assert args.dropout == 0.0 and args.augment is False
    assert build_model("cnn", dropout=0.0).num_parameters() == build_model("cnn").num_parameters()
    with pytest.raises(SystemExit):
        train.parse_args(["--dropout", "1.5"])


# --- bad arguments: one line naming the option, before any data is loaded -------------------


@pytest.fixture
def no_data_load(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the data was loaded although the arguments are bad")

    monkeypatch.setattr(data, "load", refuse)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--lr", "nan"),
        ("--lr", "-1"),
        ("--lr", "0"),
        ("--lr", "inf"),
        ("--weight-decay", "-0.1"),
        ("--weight-decay", "nan"),
        ("--epochs", "0"),
        ("--epochs", "two"),
        ("--batch-size", "-3"),
        ("--limit", "0"),
        ("--shift", "-1"),
        ("--dropout", "nan"),
        ("--dropout", "1"),
        ("--seed", "-1"),
    ],
)
def test_bad_argument_exits_2_naming_the_option(no_data_load, tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as info:
        train.main([option, value, "--out", str(tmp_path / "run")])
    assert info.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and f"error: argument {option}: " in errors[0]
    assert repr(value) in errors[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("under", [True, False])
def test_out_that_cannot_be_a_directory_exits_2_before_loading(
    no_data_load, tmp_path, capsys, under
):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a directory\n")
    out = a_file / "run" / "x" if under else a_file
    with pytest.raises(SystemExit) as info:
        train.main(["--out", str(out)])
    assert info.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and "error: argument --out: " in errors[0]
    assert f"{a_file} {'' if under else 'exists and '}is not a directory" in errors[0]


# --- Ctrl-C -------------------------------------------------------------------------------


def test_hold_interrupt_defers_the_first_ctrl_c_to_the_end_of_the_block():
    reached_end = False
    with pytest.raises(KeyboardInterrupt):
        with training.hold_interrupt():
            signal.raise_signal(signal.SIGINT)
            reached_end = True
    assert reached_end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    after_second = False
    with pytest.raises(KeyboardInterrupt):
        with training.hold_interrupt():
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)  # a second Ctrl-C: at once
            after_second = True
    assert not after_second
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_hold_interrupt_leaves_an_ignored_ctrl_c_ignored(monkeypatch):
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with training.hold_interrupt():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            signal.raise_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)


def mlp_args(dataset_dir, out, epochs=3):
    # 64 images in batches of 16: 4 steps an epoch.
    return ["--model", "mlp", "--epochs", str(epochs), "--limit", "64", "--batch-size", "16",
            "--data-dir", str(dataset_dir), "--out", str(out), "--no-progress"]


def params_after_step(monkeypatch, k):
    """Make Adam.step send a Ctrl-C to this process during its k-th call, and record the
    parameters right after that call."""
    real_step = optim.Adam.step
    calls, snapshot = [], []

    def step(self, *args, **kwargs):
        calls.append(None)
        if len(calls) == k:
            signal.raise_signal(signal.SIGINT)  # lands inside the step
        result = real_step(self, *args, **kwargs)
        if len(calls) == k:
            snapshot.extend(p.data.copy() for p in self.param_groups[0]["params"])
        return result

    monkeypatch.setattr(optim.Adam, "step", step)
    return snapshot


@pytest.mark.parametrize("k", [2, 6])  # in the first epoch; in the second
def test_ctrl_c_saves_the_finished_work_and_exits_130(dataset_dir, tmp_path, capsys,
                                                      monkeypatch, k):
    out = tmp_path / "run"
    snapshot = params_after_step(monkeypatch, k)
    try:
        code = train.main(mlp_args(dataset_dir, out))
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main as a KeyboardInterrupt")
    assert code == 130
    captured = capsys.readouterr()
    finished = (k - 1) // 4
    assert f"interrupted during epoch {finished + 1}/3" in captured.err
    assert f"after {k} optimizer steps" in captured.err and "Traceback" not in captured.err
    assert f"wrote {out / 'weights.npz'}" in captured.out and "marked interrupted" in captured.out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert (summary["epochs_completed"], summary["steps_completed"]) == (finished, k)
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == [str(e) for e in range(1, finished + 1)]
    assert (summary["test_acc"] is None) == (finished == 0)
    # The weights are those after exactly k whole steps: the step under way was finished.
    model = nn.load(build_model("mlp"), out / "weights.npz")
    assert len(snapshot) == len(list(model.parameters()))
    for p, expected in zip(model.parameters(), snapshot):
        np.testing.assert_array_equal(p.data, expected)


def test_ctrl_c_while_loading_writes_nothing(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "load", interrupted)
    assert train.main(["--out", str(tmp_path / "run")]) == 130
    assert "interrupted before training started: nothing written" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_sigint_to_the_command_stops_it_cleanly(dataset_dir, tmp_path):
    """A real Ctrl-C (SIGINT) sent to ``python -m autograd.train`` after its first epoch."""
    out = tmp_path / "run"
    env = dict(os.environ, JITGRAD_DATA=str(tmp_path / "nowhere"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograd.train", *mlp_args(dataset_dir, out, epochs=100000)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        for line in proc.stdout:
            if "| test loss" in line:  # an epoch has finished
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted during epoch" in stderr
    assert "marked interrupted" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["epochs_completed"] >= 1
    with open(out / "history.csv") as f:
        assert len(list(csv.DictReader(f))) == summary["epochs_completed"]
    nn.load(build_model("mlp"), out / "weights.npz")
