"""The IDX loader, the search order, download failures and the batch iterator.

Every dataset here is generated in a temporary directory: no real dataset, no network.
"""

import gzip
import hashlib
import struct

import numpy as np
import pytest

from autograd import data, datasets


def idx_bytes(array):
    """The IDX encoding of a uint8 array."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_dataset(directory, n_train=20, n_test=10, gz=True, seed=0):
    """Write the four files of a small MNIST-like dataset; return its arrays."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images_base, labels_base = data.SPLITS[split]
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for base, array in ((images_base, images), (labels_base, labels)):
            blob = idx_bytes(array)
            if gz:
                (directory / (base + ".gz")).write_bytes(gzip.compress(blob))
            else:
                (directory / base).write_bytes(blob)
        arrays[split] = (images, labels)
    return arrays


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No test sees the real cache, the system dataset or the network."""
    monkeypatch.setenv("JITGRAD_DATA", str(tmp_path / "jitgrad-data"))
    for spec in data.DATASETS.values():
        monkeypatch.setitem(spec, "system_dirs", [])

    def no_network(url, dest):
        raise OSError(f"network unreachable (test): {url}")

    monkeypatch.setattr(data, "_download", no_network)


@pytest.mark.parametrize("gz", [True, False])
def test_load_roundtrip(tmp_path, gz):
    arrays = write_dataset(tmp_path / "d", gz=gz)
    for split in ("train", "test"):
        images, labels = arrays[split]
        x, y = data.load("fashion-mnist", split, data_dir=tmp_path / "d")
        assert x.dtype == np.float32 and x.shape == (len(images), 1, 28, 28)
        assert y.dtype == np.int64
        np.testing.assert_allclose(x[:, 0], images / 255.0, rtol=1e-6)
        assert x.min() >= 0.0 and x.max() <= 1.0
        np.testing.assert_array_equal(y, labels)
    x, _ = data.load_mnist("train", data_dir=tmp_path / "d", flatten=True)
    assert x.shape == (20, 784)


def test_uncompressed_file_is_preferred_and_mixed_dirs_work(tmp_path):
    write_dataset(tmp_path / "d", gz=True, seed=0)
    arrays = write_dataset(tmp_path / "d", gz=False, seed=1)
    (tmp_path / "d" / "t10k-labels-idx1-ubyte").unlink()  # only the .gz of this one
    files = data.find_dataset("mnist", tmp_path / "d")
    assert files["train-images-idx3-ubyte"].name == "train-images-idx3-ubyte"
    assert files["t10k-labels-idx1-ubyte"].name == "t10k-labels-idx1-ubyte.gz"
    _, y = data.load("mnist", "train", data_dir=tmp_path / "d")
    np.testing.assert_array_equal(y, arrays["train"][1])


def test_read_idx_other_dtypes(tmp_path):
    values = np.arange(6, dtype=">i4").reshape(2, 3)
    blob = struct.pack(">HBB", 0, 0x0C, 2) + struct.pack(">2I", 2, 3) + values.tobytes()
    (tmp_path / "ints").write_bytes(blob)
    out = data.read_idx(tmp_path / "ints")
    np.testing.assert_array_equal(out, values)
    assert out.dtype.isnative


# --- corrupt files --------------------------------------------------------------------------


def corrupt_cases():
    good = idx_bytes(np.zeros((3, 28, 28), np.uint8))
    return {
        "truncated data": (good[:-5], False, "truncated"),
        "too long": (good + b"\0", False, "too long"),
        "bad magic": (b"\x01\x02" + good[2:], False, "bad IDX magic"),
        "bad type byte": (good[:2] + b"\x07" + good[3:], False, "bad IDX magic"),
        "empty": (b"", False, "bad IDX magic"),
        "truncated header": (good[:9], False, "truncated IDX header"),
        "truncated gzip": (gzip.compress(good)[:-30], True, "not a valid gzip"),
        "bad gzip crc": (gzip.compress(good)[:-8] + b"\0" * 8, True, "not a valid gzip"),
        "gzip of truncated idx": (gzip.compress(good[:-1]), True, "truncated"),
        ".gz that is not gzip": (good, True, "not gzip"),
    }


@pytest.mark.parametrize("case", sorted(corrupt_cases()))
def test_corrupt_file_error_names_the_file(tmp_path, case):
    blob, gz, message = corrupt_cases()[case]
    path = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    path.write_bytes(blob)
    with pytest.raises(data.CorruptFileError, match=message) as info:
        data.read_idx(path)
    assert str(path) in str(info.value)


def test_corrupt_file_in_dataset_raises_through_load(tmp_path):
    write_dataset(tmp_path / "d")
    target = tmp_path / "d" / "train-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:100])
    with pytest.raises(data.CorruptFileError, match="train-images-idx3-ubyte.gz"):
        data.load("fashion-mnist", "train", data_dir=tmp_path / "d")


def test_label_count_mismatch(tmp_path):
    write_dataset(tmp_path / "d", gz=False)
    (tmp_path / "d" / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(data.CorruptFileError, match="t10k-labels-idx1-ubyte"):
        data.load("fashion-mnist", "test", data_dir=tmp_path / "d")


def idx_header(type_byte, dims):
    return struct.pack(">HBB", 0, type_byte, len(dims)) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize(
    "dims",
    [
        (65536, 65536, 65536, 65536),  # 2**64 elements: an int64 product wraps to 0 = the data
        (2**32 - 1, 2**32 - 1, 3),
    ],
)
def test_header_dims_past_int64_name_the_file_and_dims(tmp_path, dims):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_header(0x08, dims))
    with pytest.raises(data.CorruptFileError, match="multiply to") as info:
        data.read_idx(path)
    assert str(path) in str(info.value) and str(dims) in str(info.value)


def labels_file(directory, type_byte, values):
    values = np.asarray(values)
    big_endian = values.astype(values.dtype.newbyteorder(">"))
    blob = idx_header(type_byte, values.shape) + big_endian.tobytes()
    path = directory / "t10k-labels-idx1-ubyte"
    path.write_bytes(blob)
    return path


@pytest.mark.parametrize(
    ("type_byte", "values", "message"),
    [
        (0x08, np.array([0, 9, 3, 12, 5, 10, 1, 2, 4, 6], np.uint8), "label 12 at index 3"),
        (0x09, np.array([0, 9, 3, 1, -1, 0, 1, 2, 4, 6], np.int8), "label -1 at index 4"),
        (0x0D, np.arange(10, dtype=np.float32) + 0.5, "integer class labels"),
    ],
)
def test_labels_outside_0_to_9_are_refused(tmp_path, type_byte, values, message):
    write_dataset(tmp_path / "d", gz=False)
    path = labels_file(tmp_path / "d", type_byte, values)
    with pytest.raises(data.CorruptFileError, match=message) as info:
        data.load("fashion-mnist", "test", data_dir=tmp_path / "d")
    assert str(path) in str(info.value)


# --- where the files are found --------------------------------------------------------------


def test_search_order(tmp_path, monkeypatch):
    explicit = write_dataset(tmp_path / "explicit", seed=1)
    env = write_dataset(tmp_path / "jitgrad-data" / "fashion-mnist", seed=2)
    system = write_dataset(tmp_path / "system", seed=3)
    monkeypatch.setitem(data.DATASETS["fashion-mnist"], "system_dirs", [tmp_path / "system"])

    def labels(**kwargs):
        return data.load("fashion-mnist", "test", **kwargs)[1]

    np.testing.assert_array_equal(labels(data_dir=tmp_path / "explicit"), explicit["test"][1])
    np.testing.assert_array_equal(labels(), env["test"][1])  # $JITGRAD_DATA/<dataset>
    # An explicit directory without the files falls through to the next places.
    np.testing.assert_array_equal(labels(data_dir=tmp_path / "empty"), env["test"][1])
    monkeypatch.delenv("JITGRAD_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    np.testing.assert_array_equal(labels(), system["test"][1])
    home = write_dataset(tmp_path / "home" / ".cache" / "jitgrad" / "fashion-mnist", seed=4)
    np.testing.assert_array_equal(labels(), home["test"][1])


def test_explicit_dir_may_hold_a_dataset_subdirectory(tmp_path):
    arrays = write_dataset(tmp_path / "root" / "mnist")
    _, y = data.load("mnist", "train", data_dir=tmp_path / "root")
    np.testing.assert_array_equal(y, arrays["train"][1])


def test_incomplete_directory_is_skipped(tmp_path):
    write_dataset(tmp_path / "d")
    (tmp_path / "d" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DatasetNotFoundError):
        data.find_dataset("mnist", tmp_path / "d")


def test_failed_download_says_where_to_put_the_files(tmp_path):
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load("fashion-mnist", "train", data_dir=tmp_path / "mine")
    message = str(info.value)
    assert "network unreachable (test)" in message
    assert str(tmp_path / "mine") in message
    assert "JITGRAD_DATA" in message
    assert "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/" in message
    for archive in data.DATASETS["fashion-mnist"]["archives"]:
        assert archive in message
    assert not (tmp_path / "mine").exists()  # no empty directory left behind


def test_download_disabled(tmp_path):
    with pytest.raises(data.DatasetNotFoundError, match="switched off"):
        data.find_dataset("mnist", download=False)


def test_download_verifies_checksums(tmp_path, monkeypatch):
    payloads = {}
    arrays = write_dataset(tmp_path / "src")
    specs = {}
    for path in sorted((tmp_path / "src").iterdir()):
        blob = path.read_bytes()
        payloads[path.name] = blob
        specs[path.name] = (
            len(blob),
            hashlib.md5(blob).hexdigest(),
            hashlib.sha256(blob).hexdigest(),
        )
    monkeypatch.setitem(data.DATASETS["mnist"], "archives", specs)
    fetched = []

    def fake_download(url, dest):
        fetched.append(url)
        with open(dest, "wb") as f:
            f.write(payloads[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(data, "_download", fake_download)
    _, y = data.load("mnist", "train")
    np.testing.assert_array_equal(y, arrays["train"][1])
    assert len(fetched) == 4
    cached = tmp_path / "jitgrad-data" / "mnist"
    assert sorted(p.name for p in cached.iterdir()) == sorted(payloads)  # no .part files

    # A download whose checksum does not match is refused and not kept.
    for path in cached.iterdir():
        path.unlink()
    other = tmp_path / "other"
    payloads["t10k-images-idx3-ubyte.gz"] = b"\x1f\x8b tampered"
    with pytest.raises(data.CorruptFileError, match="SHA-256"):
        data.load("mnist", "test", data_dir=other)
    assert not (other / "t10k-images-idx3-ubyte.gz").exists()


def test_unknown_names():
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load("cifar")
    with pytest.raises(ValueError, match="unknown split"):
        data.load("mnist", "valid")


# --- batches --------------------------------------------------------------------------------


def test_batches_cover_every_sample_once():
    x = np.arange(10)
    y = x * 10
    batches = list(data.BatchIterator(x, y, batch_size=3, seed=0))
    assert [len(b[0]) for b in batches] == [3, 3, 3, 1]
    xs = np.concatenate([b[0] for b in batches])
    assert sorted(xs) == list(range(10))
    assert not np.array_equal(xs, np.arange(10))
    for xb, yb in batches:
        np.testing.assert_array_equal(yb, xb * 10)


def test_batches_drop_last_and_len():
    x = np.arange(10)
    it = data.BatchIterator(x, batch_size=3, drop_last=True, seed=0)
    assert len(it) == 3
    assert [len(b) for (b,) in it] == [3, 3, 3]
    assert len(data.BatchIterator(x, batch_size=3)) == 4
    assert len(data.BatchIterator(x, batch_size=5, drop_last=True)) == 2


def test_seeded_shuffling_reproduces_and_changes_every_epoch():
    x = np.arange(50)

    def epochs(seed):
        it = data.BatchIterator(x, batch_size=7, seed=seed)
        return [np.concatenate([b for (b,) in it]) for _ in range(3)]

    a, b, c = epochs(1), epochs(1), epochs(2)
    for ea, eb in zip(a, b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(a[0], a[1])
    assert not np.array_equal(a[0], c[0])
    it = data.BatchIterator(x, batch_size=7, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(np.concatenate([b for (b,) in it]), a[0])


def test_no_shuffle_keeps_order():
    x = np.arange(10)
    out = np.concatenate([b for (b,) in data.BatchIterator(x, batch_size=4, shuffle=False)])
    np.testing.assert_array_equal(out, x)


def test_batch_iterator_errors():
    with pytest.raises(ValueError, match="lengths"):
        data.BatchIterator(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        data.BatchIterator(np.zeros(3), batch_size=0)


# --- the shipped digits -----------------------------------------------------------------------


def test_digits_ship_with_the_package_and_split_by_class():
    x_train, y_train = data.load("digits", "train")
    x_test, y_test = data.load("digits", "test")
    assert x_train.shape == (1442, 1, 8, 8) and x_test.shape == (355, 1, 8, 8)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    # Every fifth image of each digit is a test image: the classes keep their proportions.
    assert np.bincount(y_test, minlength=10).min() >= 34
    assert np.bincount(y_train, minlength=10).min() >= 140
    x_all, y_all = datasets.load_digits("all", flatten=True)
    assert x_all.shape == (1797, 64) and len(y_all) == 1797
    # The two splits are disjoint and cover the file: the same rows, in another order.
    both = np.concatenate([x_train.reshape(-1, 64), x_test.reshape(-1, 64)])
    assert sorted(map(bytes, both)) == sorted(map(bytes, x_all))
    x_flat, _ = data.load("digits", "test", flatten=True)
    np.testing.assert_array_equal(x_flat, x_test.reshape(-1, 64))
    with pytest.raises(ValueError, match="unknown split"):
        datasets.load_digits("valid")


def test_shipped_corpus():
    text = datasets.load_corpus("austen-persuasion")
    assert len(text) == 466854 and text.startswith("Persuasion")
    with pytest.raises(ValueError, match="unknown corpus"):
        datasets.load_corpus("hamlet")
