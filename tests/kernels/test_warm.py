"""python -m ops.kernels.warm reaches every kernel that Python code calls."""

import json
import subprocess
import sys
from pathlib import Path

from ops.kernels import warm

ROOT = Path(__file__).resolve().parents[2]

# In a fresh interpreter, so that no other test has compiled a kernel already.
PROBE = r"""
import importlib, inspect, json, pkgutil
from numba.core.registry import CPUDispatcher
import ops.kernels
from ops.kernels import warm

warm.warm(["float64"])
compiled = {}
for info in pkgutil.iter_modules(ops.kernels.__path__):
    module = importlib.import_module(f"ops.kernels.{info.name}")
    for name, obj in vars(module).items():
        if not isinstance(obj, CPUDispatcher) or obj.__module__ != module.__name__:
            continue
        # Python calls the public kernels and the range loops that policy.run calls as
        # kernel(start, stop, ...); the other jitted functions are helpers compiled into them.
        params = list(inspect.signature(obj.py_func).parameters)
        if not name.startswith("_") or params[:2] == ["start", "stop"]:
            compiled[f"{info.name}.{name}"] = any(
                str(getattr(arg, "dtype", "")) == "float64"
                for sig in obj.signatures for arg in sig)
print(json.dumps(compiled))
"""


def test_warm_compiles_every_entry_kernel_for_the_dtype():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    compiled = json.loads(done.stdout.strip().splitlines()[-1])
    assert "im2col._im2col_kernel" in compiled and "pool.max_pool2d_gather" in compiled
    missing = [name for name, ok in compiled.items() if not ok]
    assert missing == [], f"python -m ops.kernels.warm does not compile {missing}"


def test_command_line(capsys):
    assert warm.main(["--dtypes", "float64"]) == 0
    out = capsys.readouterr().out
    assert "pooling" in out and "float64" in out and "done in" in out


OPTIMIZER_PROBE = r"""
import json
from numba.core.registry import CPUDispatcher
from autograd import warm
import optim.kernels

warm.warm(["float32"])
print(json.dumps({name: any(str(getattr(arg, "dtype", "")) == "float32"
                            for sig in obj.signatures for arg in sig)
                  for name, obj in vars(optim.kernels).items()
                  if isinstance(obj, CPUDispatcher)}))
"""


def test_the_warm_command_compiles_every_optimizer_kernel():
    done = subprocess.run([sys.executable, "-c", OPTIMIZER_PROBE], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    compiled = json.loads(done.stdout.splitlines()[-1])
    assert compiled and all(compiled.values()), compiled
