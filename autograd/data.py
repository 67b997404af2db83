"""Fashion-MNIST and MNIST from IDX files, the shipped 8x8 digits, and a seeded batch
iterator.

>>> from autograd import data
>>> x_train, y_train = data.load("fashion-mnist", "train")   # (60000, 1, 28, 28) float32 in [0, 1]
>>> for xb, yb in data.BatchIterator(x_train, y_train, batch_size=128, seed=0):
...     ...

Where the files are looked for, in order (each place may hold the four files gzipped or not):

1. the ``data_dir`` argument (``--data-dir``): the files directly in it, or in
   ``data_dir/<dataset>``;
2. ``$JITGRAD_DATA/<dataset>`` if ``JITGRAD_DATA`` is set, otherwise the cache directory
   ``~/.cache/jitgrad/<dataset>`` (``$XDG_CACHE_HOME/jitgrad/<dataset>`` when that is set);
3. ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``; Fashion-MNIST
   only);
4. a download from the dataset's official mirror into ``data_dir`` if given, else into the
   directory of step 2, each archive checked against its published SHA-256.

``load("digits", split)`` reads the 8x8 handwritten digits shipped inside the package
(``autograd.datasets``): no files to find, nothing to download.
"""

import gzip
import hashlib
import math
import os
import shutil
import tempfile
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from autograd import datasets

__all__ = [
    "CLASS_NAMES",
    "DATASETS",
    "IMAGE_DATASETS",
    "NUM_CLASSES",
    "BatchIterator",
    "CorruptFileError",
    "DatasetNotFoundError",
    "find_dataset",
    "load",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
]

# The SHA-256 of each archive as served by the official mirror. Zalando publishes MD5s only
# (github.com/zalandoresearch/fashion-mnist README, reproduced in Debian's
# /usr/share/doc/dataset-fashion-mnist/README.md.gz), and so does the MNIST mirror
# (torchvision's MNIST.resources); the SHA-256 values below are the ones TensorFlow Datasets
# records for the same URLs and byte sizes (tensorflow_datasets/url_checksums/fashion_mnist.txt
# and mnist.txt). Both are checked after a download. Debian's package recompressed the
# Fashion-MNIST archives (different gzip headers: 24 bytes shorter, other hashes, same
# content), so local files are checked for structure (magic, dimensions, size), not by hash.
DATASETS = {
    "fashion-mnist": {
        "mirror": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "system_dirs": [Path("/usr/share/datasets/fashion-mnist")],
        "archives": {
            "train-images-idx3-ubyte.gz": (
                26421880,
                "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            ),
            "train-labels-idx1-ubyte.gz": (
                29515,
                "25c81989df183df01b3e8a0aad5dffbe",
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            ),
            "t10k-images-idx3-ubyte.gz": (
                4422102,
                "bef4ecab320f06d8554ea6380940ec79",
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            ),
            "t10k-labels-idx1-ubyte.gz": (
                5148,
                "bb300cfdad3c16e7a12a480ee83cd310",
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            ),
        },
    },
    "mnist": {
        "mirror": "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "system_dirs": [],
        "archives": {
            "train-images-idx3-ubyte.gz": (
                9912422,
                "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            ),
            "train-labels-idx1-ubyte.gz": (
                28881,
                "d53e105ee54ea40749a09fcbcd1e9432",
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            ),
            "t10k-images-idx3-ubyte.gz": (
                1648877,
                "9fb629c4189551a2d022fa330f9573f3",
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            ),
            "t10k-labels-idx1-ubyte.gz": (
                4542,
                "ec29112dd5afa0611ce80d1b7f02629c",
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ),
        },
    },
}

# Every image dataset ``load`` reads: the IDX ones above and the digits shipped in the package.
IMAGE_DATASETS = (*DATASETS, "digits")

CLASS_NAMES = {
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                      "Shirt", "Sneaker", "Bag", "Ankle boot"),
    "mnist": tuple("0123456789"),
    "digits": tuple("0123456789"),
}

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_FILES = [name for pair in SPLITS.values() for name in pair]
NUM_CLASSES = 10  # both datasets: labels are the class indices 0..9

# IDX type codes (third magic byte) -> big-endian numpy dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DatasetNotFoundError(RuntimeError):
    """The dataset is in none of the places looked in and could not be downloaded."""


class CorruptFileError(ValueError):
    """A dataset file is truncated, not IDX, not valid gzip, or holds impossible values (a
    header whose dimensions overflow, labels outside 0..9)."""


# --- IDX files ------------------------------------------------------------------------------


def read_idx(path):
    """Read one IDX file (gzipped or not: told by its first bytes) into an ndarray.

    Raises ``CorruptFileError`` naming the file when it is not valid gzip, has a bad IDX magic
    number, or holds more or fewer bytes than its header announces.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CorruptFileError(f"{path}: cannot read it ({e.strerror or e})") from e
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
            raise CorruptFileError(
                f"{path}: not a valid gzip file ({e or type(e).__name__}); the file is "
                "truncated or corrupt: delete it and download it again"
            ) from e
    elif path.suffix == ".gz":
        raise CorruptFileError(
            f"{path}: named .gz but is not gzip (starts with {raw[:4]!r}); delete it and "
            "download it again"
        )
    return _parse_idx(raw, path)


def _parse_idx(raw, path):
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise CorruptFileError(
            f"{path}: bad IDX magic number {raw[:4].hex() or '(empty file)'}; expected "
            "0000 then a type byte (08 for unsigned bytes) and a dimension count"
        )
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptFileError(f"{path}: truncated IDX header ({len(raw)} bytes)")
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", ndim, offset=4))
    # Python integers: numpy's int64 product wraps around on a corrupt header, and a wrapped
    # count that happens to match the file size would reach reshape.
    count = math.prod(shape)
    if count > np.iinfo(np.intp).max:
        raise CorruptFileError(
            f"{path}: corrupt IDX header: the dimensions {shape} multiply to {count} elements, "
            "more than an array can hold; delete the file and download it again"
        )
    expected = count * dtype.itemsize
    if len(raw) - header != expected:
        what = "truncated" if len(raw) - header < expected else "too long"
        raise CorruptFileError(
            f"{path}: {what}: the header announces shape {shape} ({expected} bytes of data) but "
            f"the file holds {len(raw) - header} bytes after the header; delete it and download "
            "it again"
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


# --- finding and downloading ----------------------------------------------------------------


def _cache_dir(name):
    root = os.environ.get("JITGRAD_DATA")
    if root:
        return Path(root).expanduser() / name
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "jitgrad" / name


def _candidate_dirs(name, data_dir):
    dirs = []
    if data_dir is not None:
        data_dir = Path(data_dir).expanduser()
        dirs += [data_dir, data_dir / name]
    dirs.append(_cache_dir(name))
    dirs += DATASETS[name]["system_dirs"]
    return dirs


def _find_file(directory, base):
    """``directory/base`` or ``directory/base.gz`` (the uncompressed one first), or None."""
    for candidate in (directory / base, directory / (base + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _complete(directory):
    files = {base: _find_file(directory, base) for base in _FILES}
    return files if all(files.values()) else None


def _download(url, dest):
    """Fetch ``url`` into the file ``dest`` (tests replace this to simulate the network)."""
    with urllib.request.urlopen(url, timeout=30) as response, open(dest, "wb") as f:
        shutil.copyfileobj(response, f)


def _fetch(name, target):
    spec = DATASETS[name]
    for archive, (size, md5, sha256) in spec["archives"].items():
        if _find_file(target, archive[: -len(".gz")]) is not None:
            continue
        url = spec["mirror"] + archive
        fd, tmp = tempfile.mkstemp(prefix=archive + ".", suffix=".part", dir=target)
        os.close(fd)
        try:
            _download(url, tmp)
            blob = Path(tmp).read_bytes()
            got_sha, got_md5 = hashlib.sha256(blob).hexdigest(), hashlib.md5(blob).hexdigest()
            if got_sha != sha256 or got_md5 != md5:
                raise CorruptFileError(
                    f"{url}: the download ({len(blob)} bytes, SHA-256 {got_sha}) does not match "
                    f"the published checksum ({size} bytes, SHA-256 {sha256}, MD5 {md5})"
                )
            os.replace(tmp, target / archive)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


def find_dataset(name="fashion-mnist", data_dir=None, download=True):
    """The paths of the four files of dataset ``name``, downloading them if need be.

    Returns a dict mapping each base name (``"train-images-idx3-ubyte"``, ...) to its path.
    """
    if name not in DATASETS:
        raise ValueError(
            f"find_dataset: unknown dataset {name!r}; expected one of {sorted(DATASETS)}"
        )
    searched = _candidate_dirs(name, data_dir)
    for directory in searched:
        files = _complete(directory)
        if files:
            return files
    target = Path(data_dir).expanduser() if data_dir is not None else _cache_dir(name)
    error = None
    if download:
        created = [p for p in (target, *target.parents) if not p.exists()]
        try:
            target.mkdir(parents=True, exist_ok=True)
            _fetch(name, target)
            files = _complete(target)
            if files:
                return files
        except CorruptFileError:
            raise
        except Exception as e:  # noqa: BLE001  (no network, DNS, HTTP, read-only dir, ...)
            error = e
        finally:
            for p in created:  # leave no empty directories behind a failed download
                try:
                    p.rmdir()
                except OSError:
                    break
    raise DatasetNotFoundError(_not_found_message(name, searched, target, download, error))


def _not_found_message(name, searched, target, download, error):
    spec = DATASETS[name]
    places = "\n".join(f"  {d}" for d in dict.fromkeys(searched))
    urls = "\n".join(f"  {spec['mirror']}{a}" for a in spec["archives"])
    why = (
        f"the download into {target} failed: {type(error).__name__}: {error}"
        if error is not None
        else "downloading was switched off"
    )
    return (
        f"{name}: the dataset files were not found, and {why}.\n"
        f"Looked in:\n{places}\n"
        f"Fetch the four files (gzipped or not) yourself:\n{urls}\n"
        f"and put them in {target} (or in a directory you pass as data_dir= / --data-dir, or "
        f"in $JITGRAD_DATA/{name})."
    )


# --- loading --------------------------------------------------------------------------------


def load(name="fashion-mnist", split="train", data_dir=None, flatten=False, download=True):
    """Images and labels of one split of MNIST, Fashion-MNIST or the shipped 8x8 digits.

    Returns
    -------
    images : ndarray of float32, (N, 1, 28, 28) (digits: (N, 1, 8, 8)), or (N, 784) (digits:
        (N, 64)) with ``flatten=True``; in [0, 1]
    labels : ndarray of int64, (N,), the class indices 0..9

    Raises ``CorruptFileError`` (a ValueError) naming the file when a file is corrupt or a
    label is outside 0..9. ``data_dir`` and ``download`` do not apply to ``"digits"``.
    """
    if name not in IMAGE_DATASETS:
        raise ValueError(f"load: unknown dataset {name!r}; expected one of {IMAGE_DATASETS}")
    if split not in SPLITS:
        raise ValueError(f"load: unknown split {split!r}; expected 'train' or 'test'")
    if name == "digits":
        return datasets.load_digits(split, flatten)
    files = find_dataset(name, data_dir, download)
    images_base, labels_base = SPLITS[split]
    images = read_idx(files[images_base])
    labels = read_idx(files[labels_base])
    if images.ndim != 3 or images.dtype != np.uint8:
        raise CorruptFileError(
            f"{files[images_base]}: expected uint8 images (N, rows, cols), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise CorruptFileError(
            f"{files[labels_base]}: expected {len(images)} labels to match "
            f"{files[images_base]}, got shape {labels.shape}"
        )
    _check_labels(labels, files[labels_base])
    # (N, H, W) uint8 -> (N, 1, H, W) float32 in [0, 1]
    x = images.astype(np.float32)
    x *= np.float32(1 / 255)
    x = x.reshape(len(x), -1) if flatten else x[:, None]
    return x, labels.astype(np.int64)


def _check_labels(labels, path):
    """Refuse labels that are not class indices 0..9, naming the file: a float label would be
    truncated by the cast to int64 without a word, and a label past 9 would only fail at the
    loss, in the middle of training."""
    if labels.dtype.kind not in "iu":
        raise CorruptFileError(f"{path}: expected integer class labels, got {labels.dtype}")
    bad = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if bad.size:
        raise CorruptFileError(
            f"{path}: label {labels[bad[0]]} at index {bad[0]} is not a class index "
            f"0..{NUM_CLASSES - 1} ({bad.size} of {len(labels)} labels are out of range)"
        )


def load_fashion_mnist(split="train", data_dir=None, flatten=False, download=True):
    """``load("fashion-mnist", ...)``."""
    return load("fashion-mnist", split, data_dir, flatten, download)


def load_mnist(split="train", data_dir=None, flatten=False, download=True):
    """``load("mnist", ...)``."""
    return load("mnist", split, data_dir, flatten, download)


# --- batches --------------------------------------------------------------------------------


class BatchIterator:
    """Mini-batches of equally long arrays, reshuffled on every pass.

    Each ``iter()`` draws a new permutation from one ``numpy.random.Generator``, so a given
    ``seed`` gives the same sequence of epochs every run.

    >>> batches = BatchIterator(x, y, batch_size=64, seed=0, drop_last=True)
    >>> len(batches)                     # batches per epoch
    >>> for xb, yb in batches: ...
    """

    def __init__(self, *arrays, batch_size=32, shuffle=True, seed=None, rng=None, drop_last=False):
        if not arrays:
            raise ValueError("BatchIterator: give at least one array")
        n = len(arrays[0])
        for a in arrays[1:]:
            if len(a) != n:
                raise ValueError(
                    f"BatchIterator: arrays of lengths {[len(a) for a in arrays]} differ"
                )
        if int(batch_size) < 1:
            raise ValueError(f"BatchIterator: batch_size must be >= 1, got {batch_size}")
        self.arrays = arrays
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = rng if rng is not None else np.random.default_rng(seed)

    def __len__(self):
        n = len(self.arrays[0])
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def indices(self):
        """The index array of each batch of the next epoch (advances the generator)."""
        n = len(self.arrays[0])
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        return [
            order[i : i + self.batch_size]
            for i in range(0, len(self) * self.batch_size, self.batch_size)
        ]

    def __iter__(self):
        for idx in self.indices():
            yield tuple(a[idx] for a in self.arrays)
