"""Text for the character-level language models: a vocabulary, fixed-length windows, samples.

>>> from autograd import text
>>> corpus = text.load_text()                       # the shipped novel, or text.load_text(path)
>>> vocab = text.CharVocab(corpus)
>>> ids = vocab.encode(corpus)                      # (len,) int64
>>> x, y = text.windows(ids, context=64)            # (N, 64) inputs, (N, 64) next characters
>>> print(text.sample(model, vocab, "Anne ", 200, temperature=0.8))
"""

from pathlib import Path

import numpy as np

from autograd import datasets
from autograd.models import generate

__all__ = ["CharVocab", "load_text", "sample", "split_text", "windows"]


class CharVocab:
    """The distinct characters of a text, sorted; each character's index is its id.

    >>> vocab = CharVocab("hello")
    >>> vocab.encode("hole"), vocab.decode([1, 2])
    (array([1, 3, 2, 0]), 'hl')
    """

    def __init__(self, text_or_chars):
        self.chars = sorted(set(text_or_chars))
        if not self.chars:
            raise ValueError("CharVocab: the text is empty")
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """str -> int64 array of character ids; a character not in the vocabulary raises."""
        try:
            return np.fromiter((self.index[c] for c in text), np.int64, len(text))
        except KeyError as e:
            raise ValueError(f"CharVocab.encode: character {e.args[0]!r} is not in the "
                             f"vocabulary of {len(self)} characters") from None

    def decode(self, ids):
        """A sequence of ids -> str."""
        return "".join(self.chars[int(i)] for i in ids)


def load_text(path=None, corpus="austen-persuasion", limit=None):
    """The text to train on: the UTF-8 file ``path``, else the shipped ``corpus`` (see
    ``autograd.datasets.CORPORA``); only its first ``limit`` characters when given."""
    if path is None:
        text = datasets.load_corpus(corpus)
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ValueError(f"load_text: cannot read {path} as UTF-8 text: {e}") from e
    return text if limit is None else text[:limit]


def split_text(text, fraction):
    """``(head, tail)``: the tail is the last ``fraction`` of the text (contiguous, so no
    window of one part overlaps the other)."""
    if not 0 <= fraction < 1:
        raise ValueError(f"split_text: fraction must be in [0, 1), got {fraction}")
    cut = len(text) - int(round(len(text) * fraction))
    return text[:cut], text[cut:]


def windows(ids, context):
    """Non-overlapping windows of a 1-d id array: inputs ``x`` (N, context) and targets
    ``y`` (N, context), ``y`` being ``x`` shifted one character on; N = (len - 1) // context.
    """
    ids = np.asarray(ids)
    n = (len(ids) - 1) // context
    if n < 1:
        raise ValueError(f"windows: a text of {len(ids)} characters holds no window of "
                         f"{context} characters and its next one")
    x = ids[: n * context].reshape(n, context)  # (n * context,) -> (N, context)
    y = ids[1 : n * context + 1].reshape(n, context)
    return x, y


def sample(model, vocab, prompt, length, temperature=1.0, rng=None):
    """``prompt`` followed by ``length`` characters sampled from ``model`` (a language
    model of ``autograd.models``) at ``temperature``."""
    ids = generate(model, vocab.encode(prompt), length, temperature, rng)
    return prompt + vocab.decode(ids)
