"""Real MPI jobs of 2 ranks on this machine (``mpiexec -n 2``, one thread per rank), run as
subprocesses with a timeout; skipped when mpi4py or mpiexec is absent.

The ranks' side is tests/distributed/mpi_worker.py.
"""

import json

import pytest

from tests.distributed.common import is_hydra, mpi_missing, run_mpi, write_fake_mnist

pytestmark = pytest.mark.skipif(mpi_missing() is not None, reason=str(mpi_missing()))

WORKER = ["-m", "tests.distributed.mpi_worker"]


def test_two_ranks_of_batch_b_train_like_one_process_of_batch_2b():
    done, _ = run_mpi([*WORKER, "correctness"])
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for model in ("mlp", "cnn"):
        for opt in ("sgd", "adam"):
            assert any(line.startswith(f"ok equivalence {model} {opt} 10 steps")
                       for line in lines), done.stdout
    assert "ok unused parameter averaged after synchronize" in lines
    assert any(line.startswith("ok buffers and no_sync") for line in lines)


def test_parameter_shapes_that_differ_across_ranks_stop_the_job_at_start():
    done, _ = run_mpi([*WORKER, "mismatch"], timeout=120)
    assert done.returncode != 0
    assert "mismatch was not refused" not in done.stdout
    assert ("parameter '0.weight' has shape (4, 8) on rank 0, shape (4, 16) on rank 1"
            in done.stderr), done.stderr


def test_a_rank_that_raises_ends_the_job_naming_itself():
    done, seconds = run_mpi([*WORKER, "raise"], timeout=120)
    assert done.returncode != 0
    assert "rank 0 finished" not in done.stdout
    assert "rank 1 of 2 failed" in done.stderr, done.stderr
    assert "ValueError: rank 1 fails on purpose" in done.stderr
    assert "aborting all 2 ranks" in done.stderr
    assert seconds < 60  # the abort, not rank 0's 120 s timeout, ended it


def test_a_rank_that_dies_ends_the_job():
    # mpiexec itself ends the other ranks when one exits abnormally.
    done, seconds = run_mpi([*WORKER, "exit"], timeout=120)
    assert done.returncode != 0
    assert "rank 0 finished" not in done.stdout
    assert seconds < 60


def test_without_the_launchers_cleanup_the_survivor_names_the_dead_rank():
    if not is_hydra():
        pytest.skip("-disable-auto-cleanup is an option of MPICH's mpiexec (hydra)")
    done, seconds = run_mpi([*WORKER, "exit"], timeout=120, extra_env={
        "JITGRAD_TEST_TIMEOUT": "3"}, mpiexec_options=["-disable-auto-cleanup"])
    assert done.returncode != 0
    assert "rank 0 finished" not in done.stdout
    assert ("rank 0 of 2: averaging the gradients of backward 3 did not complete within 3 s; "
            "rank 1 did not answer" in done.stderr), done.stderr
    assert seconds < 60


def test_the_training_command_runs_data_parallel_and_only_rank_0_prints(tmp_path):
    data_dir = write_fake_mnist(tmp_path / "fmnist", n_train=128, n_test=64)
    out = tmp_path / "run"
    done, _ = run_mpi(["-m", "autograd.train", "--model", "cnn", "--distributed",
                       "--limit", "128", "--epochs", "1", "--batch-size", "32",
                       "--data-dir", data_dir, "--out", out, "--no-progress"],
                      cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines.count("data-parallel over 2 ranks: batch 32 per rank, 64 per step") == 1
    assert sum(line.startswith("test accuracy") for line in lines) == 1, done.stdout
    # 128 images over 2 ranks of 32: 2 steps per epoch (rank 0's progress line says so).
    assert any("2/2 batches" in line for line in lines), done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["distributed"] is True
    assert (out / "weights.npz").exists() and (out / "history.csv").exists()
