"""Writing datasets: exax's DatasetWriter, writing Arrow IPC files slice by slice.

A writer made in prepare() is shared by the forked slices: each slice writes its own file
and reports its line count and min/max back with its result; the job process finishes every
writer when the job ends, and the descriptions go into the manifest. A job that fails
stores nothing, so a half-written dataset is never seen.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from gitax.jobs import dataset as dsread
from gitax.jobs.dataset import DEFAULT, Dataset, check_name, ref_of, slice_file
from gitax.jobs.dstypes import (
    MINMAX_TYPES,
    UNHASHABLE,
    DatasetError,
    arrow,
    arrow_type,
    batch_problem,
    check_type,
    check_values,
    compute,
    slice_of,
    to_arrow_array,
)
from gitax.store.hashing import from_jsonable, to_jsonable

BATCH = 1 << 16  # rows buffered before they become one Arrow record batch
DATASET_FORMAT = 1


class _SliceOut:
    """One slice being written: buffered rows, the open Arrow file, lines and min/max."""

    def __init__(self, sliceno: int, path: str, schema: Any) -> None:
        self.sliceno, self.path, self.schema = sliceno, path, schema
        self.rows: list[tuple[Any, ...]] = []
        self.writer: Any = None
        self.lines = 0
        self.minmax: dict[str, list[Any]] = {}

    def open(self) -> Any:
        if self.writer is None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self.writer = arrow().ipc.new_file(self.path, self.schema)
        return self.writer


class DatasetWriter:
    """Writes one dataset of the running job: `add` columns, then `write` rows."""

    def __init__(
        self,
        job: Any,
        name: str,
        phase: str,
        slices: int,
        hashlabel: str | None = None,
        previous: Any = None,
        parent: Any = None,
        caption: str | None = None,
        allow_missing_slices: bool = False,
    ) -> None:
        self.job, self.name, self.phase, self.slices = job, check_name(name), phase, slices
        self.hashlabel = hashlabel
        self.previous = None if previous is None else Dataset(previous, project=job.project)
        self.parent = None if parent is None else Dataset(parent, project=job.project)
        self.caption = caption or ""
        self.allow_missing_slices = allow_missing_slices
        self.columns: dict[str, tuple[str, bool]] = {}  # name -> (type, none support)
        self._slices: dict[int, _SliceOut] = {}
        self._done: dict[int, dict[str, Any]] = {}  # closed slices: lines, min/max
        self._current: int | None = None
        self._mode: str | None = None  # "slice" (one at a time), "split" or "arrow" (any)
        self.finished: Dataset | None = None
        if self.parent is not None:
            ph = self.parent.hashlabel
            if hashlabel is not None and ph is not None and hashlabel != ph:
                raise DatasetError(
                    f"dataset {name!r}: hashlabel {hashlabel!r} differs from its parent's {ph!r}"
                )
            if len(self.parent.lines) != slices:
                raise DatasetError(
                    f"dataset {name!r}: parent {self.parent} has {len(self.parent.lines)} "
                    f"slices, this job {slices}"
                )

    # -- columns ---------------------------------------------------------------------------

    def add(self, column: str, type: str, none_support: bool = False) -> None:
        """Add a column of one of exax's types (see gitax.jobs.dstypes.TYPES)."""
        if self._started:
            raise DatasetError(f"dataset {self.name!r}: add every column before writing rows")
        if not isinstance(column, str) or not column:
            raise DatasetError(f"dataset {self.name!r}: a column name is a non-empty string")
        if column in self.columns:
            raise DatasetError(f"dataset {self.name!r}: column {column!r} is added twice")
        self.columns[column] = (check_type(type), bool(none_support))

    @property
    def _started(self) -> bool:
        return bool(self._slices or self._done)

    def _schema(self) -> Any:
        pa = arrow()
        fields = [
            pa.field(c, arrow_type(t), nullable=n, metadata={"gitax.type": t})
            for c, (t, n) in self.columns.items()
        ]
        return pa.schema(fields, metadata={"gitax.dataset": self.name})

    def _check_ready(self) -> None:
        if self.finished is not None:
            raise DatasetError(f"dataset {self.name!r} is finished; no more rows")
        if not self.columns:
            raise DatasetError(f"dataset {self.name!r} has no columns; add() some first")
        hl = self.hashlabel
        if hl is not None and hl not in self.columns:
            if self.parent is None or hl not in self.parent.columns:
                raise DatasetError(f"dataset {self.name!r}: hashlabel {hl!r} is not a column")
        if hl is not None and hl in self.columns and self.columns[hl][0] in UNHASHABLE:
            raise DatasetError(
                f"dataset {self.name!r}: a {self.columns[hl][0]} column cannot be a hashlabel"
            )

    def _out(self, sliceno: int) -> _SliceOut:
        out = self._slices.get(sliceno)
        if out is None:
            if sliceno in self._done:
                raise DatasetError(f"dataset {self.name!r}: slice {sliceno} is written already")
            self._check_ready()
            path = os.path.join(self.job.path, slice_file(self.name, sliceno))
            out = self._slices[sliceno] = _SliceOut(sliceno, path, self._schema())
        return out

    # -- writing ---------------------------------------------------------------------------

    def enter_slice(self, sliceno: int) -> None:
        """Called in a forked analysis slice: rows written here go to this slice."""
        self._current, self._mode = sliceno, "slice"
        self._bind(self._out(sliceno))

    def set_slice(self, sliceno: int) -> None:
        """Write the following rows to slice `sliceno` (in prepare or synthesis)."""
        if self.phase == "analysis":
            raise DatasetError("in analysis, each slice writes its own rows; no set_slice()")
        if self._mode == "split":
            raise DatasetError(f"dataset {self.name!r}: use set_slice() or a split writer")
        if not 0 <= sliceno < self.slices:
            raise DatasetError(f"dataset {self.name!r}: no slice {sliceno} (0-{self.slices - 1})")
        if self._current is not None and self._current != sliceno:
            self._close(self._current)
        self._current, self._mode = sliceno, "slice"
        self._bind(self._out(sliceno))

    def _bind(self, out: _SliceOut) -> None:
        rows, n, flush = out.rows, len(self.columns), self._flush

        def write(*values: Any) -> None:
            if len(values) != n:
                raise self._arity(len(values))
            rows.append(values)
            if len(rows) >= BATCH:
                flush(out)

        self.write = write  # type: ignore[method-assign]

    def write(self, *values: Any) -> None:
        """Write one row, its values in the order the columns were added."""
        raise DatasetError(
            f"dataset {self.name!r}: no slice to write to; call set_slice(n) first, or write "
            "in analysis()"
        )

    def write_list(self, values: list[Any] | tuple[Any, ...]) -> None:
        """Write one row given as a list."""
        self.write(*values)

    def write_dict(self, values: dict[str, Any]) -> None:
        """Write one row given as {column: value}."""
        missing = set(self.columns) - set(values)
        if missing:
            raise DatasetError(f"dataset {self.name!r}: write_dict lacks {sorted(missing)}")
        self.write(*(values[c] for c in self.columns))

    def _arity(self, got: int) -> DatasetError:
        return DatasetError(
            f"dataset {self.name!r}: a row of {got} values, but {len(self.columns)} columns "
            f"({', '.join(self.columns)})"
        )

    def get_split_write(self) -> Callable[..., None]:
        """A write function that puts each row in the slice its hashlabel says (round robin
        without one); for prepare or synthesis, where one process writes every slice."""
        if self.phase == "analysis":
            raise DatasetError("a split writer writes every slice: use it in synthesis")
        if self._mode == "slice":
            raise DatasetError(f"dataset {self.name!r}: use set_slice() or a split writer")
        self._check_ready()
        self._mode = "split"
        outs = [self._out(s) for s in range(self.slices)]
        n, slices, flush = len(self.columns), self.slices, self._flush
        cols = list(self.columns)
        if self.hashlabel is not None and self.hashlabel in self.columns:
            at = cols.index(self.hashlabel)

            def write(*values: Any) -> None:
                if len(values) != n:
                    raise self._arity(len(values))
                out = outs[slice_of(values[at], slices)]
                out.rows.append(values)
                if len(out.rows) >= BATCH:
                    flush(out)
        else:
            turn = [0]

            def write(*values: Any) -> None:
                if len(values) != n:
                    raise self._arity(len(values))
                out = outs[turn[0]]
                turn[0] = (turn[0] + 1) % slices
                out.rows.append(values)
                if len(out.rows) >= BATCH:
                    flush(out)

        return write

    def get_split_write_list(self) -> Callable[[Any], None]:
        """get_split_write for rows given as lists."""
        w = self.get_split_write()
        return lambda values: w(*values)

    def get_split_write_dict(self) -> Callable[[dict[str, Any]], None]:
        """get_split_write for rows given as {column: value}."""
        w, cols = self.get_split_write(), list(self.columns)
        return lambda values: w(*(values[c] for c in cols))

    def write_arrow(self, table: Any, sliceno: int | None = None) -> None:
        """Write a pyarrow Table or RecordBatch to a slice (in analysis, this slice; else
        the one set, or `sliceno`, which leaves other slices open), its columns by name,
        cast to the columns' types: the vectorised way in."""
        s = self._current if sliceno is None or self.phase == "analysis" else sliceno
        if s is None or (sliceno is not None and sliceno != s):
            raise DatasetError(
                f"dataset {self.name!r}: write_arrow needs a slice (set_slice, or sliceno= "
                "outside analysis); in analysis it writes the running slice"
            )
        if not 0 <= s < self.slices:
            raise DatasetError(f"dataset {self.name!r}: no slice {s} (0-{self.slices - 1})")
        if self._mode is None:
            self._mode = "arrow"
        out = self._out(s)
        self._flush(out)
        missing = [c for c in self.columns if c not in table.column_names]
        if missing:
            raise DatasetError(f"dataset {self.name!r}: write_arrow lacks column {missing[0]!r}")
        arrays = []
        for c, (t, none_ok) in self.columns.items():
            try:
                arr = table.column(c).cast(arrow_type(t))
            except (arrow().ArrowException, ValueError, TypeError) as e:
                raise DatasetError(
                    f"dataset {self.name!r}, column {c!r}, slice {s}: cannot be {t}: {e}"
                ) from None
            if arr.null_count and not none_ok:
                raise DatasetError(
                    f"dataset {self.name!r}, column {c!r}, slice {s}: None, and the column has "
                    "no None support (add it with none_support=True)"
                )
            arrays.append(arr)
        batch = arrow().Table.from_arrays(arrays, schema=out.schema)
        self._check_hash(s, batch, out.lines)
        self._record(out, batch)

    def _flush(self, out: _SliceOut) -> None:
        if not out.rows:
            return
        rows, out.rows[:] = list(out.rows), []
        sliceno = out.sliceno
        pa = arrow()
        arrays = []
        for i, (col, (t, none_ok)) in enumerate(self.columns.items()):
            values = [r[i] for r in rows]
            problem = batch_problem(t, none_ok, values)
            arr = None
            if problem is None:
                try:
                    arr = to_arrow_array(t, values)
                except (TypeError, ValueError, OverflowError, pa.ArrowException) as e:
                    problem = check_values(t, none_ok, values) or (0, f"not stored: {e}")
            if problem is not None:
                row, reason = problem
                raise DatasetError(
                    f"dataset {self.name!r}, column {col!r}, slice {sliceno}, row "
                    f"{out.lines + row}: {values[row]!r} is {reason}"
                )
            arrays.append(arr)
        batch = pa.RecordBatch.from_arrays(arrays, schema=out.schema)
        if self._mode != "split":  # a split writer put each row where it belongs
            self._check_hash(sliceno, batch, out.lines)
        self._record(out, batch)

    def _check_hash(self, sliceno: int, batch: Any, first_row: int) -> None:
        """Refuse rows written to a slice their hashlabel value does not belong to."""
        hl = self.hashlabel
        if hl is None or hl not in self.columns:
            return
        values = batch.column(list(self.columns).index(hl)).to_pylist()
        for i, v in enumerate(values):
            if slice_of(v, self.slices) != sliceno:
                raise DatasetError(
                    f"dataset {self.name!r}, slice {sliceno}, row {first_row + i}: hashlabel "
                    f"{hl!r} value {v!r} belongs in slice {slice_of(v, self.slices)}; write "
                    "with get_split_write() in synthesis, or rehash with dataset_hashpart"
                )

    def _record(self, out: _SliceOut, batch: Any) -> None:
        writer = out.open()
        # Record batches of BATCH rows at most: a reader streams one at a time, so its
        # memory is a batch's, not a slice's.
        for start in range(0, batch.num_rows, BATCH):
            writer.write(batch.slice(start, BATCH))
        out.lines += batch.num_rows
        pc = compute()
        for col, (t, _) in self.columns.items():
            if t not in MINMAX_TYPES or not batch.num_rows:
                continue
            arr = batch.column(col)
            if hasattr(arr, "combine_chunks"):
                arr = arr.combine_chunks()
            if t == "number":
                parts = [arr.field(0), arr.field(1)]
            else:
                parts = [arr]
            for part in parts:
                mm = pc.min_max(part).as_py() if len(part) else None
                if mm and mm["min"] is not None:
                    _merge_minmax(out.minmax, col, mm["min"], mm["max"])

    def _close(self, sliceno: int) -> dict[str, Any]:
        out = self._slices.pop(sliceno)
        self._flush(out)
        out.open().close()  # an empty slice is an empty file, so every slice has one
        info = {"lines": out.lines, "minmax": {c: to_jsonable(v) for c, v in out.minmax.items()}}
        self._done[sliceno] = info
        if self._current == sliceno:
            self._current = None
            self.__dict__.pop("write", None)
        return info

    def close_slice(self, sliceno: int) -> dict[str, Any] | None:
        """Called when an analysis slice ends: close its file; what the job process needs."""
        if sliceno not in self._slices:
            return None
        return self._close(sliceno)

    def merge_slice(self, sliceno: int, info: dict[str, Any]) -> None:
        """In the job process: a slice's file is written; note its lines and min/max."""
        self._done[sliceno] = info

    # -- finishing -------------------------------------------------------------------------

    def finish(self) -> Dataset:
        """Close every slice and describe the dataset; the job stores it when it ends."""
        if self.finished is not None:
            return self.finished
        if self.job.phase == "analysis":
            raise DatasetError(f"dataset {self.name!r}: finish it in synthesis, or let it be")
        for s in list(self._slices):
            self._close(s)
        missing = [s for s in range(self.slices) if s not in self._done]
        if missing and not self.allow_missing_slices and self._mode is not None:
            raise DatasetError(
                f"dataset {self.name!r}: slices {missing} were never written; write them "
                "(set_slice) or pass allow_missing_slices=True"
            )
        if not self.columns and self.parent is None:
            raise DatasetError(f"dataset {self.name!r} has no columns; add() some first")
        for s in missing:
            self._out(s)
            self._close(s)
        self.finished = Dataset.made(self.job, self.name, self.describe())
        self.job.finished_datasets[self.name] = self.finished.meta
        return self.finished

    def describe(self) -> dict[str, Any]:
        """The dataset's description, as the manifest stores it (docs/format.md)."""
        lines = [self._done[s]["lines"] for s in range(self.slices)]
        columns: dict[str, Any] = {}
        parent = self.parent
        if parent is not None:
            if parent.lines != lines and self.columns:
                raise DatasetError(
                    f"dataset {self.name!r}: slices have {lines} rows, but parent {parent} has "
                    f"{parent.lines}; a dataset adds columns to every row of its parent"
                )
            lines = parent.lines
            for col, c in parent.meta["columns"].items():
                columns[col] = {**c, "in": c.get("in") or ref_of(parent.job, parent.name)}
        for col, (t, none_ok) in self.columns.items():
            lo = hi = None
            for s in range(self.slices):
                mm = self._done[s]["minmax"].get(col)
                if mm is not None:
                    a, b = from_jsonable(mm[0]), from_jsonable(mm[1])
                    lo = a if lo is None or a < lo else lo
                    hi = b if hi is None or b > hi else hi
            columns[col] = {
                "type": t,
                "none_support": none_ok,
                "min": to_jsonable(lo),
                "max": to_jsonable(hi),
                "in": None,
            }
        hashlabel = self.hashlabel
        if hashlabel is None and parent is not None:
            hashlabel = parent.hashlabel
        return {
            "format": DATASET_FORMAT,
            "columns": columns,
            "lines": lines,
            "hashlabel": hashlabel,
            "caption": self.caption,
            "previous": None if self.previous is None else _ref(self.previous),
            "parent": None if parent is None else _ref(parent),
        }


def _ref(ds: Dataset) -> dict[str, str]:
    return ref_of(ds.job, ds.name)


def _merge_minmax(found: dict[str, list[Any]], col: str, lo: Any, hi: Any) -> None:
    have = found.get(col)
    if have is None:
        found[col] = [lo, hi]
    else:
        have[0] = lo if lo < have[0] else have[0]
        have[1] = hi if hi > have[1] else have[1]


def link(
    job: Any,
    source: Dataset,
    name: str = DEFAULT,
    column_filter: Iterable[str] | None = None,
    override_previous: Any = False,
) -> Dataset:
    """Make `source` a dataset of the running job, pointing at its files (no copy)."""
    name = check_name(name)
    if name in job.finished_datasets or name in job.writers:
        raise DatasetError(f"{job.id} already has a dataset {name!r}")
    meta = dict(source.meta)
    cols = source.meta["columns"]
    if column_filter is not None:
        keep = list(column_filter)
        unknown = [c for c in keep if c not in cols]
        if unknown:
            raise DatasetError(f"{source} has no column {unknown[0]!r}")
        cols = {c: cols[c] for c in keep}
        if meta["hashlabel"] not in cols:
            meta["hashlabel"] = None
    meta["columns"] = {c: {**v, "in": v.get("in") or _ref(source)} for c, v in cols.items()}
    if override_previous is not False:
        prev = override_previous
        meta["previous"] = None if prev is None else _ref(Dataset(prev, project=job.project))
    job.finished_datasets[name] = meta
    return Dataset.made(job, name, meta)


def start_slice(job: Any, sliceno: int) -> None:
    """In a forked analysis slice: every writer made in prepare writes to this slice."""
    for w in job.writers.values():
        if w.finished is None:
            w.enter_slice(sliceno)


def end_slice(job: Any, sliceno: int) -> dict[str, Any]:
    """In a forked analysis slice that ended well: close its files; what each wrote."""
    done = {}
    for name, w in job.writers.items():
        info = w.close_slice(sliceno)
        if info is not None:
            done[name] = info
            job.written.add(slice_file(name, sliceno))
    return done


def merge_slice(job: Any, sliceno: int, done: dict[str, Any]) -> None:
    """In the job process: what slice `sliceno` wrote."""
    for name, info in done.items():
        job.writers[name].merge_slice(sliceno, info)


def finish_all(job: Any) -> dict[str, Any]:
    """When the job ends: finish every writer; the descriptions for the manifest."""
    for w in job.writers.values():
        w.finish()
    for name, meta in job.finished_datasets.items():
        if any(c.get("in") is None for c in meta["columns"].values()):
            job.written.update(slice_file(name, s) for s in range(len(meta["lines"])))
    return dict(job.finished_datasets)


def preload() -> None:
    """Import pyarrow now: the job reads datasets, and slices forked after this share it.
    Converting an array once also makes pyarrow import pandas, if installed, which it
    does on first use (a quarter of a second here) and would do in every slice."""
    compute()
    arrow().array([0]).to_numpy(zero_copy_only=False)


def install_hooks(job: Any, status: Callable[[str], Any]) -> None:
    """Let datasets read in this job report progress, and link_to_here reach this job."""
    dsread.status_hook = status
    dsread.link_hook = lambda ds, name, cf, op: link(job, ds, name, cf, op)
