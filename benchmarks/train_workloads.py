"""The training workloads of ``benchmarks.train_speed``: the same models in jitgrad and in
PyTorch, built from one set of initial weights, and the data both workers share."""

SEED = 0
LR = 1e-3
WARMUP_BATCHES = 20  # thread pools, allocators and numba settle before the clock starts
MODELS = {
    "mlp": {"batch_size": 128, "target_ratio": 1.0, "title": "MLP 784-512-10, batch 128, Adam"},
    "cnn": {
        "batch_size": 64,
        "target_ratio": 1.2,
        "title": "CNN 2x(conv3x3, ReLU, pool2), fc 3136-128-10, batch 64, Adam",
    },
    "gru": {
        "batch_size": 64,
        "target_ratio": 1.0,
        "title": "GRU 28->128 over the 28 rows, fc 128-10, batch 64, Adam",
    },
}


# --- shared by both workers -----------------------------------------------------------------


def initial_weights(model, np):
    """The initial weights in PyTorch's layout (Linear weight (out, in)), Kaiming-uniform
    like PyTorch's default init, from a fixed numpy seed."""
    rng = np.random.default_rng(SEED)

    def uniform(shape, fan_in):
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    if model == "gru":  # PyTorch's GRU init: every tensor uniform within 1/sqrt(hidden)
        shapes = {"weight_ih": (384, 28), "weight_hh": (384, 128), "bias_ih": (384,),
                  "bias_hh": (384,)}
        weights = {f"gru.{name}_l0": uniform(shape, 128) for name, shape in shapes.items()}
        weights["head.weight"] = uniform((10, 128), 128)
        weights["head.bias"] = uniform((10,), 128)
        return weights
    if model == "mlp":
        shapes = [("fc1", (512, 784)), ("fc2", (10, 512))]
    else:
        shapes = [
            ("conv1", (32, 1, 3, 3)),
            ("conv2", (64, 32, 3, 3)),
            ("fc1", (128, 3136)),
            ("fc2", (10, 128)),
        ]
    weights = {}
    for name, shape in shapes:
        fan_in = int(np.prod(shape[1:]))
        weights[name + ".weight"] = uniform(shape, fan_in)
        weights[name + ".bias"] = uniform(shape[:1], fan_in)
    return weights


def prepare(model, path):
    """Write what both workers share to ``path`` (npz): the training images and labels, the
    batch order and the initial weights. Only the driver imports jitgrad for this, so the
    PyTorch worker's memory holds no jitgrad."""
    import numpy as np

    from autograd import data

    try:
        x, y = data.load("fashion-mnist", "train", download=False)
        source = "fashion-mnist train (60000 images)"
    except data.DatasetNotFoundError:
        rng = np.random.default_rng(SEED)
        x = rng.random((60000, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, 60000)
        source = "synthetic random images (60000; Fashion-MNIST not found)"
    batches = data.BatchIterator(
        np.arange(len(x)), batch_size=MODELS[model]["batch_size"], seed=SEED
    ).indices()
    weights = {"w." + k: v for k, v in initial_weights(model, np).items()}
    np.savez(path, x=x, y=y, order=np.concatenate(batches), **weights)
    return source


def load_shared(model, path, np):
    with np.load(path) as f:
        x, y, order = f["x"], f["y"], f["order"]
        weights = {k[2:]: f[k] for k in f.files if k.startswith("w.")}
    bs = MODELS[model]["batch_size"]
    batches = [order[i : i + bs] for i in range(0, len(order), bs)]
    return x, y, batches, weights


def memory_mb():
    """(current RSS, peak RSS) of this process in MiB, from /proc/self/status (Linux)."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024  # kB
    return values["VmRSS"], values["VmHWM"]


def reset_peak():
    """Reset the kernel's peak-RSS mark to the current RSS (Linux >= 4.0); False if not."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# --- the workers (one per process) ----------------------------------------------------------


def ours_model(model, weights):
    from autograd import nn
    from autograd.models import CNN, MLP, GRUClassifier

    if model == "gru":
        m = GRUClassifier()
        for name, p in m.named_parameters():
            w = weights[name]
            p.data[...] = w.T if p.shape != w.shape else w  # jitgrad keeps (in, out)
        return m
    m = MLP(hidden=(512,)) if model == "mlp" else CNN()
    linears = [layer for layer in m.net if isinstance(layer, nn.Linear)]
    convs = [layer for layer in m.net if isinstance(layer, nn.Conv2d)]
    layers = dict(zip(["conv1", "conv2"], convs))
    layers.update(zip(["fc1", "fc2"], linears))
    for name, layer in layers.items():
        for attr in ("weight", "bias"):
            w = weights[f"{name}.{attr}"]
            p = getattr(layer, attr)
            if p.shape != w.shape:  # jitgrad's Linear keeps (in, out)
                w = w.T
            p.data[...] = w
    return m


def run_ours(model, x, y, batches, weights, compiled=False):
    """The eager loop, or with ``compiled`` the same step through ``autograd.jit``."""
    import autograd as ag
    import ops
    import optim
    from autograd import Tensor

    def train(m, batch_list):
        opt = optim.Adam(m.parameters(), lr=LR)

        def step(xb, yb):
            loss = ops.cross_entropy(m(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        step = ag.jit(step) if compiled else step
        losses = []
        for idx in batch_list:
            losses.append(step(Tensor(x[idx]), y[idx]).item())
        return losses

    train(ours_model(model, weights), batches[:WARMUP_BATCHES])
    m = ours_model(model, weights)
    return train, m


def run_torch(model, x, y, batches, weights):
    import torch
    from torch import nn

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    class GRUClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(28, 128, batch_first=True)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            out, _ = self.gru(x.reshape(x.shape[0], 28, 28))
            return self.head(out[:, -1])

    def build():
        if model == "gru":
            m = GRUClassifier()
            with torch.no_grad():
                for name, p in m.named_parameters():
                    p.copy_(torch.from_numpy(weights[name]))
            return m
        if model == "mlp":
            m = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
            names = {"fc1": m[1], "fc2": m[3]}
        else:
            m = nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(3136, 128),
                nn.ReLU(),
                nn.Linear(128, 10),
            )
            names = {"conv1": m[0], "conv2": m[3], "fc1": m[7], "fc2": m[9]}
        with torch.no_grad():
            for name, layer in names.items():
                layer.weight.copy_(torch.from_numpy(weights[name + ".weight"]))
                layer.bias.copy_(torch.from_numpy(weights[name + ".bias"]))
        return m

    def train(m, batch_list):
        opt = torch.optim.Adam(m.parameters(), lr=LR)
        loss_fn = nn.CrossEntropyLoss()
        losses = []
        for idx in batch_list:
            idx = torch.from_numpy(idx)
            loss = loss_fn(m(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    train(build(), batches[:WARMUP_BATCHES])
    return train, build()


