"""Checkpoints: ``save(module, path)`` / ``load(module, path)`` as .npz files.

An .npz holds plain numeric arrays under the ``state_dict`` names. It is read with
``allow_pickle=False``, so loading a file cannot run code, whoever wrote it.

>>> nn.save(model, "mlp.npz")
>>> nn.load(model, "mlp.npz")             # the same architecture, weights restored
"""

import os
import zipfile

import numpy as np

__all__ = ["load", "save"]


def save(module, path):
    """Write ``module.state_dict()`` to ``path`` (a path, written exactly there, or a
    binary file object) as an uncompressed .npz."""
    state = module.state_dict()
    if isinstance(path, (str, os.PathLike)):
        with open(path, "wb") as f:
            np.savez(f, **state)
    else:
        np.savez(path, **state)


def load(module, path, strict=True):
    """Load weights saved by ``save`` into ``module`` (in place) and return the module.

    Raises ValueError naming the missing, unexpected or mis-shaped keys (with
    ``strict=False`` only mis-shaped ones), and naming the file when it is not a readable
    .npz (truncated, corrupt, or holding pickled objects).
    """
    name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"load: cannot read checkpoint {name}: {e}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):  # a .npy: bad file content, not bad type
        raise ValueError(  # noqa: TRY004
            f"load: checkpoint {name} is a single array, not an .npz archive"
        )
    try:
        with data:
            state = {key: data[key] for key in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"load: cannot read checkpoint {name}: {e}") from None
    try:
        module.load_state_dict(state, strict=strict)
    except ValueError as e:
        raise ValueError(f"load: checkpoint {name} does not fit the model: {e}") from None
    return module
