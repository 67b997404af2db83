"""Small real datasets shipped inside the package (sources and licences in README.md here).

>>> from autograd import datasets
>>> x, y = datasets.load_digits("train")       # (1442, 1, 8, 8) float32 in [0, 1], int64
>>> text = datasets.load_corpus("austen-persuasion")   # a str of 466,853 characters

``autograd.data.load("digits", split)`` and the training command use these; nothing here
touches the network.
"""

import gzip
from importlib import resources

import numpy as np

__all__ = ["CORPORA", "DIGITS_TEST_EVERY", "load_corpus", "load_digits"]

DIGITS_FILE = "digits.csv.gz"
DIGITS_SHAPE = (8, 8)
DIGITS_MAX = 16  # pixels are counts of set pixels in a 4x4 block: 0..16
# The split: every fifth image of each digit, in file order, is a test image, so that both
# splits hold the classes in the same proportions, with no random draw to reproduce.
DIGITS_TEST_EVERY = 5

# name -> file of a gzipped UTF-8 text
CORPORA = {"austen-persuasion": "austen-persuasion.txt.gz"}


def _read(name):
    return resources.files(__name__).joinpath(name).read_bytes()


def load_digits(split="train", flatten=False):
    """The 8x8 handwritten digits (UCI, CC BY 4.0): one split of the 1,797 images.

    Returns
    -------
    images : ndarray of float32, (N, 1, 8, 8), or (N, 64) with ``flatten=True``; in [0, 1]
    labels : ndarray of int64, (N,), the digits 0..9

    ``split`` is ``"train"``, ``"test"`` (every fifth image of each digit: 355) or ``"all"``.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"load_digits: unknown split {split!r}; expected 'train', 'test' or "
                         "'all'")
    table = np.loadtxt(gzip.decompress(_read(DIGITS_FILE)).decode("ascii").splitlines(),
                       delimiter=",", dtype=np.int64)  # (1797, 64 pixels + label)
    n_pixels = DIGITS_SHAPE[0] * DIGITS_SHAPE[1]
    if table.ndim != 2 or table.shape[1] != n_pixels + 1:  # a damaged installation
        raise ValueError(f"load_digits: {DIGITS_FILE} has shape {table.shape}, expected "
                         f"(N, {n_pixels + 1})")
    if split != "all":
        labels = table[:, n_pixels]
        # Each image's rank among the images of its digit, in file order.
        rank = np.empty(len(labels), np.int64)
        for digit in np.unique(labels):
            where = np.flatnonzero(labels == digit)
            rank[where] = np.arange(len(where))
        is_test = rank % DIGITS_TEST_EVERY == DIGITS_TEST_EVERY - 1
        table = table[is_test if split == "test" else ~is_test]
    x = table[:, :n_pixels].astype(np.float32) / np.float32(DIGITS_MAX)
    x = x if flatten else x.reshape(len(x), 1, *DIGITS_SHAPE)  # (N, 64) -> (N, 1, 8, 8)
    return x, table[:, n_pixels].copy()


def load_corpus(name="austen-persuasion"):
    """The text of a shipped corpus (one of ``CORPORA``) as a str."""
    try:
        filename = CORPORA[name]
    except KeyError:
        raise ValueError(f"load_corpus: unknown corpus {name!r}; expected one of "
                         f"{sorted(CORPORA)}") from None
    return gzip.decompress(_read(filename)).decode("utf-8")
