"""Merge large safetensors checkpoints tensor by tensor, holding only a few tensors in memory.

We read and write the safetensors format ourselves (8-byte header length, JSON header, raw
little-endian data) because ``safetensors.torch.save_file`` needs every output tensor in memory
at once, and ``safe_open`` maps whole files, so the pages it touches count towards the
process's resident memory. Plain ``seek``/``read`` of one tensor at a time keeps the peak at
(number of models + 1) tensors whatever the checkpoint size.
"""
from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from models.common.errors import InputError
from models.common.progress import Progress, report
from models.merging.methods import MergeSettings, check_settings, depth_fractions, merge_tensor
from models.merging.validation import check_layouts

_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
           "U8": torch.uint8, "BOOL": torch.bool}
_NAMES = {v: k for k, v in _DTYPES.items()}
_FLOATS = {"F64", "F32", "F16", "BF16"}
MAX_HEADER_BYTES = 100 * 1024 * 1024


class SafetensorsReader:
    """Random access to one tensor at a time of a .safetensors file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._file = self.path.open("rb")
            size = self.path.stat().st_size
            (n,) = struct.unpack("<Q", self._file.read(8))
            if n <= 0 or n > min(MAX_HEADER_BYTES, size - 8):
                raise ValueError("bad header length")
            header = json.loads(self._file.read(n))
        except (OSError, ValueError, struct.error, UnicodeDecodeError) as exc:
            raise InputError(f"{self.path.name} is not a readable safetensors file ({exc}).") from None
        self.metadata: dict[str, str] = header.pop("__metadata__", None) or {}
        self.entries: dict[str, dict] = header
        self._data_start = 8 + n
        for name, e in header.items():
            _, end = e.get("data_offsets", (0, -1))
            if e.get("dtype") not in _DTYPES or self._data_start + end > size:
                raise InputError(f"{self.path.name} is truncated or corrupted (tensor {name}).")

    def layout(self) -> dict[str, tuple[tuple[int, ...], str]]:
        return {k: (tuple(e["shape"]), e["dtype"]) for k, e in self.entries.items()}

    def get(self, name: str) -> torch.Tensor:
        e = self.entries[name]
        start, end = e["data_offsets"]
        self._file.seek(self._data_start + start)
        raw = bytearray(self._file.read(end - start))
        if len(raw) != end - start:
            raise InputError(f"{self.path.name} is truncated (tensor {name}).")
        dtype = _DTYPES[e["dtype"]]
        if not raw:
            return torch.empty(e["shape"], dtype=dtype)
        return torch.frombuffer(raw, dtype=dtype).reshape(e["shape"])

    def close(self) -> None:
        self._file.close()


class SafetensorsWriter:
    """Writes a safetensors file whose layout is known up front, one tensor at a time, in order."""

    def __init__(self, path: str | Path, layout: dict[str, tuple[tuple[int, ...], str]], metadata: dict[str, str]):
        self.path = Path(path)
        header: dict = {"__metadata__": metadata} if metadata else {}
        offset, self._order = 0, list(layout)
        for name in self._order:
            shape, dtype = layout[name]
            size = int(np.prod(shape, dtype=np.int64)) * _DTYPES[dtype].itemsize
            header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
            offset += size
        blob = json.dumps(header, separators=(",", ":")).encode()
        blob += b" " * (-len(blob) % 8)  # the format pads the header to 8-byte alignment
        self._file = self.path.open("wb")
        self._file.write(struct.pack("<Q", len(blob)) + blob)
        self._next = 0

    def write(self, name: str, tensor: torch.Tensor) -> None:
        if self._order[self._next] != name:
            raise RuntimeError(f"tensors must be written in header order: expected {self._order[self._next]}")
        self._file.write(tensor.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        self._next += 1

    def close(self) -> None:
        self._file.close()


def merge_files(base_path: str | Path, tuned_paths: Sequence[str | Path], out_path: str | Path,
                settings: MergeSettings, progress: Progress | None = None) -> list[str]:
    """Merge safetensors checkpoints into ``out_path``; returns notes (e.g. tensors copied as is).

    Peak memory is about (len(tuned_paths) + 2) copies of the largest tensor. Output tensors
    keep the base's dtype; the maths runs in float32. Fisher merging needs Fisher files and is
    only available in memory.
    """
    if settings.method == "fisher":
        raise InputError("Fisher merging needs Fisher estimates, which checkpoint files do not carry; "
                         "use another method for the out-of-core merge.")
    check_settings(settings, len(tuned_paths))
    base = SafetensorsReader(base_path)
    tuned = [SafetensorsReader(p) for p in tuned_paths]
    try:
        layout = base.layout()
        floats = {k for k, (_, dtype) in layout.items() if dtype in _FLOATS}
        notes = check_layouts(layout, [(r.path.name, r.layout()) for r in tuned], floats)
        depth = depth_fractions(list(layout))
        meta = {**base.metadata, "paperlab_merge": json.dumps(settings.__dict__, default=list)}
        part = Path(out_path).with_suffix(".part")  # renamed when complete: no half-written output
        writer = SafetensorsWriter(part, layout, meta)
        completed = False
        try:
            for i, name in enumerate(layout):
                theta0 = base.get(name)
                if name in floats:
                    thetas = [r.get(name) for r in tuned]
                    for r, x in zip([base, *tuned], [theta0, *thetas]):
                        if not torch.isfinite(x).all():
                            raise InputError(f"{r.path.name} contains NaN or infinite values in {name}.")
                    theta0 = merge_tensor(theta0, thetas, settings, name=name, depth=depth[name])
                writer.write(name, theta0)
                report(progress, (i + 1) / len(layout), f"merged {i + 1}/{len(layout)} tensors")
            completed = True
        finally:
            writer.close()
            if not completed:
                part.unlink(missing_ok=True)
        part.replace(out_path)
    finally:
        for r in [base, *tuned]:
            r.close()
    return notes
