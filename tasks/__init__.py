"""Luigi tasks for decruft: ``luigi --module tasks CleanPartition --date YYYY-MM-DD``.

The task classes are defined (and so registered with Luigi) when this package is imported by
a process that runs Luigi (``luigi --module tasks …``: luigi is imported first) or when one of
them is asked for (``from tasks import CleanPartition``). The ``decruft`` command
(``tasks.cli``) imports the package without them, so ``decruft --help`` does not load Luigi.
"""
from __future__ import annotations

import importlib
import sys

_EXPORTS = {
    "CleanFile": ".clean", "CleanPartition": ".clean", "CleanShard": ".clean", "LearnShardSites": ".clean",
    "LearnSiteProfiles": ".clean", "RawPartitionReady": ".clean", "decruft": ".config",
    "SparkCleanPartition": ".spark",  # needs pyspark only when it runs (decruft[spark])
}

__all__ = sorted([*_EXPORTS, "RangeDaily"])


def _load_tasks() -> None:
    from luigi.tools.range import RangeDaily  # so ``--module tasks RangeDaily`` resolves

    from . import clean, config, spark

    modules = {".clean": clean, ".config": config, ".spark": spark}
    for name, module in _EXPORTS.items():
        globals()[name] = getattr(modules[module], name)
    globals()["RangeDaily"] = RangeDaily


def __getattr__(name: str):
    if name in _EXPORTS or name == "RangeDaily":
        _load_tasks()
        return globals()[name]
    try:  # a submodule not imported yet
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


if "luigi" in sys.modules:  # imported by Luigi (``--module tasks``): register the tasks now
    _load_tasks()
