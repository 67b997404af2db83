"""PyTorch's tensor factories on the front door (``ag.zeros``, ``ag.randn``...) and
``manual_seed``, which makes every default random draw in the library reproducible.

The factories themselves live in ``ops.creation``, next to the generator that ``ops.dropout``
also draws from; this module sits above the layers, so it can seed ``autograd.nn.init`` too.
"""

from ops.creation import (
    arange, full, full_like, ones, ones_like, rand, rand_like, randn, randn_like, zeros,
    zeros_like,
)
from ops.creation import seed as _seed_ops

__all__ = [
    "arange", "full", "full_like", "manual_seed", "ones", "ones_like", "rand", "rand_like",
    "randn", "randn_like", "zeros", "zeros_like",
]


def manual_seed(seed):
    """Seed every generator the library draws from when no ``rng`` is given: the one behind
    ``rand``/``randn`` and ``ops.dropout``, and ``autograd.nn.init``'s (initial weights and
    ``nn.Dropout`` masks), as ``torch.manual_seed`` does. numpy's global state is left alone.

    >>> ag.manual_seed(0); a = ag.randn(3)
    >>> ag.manual_seed(0); bool((ag.randn(3).data == a.data).all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        try:
            seed = int(seed)  # numpy integers
        except (TypeError, ValueError):
            raise TypeError(f"manual_seed: seed must be an int, got {seed!r}") from None
    _seed_ops(seed)
    # Imported here: nn sits above ops, and importing autograd must not import the layers.
    from autograd.nn import init

    init.seed(seed)
