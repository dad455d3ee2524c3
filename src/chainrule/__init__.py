"""chainrule: the chain rule, step by step.

The pipeline, one stage per module, each with one data type:
text -> :mod:`syntax` (tape) -> :mod:`graph` (layers) -> :mod:`derive`
(derivation, with :mod:`engine` and :mod:`check`) -> :mod:`render` (text).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for mypy and editors: the real signatures, without importing SymPy at run time
    from chainrule.api import check, differentiate, gradient

__version__ = "0.1.0"
__all__ = ["__version__", "check", "differentiate", "gradient"]


def __getattr__(name: str) -> Any:
    """The API is imported on first use, so `chainrule --help` never loads SymPy."""
    if name in ("differentiate", "gradient", "check"):
        from chainrule import api

        return getattr(api, name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
