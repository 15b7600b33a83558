"""Pith: make trained ONNX models cheaper, then compile and run them.

    >>> import numpy as np, pith
    >>> model = pith.load("model.onnx")
    >>> model.optimize("pith-dedup-weights,pith-low-rank{energy=0.99}")
    >>> print(model.report()["passes"])
    >>> run = model.compile()                 # for this CPU
    >>> (y,) = run(np.ones((1, 16), np.float32))
    >>> model.save("model.small.onnx")        # standard ONNX

Pass and option names are those of `pith optimize --pipeline` and pith-opt
(docs/passes/); the CLI, the C and C++ APIs and this package run the same
registered pipelines through one C++ implementation (include/pith/API/Pith.h).
Failures raise :class:`PithError` with Pith's one-line message. Compiling,
optimizing and running release the GIL; a compiled model may be called from
several threads at once.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from . import _pith
from ._pith import PithError

__all__ = ["load", "Model", "CompiledModel", "PithError", "API_VERSION"]

#: Version of the C++/C API this package was built against.
API_VERSION: int = _pith.API_VERSION

PathLike = Union[str, "os.PathLike[str]"]


#: A pass option's value.
PassOption = Union[bool, int, float, str, Sequence[str]]


def _option_value(value: PassOption) -> Union[bool, int, float, str, List[str]]:
    """The value as the C++ API types it (numpy scalars become Python's)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    raise PithError(f"a pass option cannot be {type(value).__name__}")


def load(source: Union[PathLike, bytes, bytearray, memoryview], *, name: str = "<bytes>") -> "Model":
    """Loads an ONNX model from a path (binary ONNX, or ONNX text for
    ``.onnxtxt``/``.txt``) or from serialized bytes. ``name`` names in-memory
    bytes in error messages. Raises :class:`PithError` for an unreadable file
    or an invalid model."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Model(_pith.Model.load_bytes(bytes(source), name))
    return Model(_pith.Model.load(os.fspath(source)))


class _Handle:
    """Something that can be closed; using it afterwards raises PithError."""

    _kind = "handle"

    def __init__(self, impl: Any) -> None:
        self._impl = impl

    def _get(self) -> Any:
        if self._impl is None:
            raise PithError(f"the {self._kind} is closed")
        return self._impl

    def close(self) -> None:
        """Frees what Pith holds for this object now, not when Python
        collects it. Any later use raises PithError."""
        self._impl = None

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Model(_Handle):
    """An ONNX model in Pith's IR: transform it with :meth:`optimize`, read
    :meth:`report`, write it with :meth:`save`/:meth:`to_bytes`, or
    :meth:`compile` it."""

    _kind = "model"

    @property
    def inputs(self) -> List[Dict[str, Any]]:
        """Graph inputs: ``{"name", "dtype", "shape"}`` (-1 for a symbolic
        dimension, shape None when not even the rank is known)."""
        return self._get().inputs

    @property
    def outputs(self) -> List[Dict[str, Any]]:
        """Graph outputs, as :attr:`inputs`."""
        return self._get().outputs

    def optimize(self, pipeline: str, *,
                 calibration: Union[None, PathLike, Mapping[str, np.ndarray]] = None,
                 progress: bool = False, **options: PassOption) -> "Model":
        """Runs a pass pipeline, e.g. ``"pith-dedup-weights,pith-low-rank{energy=0.99}"``,
        or one pass with typed options: ``optimize("pith-low-rank", energy=0.99,
        activation_aware=True)`` (underscores stand for the options' dashes;
        values are bools, ints, floats, strings or lists of strings).

        ``calibration``: inputs lossy passes measure their output error on
        (and activation-aware ones read activations from): a numpy ``.npz``
        path, or arrays by graph-input name. ``progress`` prints each pass
        and its time on stderr. An unknown pass or option, or a failing
        pass, raises :class:`PithError` and leaves the model unchanged.
        Returns the model, for chaining."""
        impl = self._get()
        typed = [(name.replace("_", "-"), _option_value(value)) for name, value in options.items()]

        def run(calibration_path: str) -> None:
            if options:
                impl.optimize_pass(pipeline, typed, calibration_path, progress)
            else:
                impl.optimize(pipeline, calibration_path, progress)

        if calibration is None or isinstance(calibration, (str, os.PathLike)):
            run("" if calibration is None else os.fspath(calibration))
            return self
        with tempfile.TemporaryDirectory(prefix="pith-calibration-") as directory:
            path = os.path.join(directory, "calibration.npz")
            np.savez(path, **{k: np.asarray(v) for k, v in calibration.items()})
            run(path)
        return self

    def report(self) -> Dict[str, Any]:
        """What the passes run so far reported and the model's cost now:
        ``{"passes": [{"pass": ..., "lines": [...], ...}], "cost": {"parameters",
        "weight_bytes", "macs", "flops", ...}}``."""
        return json.loads(self._get().report_json())

    def save(self, path: PathLike, *, sparse_initializers: bool = False) -> None:
        """Writes standard ONNX to ``path`` (replaced atomically). With
        ``sparse_initializers``, float weights with fewer than a third of
        their elements nonzero are stored as ONNX sparse initializers."""
        self._get().save(os.fspath(path), sparse_initializers)

    def to_bytes(self) -> bytes:
        """The model as serialized standard ONNX."""
        return self._get().to_bytes()

    def train(self, data: Mapping[str, np.ndarray], *, loss: str = "cross-entropy",
              epochs: int = 1, batch_size: int = 32, optimizer: str = "adamw",
              learning_rate: float = 1e-3, schedule: str = "constant",
              on_epoch: Optional[Callable[[Dict[str, Any]], None]] = None,
              **options: Any) -> Dict[str, Any]:
        """Trains the model's float weights in place, as ``pith train`` does.
        ``data``: arrays named after the graph inputs, plus ``labels``
        (``loss="cross-entropy"``: int64 classes of the output's last axis)
        or ``targets`` (``loss="mse"``), samples along the first axis;
        ``loss="output"`` trains on a model output that is the loss. Each
        epoch takes the whole batches of a shuffled order. ``optimizer``:
        ``"adamw"`` or ``"sgd"``; ``schedule``: ``"constant"``, ``"cosine"``
        or ``"one-cycle"``. More options: ``loss_output``, ``warmup``,
        ``weight_decay``, ``momentum``, ``beta1``, ``beta2``, ``epsilon``,
        ``clip_norm`` (gradients scaled to this global norm when larger),
        ``seed``, ``freeze`` (initializer names), ``memory_budget`` (activation
        memory, bytes like ``"64MB"`` or a fraction like ``"0.5"``: activations
        beyond it are recomputed in the backward pass), ``remat_solver``
        (``"greedy"``, ``"ilp"``, ``"chain"`` or ``"sqrt"``). ``on_epoch`` is called
        with each epoch's ``{"epoch", "loss", "steps", "seconds",
        "samples_per_second"}``. Returns those epochs, every step's loss
        (``losses``), and the step's memory (``arena_bytes``,
        ``step_bytes``) and what building the step reported (``report``). Raises :class:`PithError` naming what is wrong
        (data, options, or a node without a gradient); the model then keeps
        its weights."""
        settings = dict(loss=loss, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                        learning_rate=learning_rate, schedule=schedule, **options)
        arrays = {k: np.ascontiguousarray(v) for k, v in data.items()}
        return self._get().train(arrays, settings, on_epoch)

    def compile(self, target: str = "cpu", *, gpu_math: str = "fp32",
                input_shapes: Optional[Mapping[str, Sequence[int]]] = None) -> "CompiledModel":
        """Compiles the model as it is now. ``target``: ``"cpu"`` (this
        machine) or ``"cuda"`` (its first NVIDIA GPU; every input dimension
        must then be static or fixed here). ``gpu_math`` (cuda): how GEMMs
        and convolutions compute, ``"fp32"``, ``"tf32"``, ``"fp16"`` or
        ``"bf16"`` (tensor cores, fp32 accumulation). ``input_shapes`` fixes
        symbolic input dimensions by input name, so that every buffer is
        planned statically."""
        shapes = {k: [int(d) for d in v] for k, v in (input_shapes or {}).items()}
        return CompiledModel(self._get().compile(target, gpu_math, shapes))


class CompiledModel(_Handle):
    """A compiled model: call it with numpy arrays, one per graph input in
    order (or by name), and get a list of numpy arrays, one per output.
    C-contiguous inputs are read in place; outputs own their memory."""

    _kind = "compiled model"

    @property
    def inputs(self) -> List[Dict[str, Any]]:
        """Inputs as compiled: ``{"name", "dtype", "shape"}``."""
        return self._get().inputs

    @property
    def outputs(self) -> List[Dict[str, Any]]:
        """Outputs as compiled."""
        return self._get().outputs

    @property
    def peak_intermediate_bytes(self) -> int:
        """Bytes of the planned arena for intermediate buffers."""
        return self._get().peak_intermediate_bytes

    @property
    def compile_seconds(self) -> float:
        return self._get().compile_seconds

    def __call__(self, *inputs: np.ndarray, **named: np.ndarray) -> List[np.ndarray]:
        """Runs the model. Inputs are checked against the compiled types and
        shapes; a mismatch raises :class:`PithError`."""
        impl = self._get()
        if named:
            if inputs:
                raise PithError("give the inputs by position or by name, not both")
            names = [i["name"] for i in impl.inputs]
            unknown = sorted(set(named) - set(names))
            if unknown:
                raise PithError(f"the model has no input '{unknown[0]}'")
            missing = [n for n in names if n not in named]
            if missing:
                raise PithError(f"missing input '{missing[0]}'")
            inputs = tuple(named[n] for n in names)
        arrays = [np.asarray(x) for x in inputs]
        # bfloat16 (ml_dtypes) travels as its uint16 bits, both ways.
        arrays = [x.view(np.uint16) if x.dtype.name == "bfloat16" else x for x in arrays]
        outputs = impl.run([x if x.flags.c_contiguous else np.ascontiguousarray(x)
                            for x in arrays])
        for i, info in enumerate(impl.outputs):
            if info["dtype"] == "bfloat16":
                import ml_dtypes
                outputs[i] = outputs[i].view(ml_dtypes.bfloat16)
        return outputs
