"""torch, imported on first use rather than at start-up.

Importing torch takes 1.5-3 s, most of a cold start, yet no page needs it until someone runs a
demo. Demo modules write ``from app.demos._lazy import torch, nn, F``: the registry, parameter
models and question pages then load without torch. Only the compute pool's processes
(``app.compute``) import it; the web processes never do.
"""

from __future__ import annotations

import importlib
import types


class LazyModule(types.ModuleType):
    """Stands in for a module until an attribute is read, then becomes a view of the real one."""

    def __getattr__(self, attr: str):
        real = importlib.import_module(self.__name__)
        # Copy the public names once so later lookups skip this method; names torch itself
        # creates lazily still arrive here and are fetched from the real module.
        self.__dict__.update({k: v for k, v in vars(real).items() if not k.startswith("__")})
        return getattr(real, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__name__!r}>"


torch = LazyModule("torch")
nn = LazyModule("torch.nn")
F = LazyModule("torch.nn.functional")
