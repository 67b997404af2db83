"""The training command's --distributed mode in one process, as rank 1 of a stand-in group of
2: it trains its share and neither prints nor writes (the 2-rank run is in test_mpi.py)."""

import io
import signal
import sys

from autograd import reports, train
from autograd.distributed import command
from tests.distributed.common import LoopbackGroup, write_fake_mnist


def test_a_rank_other_than_0_trains_silently_and_writes_nothing(tmp_path, monkeypatch):
    data_dir = write_fake_mnist(tmp_path / "fmnist", n_train=64, n_test=32)
    group = LoopbackGroup(size=2, rank=1)
    monkeypatch.setattr(command, "init", lambda: group)
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)  # restored after the test
    sigint = signal.getsignal(signal.SIGINT)
    try:
        status = train.main(["--model", "mlp", "--distributed", "--epochs", "1",
                             "--batch-size", "16", "--data-dir", str(data_dir),
                             "--out", str(tmp_path / "run")])
        assert signal.getsignal(signal.SIGINT) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, sigint)
    assert status == 0
    assert stdout.getvalue() == ""
    assert not (tmp_path / "run").exists()
    assert len(group.launched) == 2  # 64 images / (2 ranks x 16) steps, one bucket each


def test_a_rank_other_than_0_with_early_stopping_and_tensorboard_writes_nothing(
    tmp_path, monkeypatch
):
    data_dir = write_fake_mnist(tmp_path / "fmnist", n_train=64, n_test=32)
    group = LoopbackGroup(size=2, rank=1)
    monkeypatch.setattr(command, "init", lambda: group)
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)  # restored after the test
    monkeypatch.setattr(reports, "tensorboard_available", lambda: True)

    def no_logger(path):
        raise AssertionError(f"rank 1 opened TensorBoard logs in {path}")

    monkeypatch.setattr(reports, "TensorBoardLogger", no_logger)
    sigint = signal.getsignal(signal.SIGINT)
    try:
        status = train.main(["--model", "mlp", "--distributed", "--epochs", "2",
                             "--batch-size", "16", "--patience", "1", "--val-fraction",
                             "0.25", "--tensorboard", "--data-dir", str(data_dir),
                             "--out", str(tmp_path / "run")])
    finally:
        signal.signal(signal.SIGINT, sigint)
    assert status == 0
    assert stdout.getvalue() == ""
    assert not (tmp_path / "run").exists()
    # 48 training images after the validation share: 2 epochs x 24 / 16 -> 2 steps each
    assert len(group.launched) == 4
