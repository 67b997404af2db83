"""save / load: round trip, errors naming keys and files, no pickles."""

import errno
import io
import re
import zipfile

import numpy as np
import pytest

from autograd import Tensor, nn


def make_model():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(8, 3))


def test_round_trip_restores_outputs(tmp_path):
    nn.init.seed(0)
    model = make_model()
    x = Tensor(np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32))
    model(x)  # moves the running statistics
    model.eval()
    expected = model(x).data
    path = tmp_path / "model.ckpt"  # written exactly here, no ".npz" appended
    nn.save(model, path)
    assert path.exists()
    nn.init.seed(1)
    other = make_model().eval()
    assert not np.allclose(other(x).data, expected)
    assert nn.load(other, path) is other
    np.testing.assert_array_equal(other(x).data, expected)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[key], value)


def test_file_objects_and_str_paths(tmp_path):
    model = nn.Linear(3, 2)
    buffer = io.BytesIO()
    nn.save(model, buffer)
    buffer.seek(0)
    nn.load(nn.Linear(3, 2), buffer)
    nn.save(model, str(tmp_path / "w.npz"))
    nn.load(nn.Linear(3, 2), str(tmp_path / "w.npz"))


def test_mismatched_checkpoints_name_the_keys(tmp_path):
    path = tmp_path / "mlp.npz"
    nn.save(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)), path)
    wrong = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(ValueError) as info:
        nn.load(wrong, path)
    message = str(info.value)
    assert f"load: checkpoint {path} does not fit the model" in message
    assert "missing keys ['2.weight', '2.bias']" in message
    assert "unexpected keys ['1.weight', '1.bias']" in message
    assert "shape mismatch for '0.weight': expected (4, 5), got (4, 3)" in message
    # Not strict: only the shapes must fit.
    nn.load(nn.Sequential(nn.Linear(4, 3)), path, strict=False)


def test_corrupt_and_missing_files(tmp_path):
    path = tmp_path / "model.npz"
    nn.save(nn.Linear(3, 2), path)
    data = path.read_bytes()
    (tmp_path / "short.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=re.escape(f"load: cannot read checkpoint "
                                                   f"{tmp_path / 'short.npz'}")):
        nn.load(nn.Linear(3, 2), tmp_path / "short.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="load: cannot read checkpoint .*junk.npz"):
        nn.load(nn.Linear(3, 2), tmp_path / "junk.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single.npy is a single array, not an .npz archive"):
        nn.load(nn.Linear(3, 2), tmp_path / "single.npy")
    with pytest.raises(FileNotFoundError):
        nn.load(nn.Linear(3, 2), tmp_path / "absent.npz")


def test_pickled_objects_are_refused(tmp_path):
    """A file with an object array (which would unpickle, i.e. run code) is never loaded."""
    path = tmp_path / "evil.npz"
    np.savez(path, weight=np.array([{"a": 1}, None], dtype=object), bias=np.zeros(2))
    with pytest.raises(ValueError, match="load: cannot read checkpoint .*evil.npz.*"
                                         "allow_pickle=False"):
        nn.load(nn.Linear(3, 2), path)
    assert zipfile.is_zipfile(path)


def _savez_until_the_disk_fills(real_savez, limit=200):
    """np.savez whose target stops accepting bytes after ``limit`` of them, as a full disk."""

    class FullDisk:
        def __init__(self, f):
            self.f, self.written = f, 0

        def write(self, data):
            room = limit - self.written
            if len(data) > room:
                self.f.write(bytes(data[:room]))
                self.written = limit
                raise OSError(errno.ENOSPC, "No space left on device")
            self.written += len(data)
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

    def savez(file, *args, **kwargs):
        return real_savez(FullDisk(file), *args, **kwargs)

    return savez


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    good = nn.Linear(30, 20)
    nn.save(good, path)
    before = path.read_bytes()
    monkeypatch.setattr(np, "savez", _savez_until_the_disk_fills(np.savez))
    with pytest.raises(OSError, match="No space left on device"):
        nn.save(nn.Linear(30, 20), path)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the old file is intact ...
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # ... and no temporary is left
    restored = nn.load(nn.Linear(30, 20), path)
    np.testing.assert_array_equal(restored.weight.data, good.weight.data)


def test_save_replaces_the_file_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "model.npz"
    nn.save(nn.Linear(3, 2), path)
    path.chmod(0o640)
    model = nn.Linear(3, 2)
    nn.save(model, path)
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    np.testing.assert_array_equal(nn.load(nn.Linear(3, 2), path).weight.data, model.weight.data)


def test_save_through_a_symlink_writes_the_target(tmp_path):
    target = tmp_path / "run1.npz"
    link = tmp_path / "latest.npz"
    nn.save(nn.Linear(3, 2), target)
    link.symlink_to(target.name)
    model = nn.Linear(3, 2)
    nn.save(model, link)
    assert link.is_symlink()
    np.testing.assert_array_equal(nn.load(nn.Linear(3, 2), target).weight.data,
                                  model.weight.data)
