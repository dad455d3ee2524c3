"""chainrule: the chain rule, step by step.

The pipeline, one stage per module, each with one data type:
text -> :mod:`syntax` (tape) -> :mod:`graph` (layers) -> :mod:`derive`
(derivation, with :mod:`engine` and :mod:`check`) -> :mod:`render` (text).
"""

__version__ = "0.1.0"
