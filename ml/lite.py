"""One LiteRT model file, run on batches of any length from many threads (no TensorFlow import)."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ml.artifact import ArtifactError


class LiteModel:
    """A LiteRT interpreter for one model file: `run(batch)` gives its first output for a float32 batch."""

    def __init__(self, path: str | Path, threads: int | None = 1):
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 - heavy, load on demand

        path = Path(path)
        if not path.is_file():
            raise ArtifactError(f"{path}: missing")
        try:
            self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
        except (ValueError, RuntimeError) as exc:
            raise ArtifactError(f"{path}: cannot be loaded ({exc})") from None
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = 0
        self._lock = threading.Lock()  # an interpreter is not safe to share between threads

    def run(self, batch: np.ndarray) -> np.ndarray:
        """The model's output for an N×... batch (N ≥ 1), in one inference call."""
        with self._lock:
            if len(batch) != self._batch:
                self._interpreter.resize_tensor_input(self._input, [len(batch), *batch.shape[1:]])
                self._interpreter.allocate_tensors()
                self._batch = len(batch)
            self._interpreter.set_tensor(self._input, batch.astype(np.float32))
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output).copy()
