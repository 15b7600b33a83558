"""Runs a library from `pith compile` through the C API (libpith_runtime.so)
with ctypes: what a C program does, from Python, so that tests can feed numpy
arrays at several sizes to one compiled library."""

import ctypes
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "build" / "lib" / "libpith_runtime.so"

# ONNX TensorProto data types <-> numpy.
DTYPES = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64}
CODES = {np.dtype(v): k for k, v in DTYPES.items()}


class Tensor(ctypes.Structure):
    _fields_ = [("dataType", ctypes.c_int32), ("rank", ctypes.c_int64),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("data", ctypes.c_void_p)]


def _runtime():
    lib = ctypes.CDLL(str(RUNTIME))
    lib.pithModelLoad.restype = ctypes.c_void_p
    lib.pithModelLoad.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                  ctypes.POINTER(ctypes.c_void_p)]
    for name in ["pithModelNumInputs", "pithModelNumOutputs"]:
        getattr(lib, name).restype = ctypes.c_int64
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    for name in ["pithModelInputName", "pithModelOutputName"]:
        getattr(lib, name).restype = ctypes.c_char_p
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_int64]
    lib.pithModelRunAllocating.restype = ctypes.c_void_p
    lib.pithModelRunAllocating.argtypes = [ctypes.c_void_p, ctypes.POINTER(Tensor),
                                           ctypes.c_int64, ctypes.POINTER(Tensor),
                                           ctypes.c_int64]
    lib.pithTensorRelease.argtypes = [ctypes.POINTER(Tensor)]
    lib.pithStatusMessage.restype = ctypes.c_char_p
    lib.pithStatusMessage.argtypes = [ctypes.c_void_p]
    lib.pithStatusFree.argtypes = [ctypes.c_void_p]
    lib.pithModelFree.argtypes = [ctypes.c_void_p]
    return lib


class CompiledModel:
    """A loaded library; run(feeds) -> list of numpy outputs."""

    def __init__(self, library):
        self.lib = _runtime()
        self.handle = ctypes.c_void_p()
        self._check(self.lib.pithModelLoad(str(library).encode(), None,
                                           ctypes.byref(self.handle)))
        n = self.lib.pithModelNumInputs(self.handle)
        self.input_names = [self.lib.pithModelInputName(self.handle, i).decode()
                            for i in range(n)]
        m = self.lib.pithModelNumOutputs(self.handle)
        self.output_names = [self.lib.pithModelOutputName(self.handle, i).decode()
                             for i in range(m)]

    def _check(self, status):
        if status:
            message = self.lib.pithStatusMessage(status).decode()
            self.lib.pithStatusFree(status)
            raise RuntimeError(message)

    def run(self, feeds):
        arrays = [np.ascontiguousarray(feeds[name]) for name in self.input_names]
        shapes = [(ctypes.c_int64 * max(a.ndim, 1))(*a.shape) for a in arrays]
        inputs = (Tensor * len(arrays))(*[
            Tensor(CODES[a.dtype], a.ndim, shape, a.ctypes.data)
            for a, shape in zip(arrays, shapes)])
        outputs = (Tensor * len(self.output_names))()
        self._check(self.lib.pithModelRunAllocating(self.handle, inputs, len(arrays),
                                                    outputs, len(self.output_names)))
        results = []
        for out in outputs:
            shape = tuple(out.shape[d] for d in range(out.rank))
            dtype = np.dtype(DTYPES[out.dataType])
            count = int(np.prod(shape, dtype=np.int64))
            buffer = ctypes.string_at(out.data, count * dtype.itemsize)
            results.append(np.frombuffer(buffer, dtype=dtype).reshape(shape).copy())
            self.lib.pithTensorRelease(ctypes.byref(out))
        return results

    def __del__(self):
        if getattr(self, "handle", None):
            self.lib.pithModelFree(self.handle)
