"""Without mpi4py the library, autograd.distributed and the sampler still import and work;
what needs MPI says what to install."""

import subprocess
import sys
import textwrap

from tests.distributed.common import ROOT

BLOCK_MPI4PY = "import sys; sys.modules['mpi4py'] = None  # importing it now fails\n"


def run(script, *args):
    return subprocess.run([sys.executable, "-c", BLOCK_MPI4PY + textwrap.dedent(script), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


def test_the_package_imports_and_samples_without_mpi4py():
    done = run("""
        import autograd.train
        from autograd import distributed as dist
        assert not dist.is_initialized() and not dist.is_available()
        print(len(dist.DistributedSampler(10, num_replicas=2, rank=1)))
        try:
            dist.init()
        except ImportError as e:
            print(e)
    """)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "5"
    assert "needs mpi4py" in lines[1] and "pip install -e '.[dist]'" in lines[1]


def test_the_training_command_says_what_distributed_needs(tmp_path):
    done = run("""
        import sys
        from autograd import train
        sys.exit(train.main(sys.argv[1:]))
    """, "--distributed", "--out", str(tmp_path / "run"))
    assert done.returncode == 1
    assert "error: --distributed: autograd.distributed needs mpi4py" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()
