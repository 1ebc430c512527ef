"""Single-file datasets, chosen by content: FER-2013 CSV, SVHN box CSV, SVHN .mat (format 1 or 2), course .h5."""
from __future__ import annotations

import csv
from pathlib import Path

from ml.data import DataFormatError, Sample

SUPPORTED = ("a FER-2013 CSV (emotion,pixels,Usage), an SVHN box CSV (image,label,left,top,width,height), "
             "an SVHN .mat (format 2 X/y, or format 1 digitStruct.mat), or the course SVHN .h5 (X_train, y_train, ...)")


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="") as handle:
            return [name.strip() for name in next(csv.reader(handle), [])]
    except UnicodeDecodeError:
        raise DataFormatError(f"{path}: not a text CSV file; expected {SUPPORTED}") from None


def _read_csv(path: Path) -> list[Sample]:
    from ml.data import fer_csv, svhn_boxes  # noqa: PLC0415 - these import ml.data

    header = _csv_header(path)
    if fer_csv.is_fer_header(header):
        return fer_csv.read(path)
    if svhn_boxes.is_box_header(header):
        return svhn_boxes.read_csv(path)
    raise DataFormatError(f"{path}: unknown CSV header {','.join(header) or '(empty)'}; expected "
                          f"{fer_csv.HEADER} or {','.join(svhn_boxes.BOX_COLUMNS)}[,split,box_index]")


def _read_hdf5(path: Path) -> list[Sample]:
    """MATLAB 7.3 files are HDF5 too: digitStruct.mat, or the course's .h5 of X_*/y_* arrays."""
    import h5py  # noqa: PLC0415

    from ml.data import svhn, svhn_boxes

    with h5py.File(path, "r") as handle:
        if "digitStruct" in handle:
            return svhn_boxes.read_digitstruct(path, handle)
        return svhn.read_h5(path, handle)


def read_file(path: str | Path) -> list[Sample]:
    """Read one dataset file, choosing the reader from its content (CSV header, HDF5 or MATLAB)."""
    import h5py  # noqa: PLC0415

    from ml.data import svhn

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".mat", ".h5", ".hdf5"):
        if h5py.is_hdf5(path):
            return _read_hdf5(path)
        if suffix == ".mat":
            return svhn.read_mat(path)
        raise DataFormatError(f"{path}: not an HDF5 file; expected {SUPPORTED}")
    raise DataFormatError(f"{path}: unsupported file type {suffix or '(none)'}; expected class folders or {SUPPORTED}")
