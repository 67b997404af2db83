"""Every op in the registry has a gradient property test."""

import importlib
import pkgutil

import autograd  # noqa: F401
import ops  # noqa: F401  (registers the library's ops)
import tests
from autograd.core.registry import REGISTRY
from tests.helpers import GRADCHECKED


def _import_all_tests():
    for info in pkgutil.walk_packages(tests.__path__, "tests."):
        if info.name.split(".")[-1].startswith("test_"):
            importlib.import_module(info.name)


def test_every_registered_op_has_a_gradient_test():
    _import_all_tests()
    library_ops = {name for name, op in REGISTRY.items() if not name.startswith("test_")}
    missing = sorted(library_ops - GRADCHECKED)
    assert not missing, f"registered ops without a gradient property test: {missing}"


def test_every_registered_op_documents_its_vjp():
    undocumented = sorted(
        name for name, op in REGISTRY.items()
        if not name.startswith("test_") and "VJP" not in (op.doc or "")
    )
    assert not undocumented, f"registered ops whose doc gives no VJP formula: {undocumented}"
