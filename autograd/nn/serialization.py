"""Checkpoints: ``save(module, path)`` / ``load(module, path)`` as .npz files.

An .npz holds plain numeric arrays under the ``state_dict`` names. It is read with
``allow_pickle=False``, so loading a file cannot run code, whoever wrote it.

>>> nn.save(model, "mlp.npz")
>>> nn.load(model, "mlp.npz")             # the same architecture, weights restored
"""

import contextlib
import os
import secrets
import zipfile

import numpy as np

__all__ = ["load", "save"]


def save(module, path):
    """Write ``module.state_dict()`` to ``path`` (a path, written exactly there, or a
    binary file object) as an uncompressed .npz.

    A path is written atomically: the archive goes to a temporary file in the same
    directory, is flushed to disk, and then renamed over ``path``. A save that fails midway
    (a full disk, an interrupt) leaves the previous checkpoint at ``path`` intact.
    """
    state = module.state_dict()
    if isinstance(path, (str, os.PathLike)):
        _write_atomically(os.path.realpath(path), lambda f: np.savez(f, **state))
    else:
        np.savez(path, **state)


def _write_atomically(path, write):
    """Call ``write(f)`` on a new temporary file next to ``path``, fsync it, and rename it
    to ``path``; on any failure remove the temporary file and leave ``path`` alone."""
    directory, base = os.path.split(path)
    tmp, fd = _create_temporary(directory, base)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):  # an overwrite keeps the file's mode
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _create_temporary(directory, base):
    """A new hidden file in ``directory``, opened for writing: (name, descriptor).

    Created with mode 0o666 so that the umask applies, as it would to ``open(path, "wb")``
    (``tempfile.mkstemp`` would make it 0o600).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(directory or ".", f".{base}.{secrets.token_hex(4)}.tmp")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"save: cannot create a temporary file next to {base} in {directory}")


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX; Windows cannot open a directory)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(directory or ".", os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on directories
            os.fsync(fd)
    finally:
        os.close(fd)


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
