"""Smoke tests: small models built from the layers learn a small generated task."""

import numpy as np

import ops
from autograd import Tensor, nn, no_grad


def sgd_step(model, lr):
    with no_grad():
        for p in model.parameters():
            p.data -= lr * p.grad
    model.zero_grad()


def blobs(n=128, seed=0):
    """Three Gaussian blobs in 4-D: an easy 3-class problem."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = np.array([[2, 0, 0, 1], [-2, 1, 0, 0], [0, -2, 2, 0]], dtype=np.float32)
    x = centres[labels] + rng.standard_normal((n, 4)).astype(np.float32) * 0.5
    return x, labels


def train(model, x, y, steps=60, lr=0.1):
    losses = []
    for _ in range(steps):
        loss = ops.cross_entropy(model(Tensor(x)), y)
        loss.backward()
        sgd_step(model, lr)
        losses.append(loss.item())
    return losses


def test_mlp_with_batch_norm_and_dropout_learns():
    nn.init.seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.1),
                          nn.Linear(16, 3))
    x, y = blobs()
    losses = train(model, x, y)
    assert losses[-1] < 0.5 * losses[0]
    model.eval()
    accuracy = (model(Tensor(x)).data.argmax(axis=1) == y).mean()
    assert accuracy > 0.9


def test_gru_classifier_learns():
    """Sequences whose label is the sign of their running sum at the end."""
    nn.init.seed(1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 6, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.int64)

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(2, 8, batch_first=True)
            self.head = nn.Linear(8, 2)

        def forward(self, seq):
            _, h_n = self.gru(seq)
            return self.head(h_n[-1])

    losses = train(Classifier(), x, y, steps=80, lr=0.5)
    assert losses[-1] < 0.6 * losses[0]
