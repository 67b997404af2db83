"""The library changes no process-wide setting behind the user's back."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, os
before = dict(os.environ)
import autograd, ops, optim
from autograd import nn
import numpy as np
x = autograd.Tensor(np.random.rand(2, 3, 16, 16).astype(np.float32), requires_grad=True)
conv = nn.Conv2d(3, 4, 3, padding=1)
ops.max_pool2d(conv(x), 2).sum().backward()   # kernels compiled or loaded, and run
ops.kernels.policy.run(lambda start, stop: None, 8, (), family="pool", work=0, parallel=True)
after = dict(os.environ)
print(json.dumps({k: [before.get(k), after.get(k)] for k in set(before) | set(after)
                  if before.get(k) != after.get(k)}))
"""


def test_importing_and_running_changes_no_environment_variable():
    # A clean environment for the child: none of the thread variables a library might be
    # tempted to set, so that a setdefault would show.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OMP_", "KMP_", "GOMP_", "MKL_", "NUMBA_THREADING"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    changed = json.loads(done.stdout.strip().splitlines()[-1])
    assert changed == {}, f"the library changed environment variables: {changed}"
