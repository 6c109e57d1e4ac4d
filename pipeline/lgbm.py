"""Predicting with a saved LightGBM model through LightGBM's C API, without ``import lightgbm``.

Cleaning only ever predicts. The ``lightgbm`` Python package imports SciPy and takes ~0.2 s
to load, a quarter of a one-file ``decruft clean``; its shared library, loaded here with
``ctypes``, takes milliseconds and computes the very same predictions (the Python package
calls these same functions: ``LGBM_BoosterLoadModelFromString``,
``LGBM_BoosterPredictForMat``). The library is found inside the installed ``lightgbm``
package without running its ``__init__``. Training still uses the Python package.

The library's log lines go to the ``pipeline.lgbm`` logger, never to stdout (which may
carry the JSONL output).
"""
from __future__ import annotations

import ctypes
import importlib.util
import logging
import threading
from pathlib import Path

import numpy as np

_LOG = logging.getLogger(__name__)
_DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64
_PREDICT_NORMAL = 0  # C_API_PREDICT_NORMAL: probabilities for binary and multiclass
_LOCK = threading.Lock()
_LIB: ctypes.CDLL | None = None


class LightGBMError(RuntimeError):
    """LightGBM's C API refused a call (its message is the library's)."""


def _library() -> ctypes.CDLL:
    global _LIB
    with _LOCK:
        if _LIB is None:
            spec = importlib.util.find_spec("lightgbm")
            if spec is None or not spec.submodule_search_locations:
                raise ImportError("the lightgbm package is not installed (pip install lightgbm)")
            folder = Path(next(iter(spec.submodule_search_locations)))
            found = [p for p in (folder / "lib" / "lib_lightgbm.so", folder / "lib" / "lib_lightgbm.dylib",
                                 folder / "bin" / "lib_lightgbm.dll", folder / "lib_lightgbm.so") if p.is_file()]
            if not found:
                raise ImportError(f"LightGBM's shared library not found under {folder}")
            lib = ctypes.cdll.LoadLibrary(str(found[0]))
            lib.LGBM_GetLastError.restype = ctypes.c_char_p
            lib._decruft_log = ctypes.CFUNCTYPE(None, ctypes.c_char_p)(_log_line)  # kept alive here
            _check(lib, lib.LGBM_RegisterLogCallback(lib._decruft_log))
            _LIB = lib
        return _LIB


def _log_line(message: bytes) -> None:
    text = message.decode("utf-8", "replace").strip()
    if text:
        _LOG.debug("%s", text)


def _check(lib: ctypes.CDLL, status: int) -> None:
    if status != 0:
        raise LightGBMError(lib.LGBM_GetLastError().decode("utf-8", "replace"))


class Booster:
    """A model loaded from LightGBM's text format (``Booster.model_to_string``)."""

    def __init__(self, model_str: str):
        lib = self._lib = _library()
        self._handle = ctypes.c_void_p()
        iterations = ctypes.c_int()
        _check(lib, lib.LGBM_BoosterLoadModelFromString(
            ctypes.c_char_p(model_str.encode("utf-8")), ctypes.byref(iterations), ctypes.byref(self._handle)))
        classes, features = ctypes.c_int(), ctypes.c_int()
        _check(lib, lib.LGBM_BoosterGetNumClasses(self._handle, ctypes.byref(classes)))
        _check(lib, lib.LGBM_BoosterGetNumFeature(self._handle, ctypes.byref(features)))
        self.num_class, self._num_feature = classes.value, features.value

    def num_feature(self) -> int:
        return self._num_feature

    def predict(self, X: np.ndarray, num_threads: int = 1) -> np.ndarray:
        """What ``lightgbm.Booster.predict(X, num_threads=…)`` returns: one probability per row
        (binary), or ``len(X) x num_class`` (multiclass)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self._num_feature:
            raise ValueError(f"expected {self._num_feature} feature columns, got an array of shape {X.shape}")
        rows = X.shape[0]
        out = np.empty(rows * self.num_class, dtype=np.float64)
        if rows == 0:
            return out.reshape(0, self.num_class) if self.num_class > 1 else out
        written = ctypes.c_int64()
        _check(self._lib, self._lib.LGBM_BoosterPredictForMat(
            self._handle, X.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(_DTYPE_FLOAT64),
            ctypes.c_int32(rows), ctypes.c_int32(X.shape[1]), ctypes.c_int(1), ctypes.c_int(_PREDICT_NORMAL),
            ctypes.c_int(0), ctypes.c_int(-1), ctypes.c_char_p(f"num_threads={int(num_threads)}".encode()),
            ctypes.byref(written), out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))))
        if written.value != out.size:
            raise LightGBMError(f"LightGBM wrote {written.value} predictions, expected {out.size}")
        return out.reshape(rows, self.num_class) if self.num_class > 1 else out

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and handle.value:
            self._lib.LGBM_BoosterFree(handle)
            self._handle = None
