"""The models of the training command: image classifiers and character-level language models.

The classifiers take a batch of greyscale images ``(N, 1, H, W)`` (28x28 for MNIST and
Fashion-MNIST, 8x8 for the shipped digits) and return logits ``(N, 10)``. The language models
take character indices ``(N, T)`` and return next-character logits ``(N, T, vocab_size)``.

>>> model = build_model("cnn", image_shape=(1, 8, 8))
>>> logits = model(Tensor(images))          # (N, 1, 8, 8) -> (N, 10)
>>> lm = build_model("lstm-lm", vocab_size=75)
>>> logits = lm(ids)                        # (N, T) int -> (N, T, 75)
"""

import numpy as np

import ops
from autograd import nn, no_grad

__all__ = [
    "CNN",
    "LANGUAGE_MODELS",
    "MLP",
    "MODELS",
    "GRUClassifier",
    "LSTMLanguageModel",
    "TransformerLanguageModel",
    "build_model",
]

MNIST_SHAPE = (1, 28, 28)


class MLP(nn.Module):
    """Flatten, then ``Linear + ReLU`` through ``hidden`` widths, then a linear head."""

    def __init__(self, hidden=(256, 128, 100), in_features=784, classes=10, dropout=0.0):
        super().__init__()
        layers = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class CNN(nn.Module):
    """Two ``conv 3x3 pad 1 -> [BatchNorm2d] -> ReLU -> max-pool 2`` blocks (1 -> 32 -> 64
    channels), then ``fc -> 128 -> ReLU -> [Dropout] -> fc 128 -> 10``; on 28x28 images the
    first fc takes 64 x 7 x 7 = 3136 features, on 8x8 images 64 x 2 x 2 = 256."""

    def __init__(self, batch_norm=False, channels=(32, 64), hidden=128, classes=10, dropout=0.0,
                 side=28):
        super().__init__()
        if side % 2 ** len(channels):
            raise ValueError(f"CNN: images of side {side} cannot be halved {len(channels)} "
                             "times by the max-pools")
        layers = []
        c_in = 1
        for c in channels:
            # A conv followed by batch norm needs no bias: the norm's shift replaces it.
            layers.append(nn.Conv2d(c_in, c, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c))
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        side //= 2 ** len(channels)
        layers += [nn.Flatten(), nn.Linear(c_in * side * side, hidden), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(hidden, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class GRUClassifier(nn.Module):
    """A GRU reading the image as a sequence of its rows; a linear head on the last hidden
    state."""

    def __init__(self, hidden=128, rows=28, cols=28, classes=10, num_layers=1):
        super().__init__()
        self.rows, self.cols = rows, cols
        self.gru = nn.GRU(cols, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        x = x.reshape(x.shape[0], self.rows, self.cols)  # (N, 1, rows, cols) -> (N, T=rows, cols)
        out, _ = self.gru(x)  # (N, T, hidden)
        return self.head(out[:, -1])


# --- language models ------------------------------------------------------------------------


class LSTMLanguageModel(nn.Module):
    """Character embedding -> LSTM -> [Dropout] -> linear head over the vocabulary.

    >>> lm = LSTMLanguageModel(vocab_size=75)
    >>> logits = lm(ids)                   # (N, T) -> (N, T, 75)
    """

    def __init__(self, vocab_size, embed_dim=64, hidden=256, num_layers=1, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids, state=None):
        """ids (N, T) -> logits (N, T, vocab); with ``state`` (an ``(h, c)`` pair, or
        ``True`` for zeros) returns ``(logits, (h, c))`` to carry on from."""
        out, new_state = self.lstm(self.embed(ids), None if state is True else state)
        logits = self.head(self.drop(out))  # (N, T, hidden) -> (N, T, vocab)
        return logits if state is None else (logits, new_state)

    def next_logits(self, ids, state):
        """Logits (vocab,) of the character after ``ids`` (1-d), reading only what ``state``
        has not seen: all of ``ids`` first (``state`` None), then its last character."""
        new = ids if state is None else ids[-1:]
        logits, state = self(np.asarray(new)[None], True if state is None else state)
        return logits.data[0, -1], state


class TransformerLanguageModel(nn.Module):
    """Character and learned position embeddings -> ``num_layers`` pre-norm
    ``nn.TransformerEncoderLayer`` s with causal self-attention and a GELU feed-forward block
    -> LayerNorm -> linear head; reads at most ``context`` characters.

    >>> lm = TransformerLanguageModel(vocab_size=75, context=64)
    >>> logits = lm(ids)                   # (N, T <= 64) -> (N, T, 75)
    """

    def __init__(self, vocab_size, context=64, d_model=128, num_heads=4, num_layers=2,
                 ff_dim=512, dropout=0.0):
        super().__init__()
        self.context = int(context)
        self.embed = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(self.context, d_model)
        # Small embeddings, as GPT-2 starts them: N(0, 1) rows would swamp the residual stream.
        for table in (self.embed, self.position):
            nn.init.normal_(table.weight, std=0.02)
        block = nn.TransformerEncoderLayer(d_model, num_heads, ff_dim, dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        # Pre-norm blocks leave the residual stream unnormalised: one LayerNorm at the top.
        self.encoder = nn.TransformerEncoder(block, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, ids):
        t = ids.shape[1]
        if t > self.context:
            raise ValueError(f"{type(self).__name__}: a sequence of {t} characters is longer "
                             f"than the context of {self.context}")
        x = self.embed(ids) + self.position(np.arange(t))  # (N, T, d) + (T, d)
        x = self.encoder(x, is_causal=True)  # each position sees itself and those before
        return self.head(x)  # (N, T, d) -> (N, T, vocab)

    def next_logits(self, ids, state):
        """Logits (vocab,) of the character after ``ids`` (1-d): the last ``context``
        characters read again each time (no cache; ``state`` is passed through)."""
        window = np.asarray(ids[-self.context:])[None]  # (1, T)
        return self(window).data[0, -1], state


def generate(model, prompt_ids, length, temperature=1.0, rng=None):
    """``length`` characters sampled after ``prompt_ids`` from a language model's
    ``next_logits``, at ``temperature`` (0: always the likeliest). Returns an int64 array.

    Runs in eval mode without gradients; the model's mode is restored afterwards.
    """
    if len(prompt_ids) == 0:
        raise ValueError("generate: the prompt must hold at least one character")
    rng = rng if rng is not None else np.random.default_rng()
    ids = [int(i) for i in prompt_ids]
    was_training = model.training
    model.eval()
    state = None
    try:
        with no_grad():
            for _ in range(length):
                logits, state = model.next_logits(np.array(ids, np.int64), state)
                logits = logits.astype(np.float64)
                if temperature <= 0:
                    ids.append(int(np.argmax(logits)))
                    continue
                p = np.exp((logits - logits.max()) / temperature)
                ids.append(int(rng.choice(len(p), p=p / p.sum())))
    finally:
        model.train(was_training)
    return np.array(ids[len(prompt_ids):], np.int64)


# name -> (constructor taking ``dropout`` and the data's shape, default dropout before the
# head; None: no dropout). Classifiers get ``image_shape`` (C, H, W), language models
# ``vocab_size`` and ``context``.
MODELS = {
    "mlp": (lambda dropout, image_shape, **_: MLP(in_features=int(np.prod(image_shape)),
                                                  dropout=dropout), 0.0),
    "cnn": (lambda dropout, image_shape, **_: CNN(dropout=dropout, side=image_shape[-1]), 0.25),
    "cnn-bn": (lambda dropout, image_shape, **_: CNN(batch_norm=True, dropout=dropout,
                                                     side=image_shape[-1]), 0.0),
    "gru": (lambda dropout, image_shape, **_: GRUClassifier(rows=image_shape[-2],
                                                            cols=image_shape[-1]), None),
    "lstm-lm": (lambda dropout, vocab_size, context, **_: LSTMLanguageModel(
        vocab_size, dropout=dropout), 0.0),
    "transformer-lm": (lambda dropout, vocab_size, context, **_: TransformerLanguageModel(
        vocab_size, context=context, dropout=dropout), 0.0),
}
LANGUAGE_MODELS = ("lstm-lm", "transformer-lm")


def build_model(name, dropout=None, image_shape=MNIST_SHAPE, vocab_size=None, context=None):
    """A freshly initialised model by name (one of ``MODELS``), with its default dropout
    unless ``dropout`` is given (ignored by the GRU).

    Classifiers are built for images of ``image_shape`` (C, H, W); the language models need
    ``vocab_size`` and ``context`` (the longest sequence they read).
    """
    try:
        make, default = MODELS[name]
    except KeyError:
        raise ValueError(
            f"build_model: unknown model {name!r}; expected one of {sorted(MODELS)}"
        ) from None
    if name in LANGUAGE_MODELS and (vocab_size is None or context is None):
        raise ValueError(f"build_model: {name} needs vocab_size and context, got "
                         f"{vocab_size} and {context}")
    return make(default if dropout is None else dropout, image_shape=tuple(image_shape),
                vocab_size=vocab_size, context=context)
