"""The models the training command trains on 28x28 greyscale images (MNIST, Fashion-MNIST).

Every model takes a batch of images ``(N, 1, 28, 28)`` and returns logits ``(N, 10)``.

>>> model = build_model("cnn")
>>> logits = model(Tensor(images))          # (N, 10)
"""

from autograd import nn

__all__ = ["CNN", "MLP", "MODELS", "GRUClassifier", "build_model"]


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
    channels), then ``fc 3136 -> 128 -> ReLU -> [Dropout] -> fc 128 -> 10``."""

    def __init__(self, batch_norm=False, channels=(32, 64), hidden=128, classes=10, dropout=0.0):
        super().__init__()
        layers = []
        c_in = 1
        for c in channels:
            # A conv followed by batch norm needs no bias: the norm's shift replaces it.
            layers.append(nn.Conv2d(c_in, c, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c))
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        side = 28 // 2 ** len(channels)
        layers += [nn.Flatten(), nn.Linear(c_in * side * side, hidden), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(hidden, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class GRUClassifier(nn.Module):
    """A GRU reading the image as a sequence of its 28 rows (28 pixels each); a linear head
    on the last hidden state."""

    def __init__(self, hidden=128, rows=28, cols=28, classes=10, num_layers=1):
        super().__init__()
        self.rows, self.cols = rows, cols
        self.gru = nn.GRU(cols, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        x = x.reshape(x.shape[0], self.rows, self.cols)  # (N, 1, 28, 28) -> (N, T=28, 28)
        out, _ = self.gru(x)  # (N, T, hidden)
        return self.head(out[:, -1])


# name -> (constructor taking ``dropout``, default dropout before the head; None: no dropout)
MODELS = {
    "mlp": (lambda dropout: MLP(dropout=dropout), 0.0),
    "cnn": (lambda dropout: CNN(dropout=dropout), 0.25),
    "cnn-bn": (lambda dropout: CNN(batch_norm=True, dropout=dropout), 0.0),
    "gru": (lambda dropout: GRUClassifier(), None),
}


def build_model(name, dropout=None):
    """A freshly initialised model by name (one of ``MODELS``), with its default dropout
    unless ``dropout`` is given (ignored by the GRU)."""
    try:
        make, default = MODELS[name]
    except KeyError:
        raise ValueError(
            f"build_model: unknown model {name!r}; expected one of {sorted(MODELS)}"
        ) from None
    return make(default if dropout is None else dropout)
