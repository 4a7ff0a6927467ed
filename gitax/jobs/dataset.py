"""Reading datasets: exax's `Dataset` (a string `JOB/name`, or `JOB` for `default`), its
columns, lines, chain and parent, row iteration, and Arrow tables for vectorised work.

A dataset's description lives in its job's manifest (`datasets`); its rows are Arrow IPC
files in the job's folder, `DATASETS/<name>/<sliceno>.arrow` (docs/format.md). pyarrow is
imported when rows are first read, not when this module is.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitax.jobs.dstypes import DatasetError, arrow, compute, python_values, slice_of
from gitax.store.hashing import from_jsonable

DATASETS_DIR = "DATASETS"
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
DEFAULT = "default"
PIECE = 1 << 15  # rows turned into Python values at a time when iterating

# Set by the job process: `status_hook(message)` is a context manager yielding an update
# function (gitax.run.status.status), so iteration shows where it is. Outside a job: None.
status_hook: Callable[[str], Any] | None = None
# Set by the job process: link_to_here(dataset, name, column_filter, override_previous).
link_hook: Callable[..., Any] | None = None


def check_name(name: str) -> str:
    """Refuse a dataset name that cannot be a folder name of its own."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise DatasetError(
            f"bad dataset name {name!r}: use letters, digits, '_', '.' and '-' (not first)"
        )
    return name


def slice_file(name: str, sliceno: int) -> str:
    """The path, inside its job's folder, of one slice of a dataset."""
    return f"{DATASETS_DIR}/{name}/{sliceno}.arrow"


@dataclass(frozen=True)
class DatasetColumn:
    """A column: its type, whether it holds None, and the least and greatest value."""

    type: str
    none_support: bool
    min: Any
    max: Any


def ref_of(job: Any, name: str) -> dict[str, str]:
    """How a manifest names a dataset: its job's id and key, and its name."""
    return {"id": job.id, "key": job.key, "name": name}


class Dataset(str):
    """A stored dataset (or one the running job has finished). `Dataset('JOB/name')`,
    `Dataset(job, 'name')`, `Dataset('JOB')` for the default one, `Dataset({job: param})`
    for the dataset a job was given as `param`."""

    job: Any
    name: str
    meta: dict[str, Any]

    def __new__(cls, ref: Any, name: str | None = None, project: Any = None) -> Dataset:
        from gitax.jobs.job import Job, JobIdentity  # Job's own methods import this module

        if isinstance(ref, Dataset) and name is None:
            return ref
        if isinstance(ref, (tuple, list)) and len(ref) == 2 and name is None:
            ref, name = ref
        if isinstance(ref, dict):
            if len(ref) != 1 or name is not None:
                raise DatasetError("pass a single {job: dataset parameter}")
            ((job_ref, param),) = ref.items()
            job = job_ref if isinstance(job_ref, Job) else Job(str(job_ref), project)
            given = job.manifest.dataset_inputs.get(param)
            if not isinstance(given, dict):
                raise DatasetError(f"{job.id} was given no dataset {param!r}")
            return cls(Job.from_key(job.project, given["key"]), given["name"])
        if isinstance(ref, str) and not isinstance(ref, Dataset) and "/" in ref:
            if name is not None:
                raise DatasetError(f"pass {ref!r} or a name, not both")
            ref, name = ref.split("/", 1)
        if isinstance(ref, Dataset):
            ref = ref.job
        # isinstance, not hasattr(ref, "path"): a stored job's path materialises its files
        owner: Any = ref if isinstance(ref, JobIdentity) else Job(str(ref), project)
        name = check_name(name or DEFAULT)
        metas = getattr(owner, "dataset_metas", None)
        meta = metas().get(name) if metas is not None else None
        if meta is None:
            have = ", ".join(sorted(metas() if metas else ())) or "none"
            raise DatasetError(f"{owner.id} has no dataset {name!r} (it has: {have})")
        return cls.made(owner, name, meta)

    @classmethod
    def made(cls, job: Any, name: str, meta: dict[str, Any]) -> Dataset:
        """The dataset `name` of `job`, described by `meta` (no lookup)."""
        obj = str.__new__(cls, job.id if name == DEFAULT else f"{job.id}/{name}")
        obj.job, obj.name, obj.meta = job, name, meta
        return obj

    def __reduce__(self) -> Any:
        return str, (str(self),)  # as exax's: a dataset pickles as its name

    # -- what it is ---------------------------------------------------------------------------

    @property
    def columns(self) -> dict[str, DatasetColumn]:
        """{name: DatasetColumn}."""
        return {
            col: DatasetColumn(
                c["type"], c["none_support"], from_jsonable(c["min"]), from_jsonable(c["max"])
            )
            for col, c in self.meta["columns"].items()
        }

    @property
    def lines(self) -> list[int]:
        """Rows in each slice."""
        return list(self.meta["lines"])

    @property
    def shape(self) -> tuple[int, int]:
        """(columns, rows)."""
        return len(self.meta["columns"]), sum(self.meta["lines"])

    @property
    def hashlabel(self) -> str | None:
        """The column whose value says each row's slice, if any."""
        return self.meta["hashlabel"]  # type: ignore[no-any-return]

    @property
    def caption(self) -> str:
        """A line saying what the dataset is."""
        return self.meta.get("caption", "")  # type: ignore[no-any-return]

    def _linked(self, what: str) -> Dataset | None:
        ref = self.meta.get(what)
        return None if ref is None else _open_ref(self.job, ref)

    @property
    def previous(self) -> Dataset | None:
        """The dataset before this one in its chain."""
        return self._linked("previous")

    @property
    def parent(self) -> Dataset | None:
        """The dataset this one adds columns to."""
        return self._linked("parent")

    def min(self, column: str) -> Any:
        """The least value of a column (None when it has none, or no order)."""
        c = self.columns.get(column)
        return c.min if c else None

    def max(self, column: str) -> Any:
        """The greatest value of a column (None when it has none, or no order)."""
        c = self.columns.get(column)
        return c.max if c else None

    def chain(self, length: int = -1, reverse: bool = False, stop_ds: Any = None) -> DatasetChain:
        """This dataset and those before it through `previous`, oldest first (newest first
        with `reverse`), at most `length` long, ending before `stop_ds`."""
        stop = None if stop_ds is None else str(Dataset(stop_ds, project=self._project))
        found: list[Dataset] = []
        current: Dataset | None = self
        while current is not None and length != len(found) and str(current) != stop:
            found.append(current)
            current = current.previous
        return DatasetChain(found if reverse else found[::-1])

    @property
    def _project(self) -> Any:
        return self.job.project

    # -- where it is ---------------------------------------------------------------------------

    def _locations(self, columns: Iterable[str]) -> dict[Dataset, list[str]]:
        """{dataset holding the files: [columns read from it]}, in the order first needed."""
        where: dict[Dataset, list[str]] = {}
        for col in columns:
            ref = self.meta["columns"][col].get("in")
            where.setdefault(self if ref is None else self._holder(ref), []).append(col)
        return where

    def _holder(self, ref: dict[str, str]) -> Dataset:
        cache: dict[str, Dataset] = self.__dict__.setdefault("_held", {})
        key = f"{ref['key']}/{ref['name']}"
        if key not in cache:
            cache[key] = _open_ref(self.job, ref)
        return cache[key]

    def slice_path(self, sliceno: int) -> Path:
        """The Arrow file of one slice of the columns this dataset itself wrote."""
        return Path(self.job.path) / slice_file(self.name, sliceno)

    def files(self) -> list[Path]:
        """Every Arrow file holding this dataset's rows, its own and those of the datasets
        it takes columns from (which a user can open with pyarrow, polars or DuckDB)."""
        holders = self._locations(self.meta["columns"])
        return [h.slice_path(s) for h in holders for s in range(len(self.meta["lines"]))]

    def _check_columns(self, columns: Iterable[str]) -> list[str]:
        cols = list(columns)
        missing = [c for c in cols if c not in self.meta["columns"]]
        if missing:
            raise DatasetError(
                f"{self} has no column {missing[0]!r}; columns: "
                + (", ".join(sorted(self.meta["columns"])) or "none")
            )
        return cols

    def _slices(self, sliceno: int | None) -> list[int]:
        n = len(self.meta["lines"])
        if sliceno is None:
            return list(range(n))
        if isinstance(sliceno, bool) or not isinstance(sliceno, int) or not 0 <= sliceno < n:
            raise DatasetError(f"{self} has slices 0-{n - 1}, not {sliceno!r}")
        return [sliceno]

    # -- Arrow -------------------------------------------------------------------------------

    def to_arrow(self, sliceno: int | None = None, columns: Iterable[str] | None = None) -> Any:
        """The rows as a pyarrow Table, memory-mapped (no copy) from the stored files."""
        pa = arrow()
        cols = self._check_columns(sorted(self.meta["columns"]) if columns is None else columns)
        tables = [self._slice_table(s, cols) for s in self._slices(sliceno)]
        if not tables:
            return pa.table({c: pa.array([], self._arrow_type(c)) for c in cols})
        return pa.concat_tables(tables)

    def to_pandas(self, sliceno: int | None = None, columns: Iterable[str] | None = None) -> Any:
        """The rows as a pandas DataFrame (pandas must be installed)."""
        return self.to_arrow(sliceno, columns).to_pandas()

    def to_polars(self, sliceno: int | None = None, columns: Iterable[str] | None = None) -> Any:
        """The rows as a polars DataFrame (polars must be installed)."""
        try:
            import polars
        except ImportError:
            raise DatasetError("to_polars() needs polars: pip install polars") from None
        return polars.from_arrow(self.to_arrow(sliceno, columns))

    def _arrow_type(self, column: str) -> Any:
        from gitax.jobs.dstypes import arrow_type

        return arrow_type(self.meta["columns"][column]["type"])

    def _slice_table(self, sliceno: int, columns: list[str]) -> Any:
        """One slice of some columns as a Table, gathered from the files holding them."""
        pa = arrow()
        parts: dict[str, Any] = {}
        for holder, cols in self._locations(columns).items():
            table = _read_table(holder.slice_path(sliceno))
            for c in cols:
                parts[c] = table.column(c)
        lines = self.meta["lines"][sliceno]
        for c, arr in parts.items():
            if len(arr) != lines:
                raise DatasetError(f"{self} slice {sliceno}: column {c!r} has {len(arr)} rows")
        return pa.table({c: parts[c] for c in columns}) if columns else pa.table({})

    def _batches(self, sliceno: int, columns: list[str]) -> Iterator[Any]:
        """The rows of one slice as record batches of at most PIECE rows, read from each
        file holding some of the columns a batch at a time: iterating a large dataset
        holds about a batch per file in memory, never a whole slice."""
        if not columns:
            return
        pa = arrow()
        holders = list(self._locations(columns).items())
        streams = [_file_batches(h.slice_path(sliceno), cols) for h, cols in holders]
        current: list[Any] = [None] * len(streams)
        offset = [0] * len(streams)
        while True:
            for k, stream in enumerate(streams):
                while current[k] is None or offset[k] == current[k].num_rows:
                    current[k], offset[k] = next(stream, False), 0
                    if current[k] is False:
                        break
            ended = [c is False for c in current]
            if all(ended):
                return
            if any(ended):
                raise DatasetError(f"{self} slice {sliceno}: its column files differ in rows")
            n = min(PIECE, *(c.num_rows - o for c, o in zip(current, offset, strict=True)))
            arrays: dict[str, Any] = {}
            for k, ((_, cols), c) in enumerate(zip(holders, current, strict=True)):
                piece = c.slice(offset[k], n)
                offset[k] += n
                arrays.update(zip(cols, piece.columns, strict=True))
            yield pa.RecordBatch.from_arrays([arrays[c] for c in columns], names=columns)

    # -- rows -------------------------------------------------------------------------------

    def iterate(
        self,
        sliceno: int | str | None,
        columns: Any = None,
        hashlabel: str | None = None,
        range: dict[str, tuple[Any, Any]] | None = None,
        filters: Any = None,
        translators: dict[str, Any] | None = None,
        status_reporting: bool = True,
        rehash: bool = False,
    ) -> Iterator[Any]:
        """The rows of one slice (or all slices with None, one row from each slice in
        turn with "roundrobin"): tuples of `columns` (all, sorted by name, when None), or
        the bare values when `columns` is one name."""
        return Dataset.iterate_list(
            sliceno,
            columns,
            [self],
            range=range,
            hashlabel=hashlabel,
            filters=filters,
            translators=translators,
            status_reporting=status_reporting,
            rehash=rehash,
        )

    def iterate_chain(
        self,
        sliceno: int | str | None,
        columns: Any = None,
        length: int = -1,
        range: dict[str, tuple[Any, Any]] | None = None,
        reverse: bool = False,
        hashlabel: str | None = None,
        stop_ds: Any = None,
        filters: Any = None,
        translators: dict[str, Any] | None = None,
        status_reporting: bool = True,
        rehash: bool = False,
    ) -> Iterator[Any]:
        """The rows of this dataset's chain, oldest dataset first (see `chain`)."""
        return Dataset.iterate_list(
            sliceno,
            columns,
            self.chain(length, reverse, stop_ds),
            range=range,
            hashlabel=hashlabel,
            filters=filters,
            translators=translators,
            status_reporting=status_reporting,
            rehash=rehash,
        )

    @staticmethod
    def iterate_list(
        sliceno: int | str | None,
        columns: Any,
        datasets: Any,
        range: dict[str, tuple[Any, Any]] | None = None,
        hashlabel: str | None = None,
        filters: Any = None,
        translators: dict[str, Any] | None = None,
        status_reporting: bool = True,
        rehash: bool = False,
    ) -> Iterator[Any]:
        """The rows of several datasets, one after another (see `iterate`)."""
        if isinstance(datasets, (str, dict)):
            datasets = [datasets]
        dss = [Dataset(d) for d in datasets]
        if not dss:
            return iter(())
        want_tuple = not isinstance(columns, str)
        if columns is None or (isinstance(columns, dict)):
            cols = sorted(dss[0].meta["columns"]) if columns is None else sorted(columns)
        else:
            cols = [columns] if isinstance(columns, str) else list(columns)
        for d in dss:
            d._check_columns(cols)
            if hashlabel is not None and d.hashlabel != hashlabel and not rehash:
                raise DatasetError(
                    f"{d} is hashed on {d.hashlabel!r}, not {hashlabel!r}; pass rehash=True, "
                    "or make a dataset hashed on it with dataset_hashpart"
                )
        reader = _RowReader(cols, want_tuple, range, filters, translators)
        if sliceno == "roundrobin":
            slices = len(dss[0].meta["lines"])
            parts = [reader.rows(dss, s, None, False) for s in _range(slices)]
            return _roundrobin(parts)
        if isinstance(sliceno, str):
            raise DatasetError(f"sliceno is a number, None or 'roundrobin'; not {sliceno!r}")
        rehash_on = hashlabel if rehash else None
        return reader.rows(dss, sliceno, rehash_on, status_reporting)

    def link_to_here(
        self,
        name: str = DEFAULT,
        column_filter: Iterable[str] | None = None,
        override_previous: Any = False,
    ) -> Dataset:
        """Make this dataset (typically a subjob's) a dataset of the running job too,
        without copying it; `column_filter` keeps some columns, `override_previous`
        re-chains it (None unchains)."""
        if link_hook is None:
            raise DatasetError("link_to_here() works in a running job (in a method)")
        return link_hook(self, name, column_filter, override_previous)  # type: ignore[no-any-return]


_range = range  # iterate's keyword `range` shadows the builtin inside it


def _open_ref(job: Any, ref: dict[str, str]) -> Dataset:
    from gitax.jobs.job import Job

    return Dataset(Job.from_key(job.project, ref["key"]), ref["name"])


def _read_table(path: Path) -> Any:
    pa = arrow()
    try:
        source = pa.memory_map(str(path))
        with source:
            return pa.ipc.open_file(source).read_all()
    except FileNotFoundError:
        raise DatasetError(f"dataset file {path} is missing; run `gitax fsck`") from None


def _file_batches(path: Path, columns: list[str]) -> Iterator[Any]:
    """The record batches of one Arrow file, some columns of them, read one at a time."""
    pa = arrow()
    try:
        source = pa.OSFile(str(path))
    except FileNotFoundError:
        raise DatasetError(f"dataset file {path} is missing; run `gitax fsck`") from None
    with source:
        reader = pa.ipc.open_file(source)
        index = [reader.schema.get_field_index(c) for c in columns]
        for i in _range(reader.num_record_batches):
            batch = reader.get_batch(i)
            yield batch if index == list(_range(batch.num_columns)) else batch.select(index)


def _roundrobin(parts: list[Iterator[Any]]) -> Iterator[Any]:
    done = object()
    for row in itertools.chain.from_iterable(itertools.zip_longest(*parts, fillvalue=done)):
        if row is not done:
            yield row


class _RowReader:
    """Turns record batches into Python rows: range first (vectorised), then translators,
    then filters, as exax orders them."""

    def __init__(
        self,
        columns: list[str],
        want_tuple: bool,
        range: dict[str, tuple[Any, Any]] | None,
        filters: Any,
        translators: dict[str, Any] | None,
    ) -> None:
        self.columns, self.want_tuple = columns, want_tuple
        self.range = None
        if range:
            if len(range) != 1:
                raise DatasetError("range takes one column: {column: (start, stop)}")
            ((col, (lo, hi)),) = range.items()
            if lo is not None or hi is not None:
                self.range = (col, lo, hi)
        self.translators = dict(translators or {})
        self.filters = filters
        for name in [*self.translators, *(filters if isinstance(filters, dict) else ())]:
            if name not in columns:
                raise DatasetError(f"translator or filter for {name!r}, which is not iterated")
        self.read = list(columns)
        if self.range and self.range[0] not in self.read:
            self.read.append(self.range[0])

    def rows(
        self,
        datasets: list[Dataset],
        sliceno: int | None,
        rehash_on: str | None,
        report: bool,
    ) -> Iterator[Any]:
        """Every row of these datasets in one slice (or all)."""
        if rehash_on is not None:
            if sliceno is None:
                raise DatasetError("rehash=True needs one sliceno")
            return self._rehashed(datasets, int(sliceno), rehash_on, report)
        values = itertools.chain.from_iterable(
            self._batch_rows(d, s, batch) for d, s, batch in self._walk(datasets, sliceno, report)
        )
        return self._filtered(values)

    def _walk(
        self, datasets: list[Dataset], sliceno: int | None, report: bool
    ) -> Iterator[tuple[Dataset, int, Any]]:
        hook = status_hook if report else None
        with hook("iterating") if hook else contextlib.nullcontext(None) as update:
            for i, d in enumerate(datasets):
                for s in d._slices(sliceno):
                    row = 0
                    for batch in d._batches(s, self.read):
                        if update is not None:
                            update(f"{d} slice {s} ({i + 1}/{len(datasets)}), row {row:,}")
                        row += batch.num_rows
                        yield d, s, batch

    def _columns(self, d: Dataset, batch: Any) -> list[list[Any]]:
        if self.range is not None:
            pc = compute()
            col, lo, hi = self.range
            arr = batch.column(self.read.index(col))
            mask = None
            if lo is not None:
                mask = pc.greater_equal(arr, lo)
            if hi is not None:
                upper = pc.less(arr, hi)
                mask = upper if mask is None else pc.and_(mask, upper)
            batch = batch.filter(pc.fill_null(mask, False))
        types = d.meta["columns"]
        out = []
        for i, name in enumerate(self.columns):
            values = python_values(types[name]["type"], batch.column(i))
            t = self.translators.get(name)
            if isinstance(t, dict):
                values = [t.get(v) for v in values]
            elif t is not None:
                values = list(map(t, values))
            out.append(values)
        return out

    def _batch_rows(self, d: Dataset, s: int, batch: Any) -> Iterable[Any]:
        cols = self._columns(d, batch)
        return zip(*cols, strict=True) if self.want_tuple else cols[0]

    def _filtered(self, rows: Iterator[Any]) -> Iterator[Any]:
        f = self.filters
        if f is None:
            return rows
        if callable(f):
            return filter(f, rows)
        checks = [(self.columns.index(name), test) for name, test in f.items()]
        if not self.want_tuple:
            ((_, test),) = checks

            def one(v: Any) -> bool:
                return bool(v if test is None else test(v))

            return filter(one, rows)

        def keep(row: Any) -> bool:
            return all((row[i] if t is None else t(row[i])) for i, t in checks)

        return filter(keep, rows)

    def _rehashed(
        self, datasets: list[Dataset], sliceno: int, label: str, report: bool
    ) -> Iterator[Any]:
        """Rows of every slice that belong in `sliceno` by their `label` value."""
        reader = _RowReader([*self.columns, label], True, None, None, None)
        reader.range, reader.read = self.range, [*reader.read, *self.read[len(self.columns) :]]
        slices = len(datasets[0].meta["lines"])
        mine = (
            row[:-1]
            for row in reader.rows(datasets, None, None, report)
            if slice_of(row[-1], slices) == sliceno
        )
        shaped = mine if self.want_tuple else (row[0] for row in mine)
        return self._filtered(self._translated(shaped))

    def _translated(self, rows: Iterator[Any]) -> Iterator[Any]:
        if not self.translators:
            return rows
        where = [(self.columns.index(n), t) for n, t in self.translators.items()]

        def one(v: Any, t: Any) -> Any:
            return t.get(v) if isinstance(t, dict) else t(v)

        if not self.want_tuple:
            ((_, t),) = where
            return (one(v, t) for v in rows)

        def fix(row: tuple[Any, ...]) -> tuple[Any, ...]:
            out = list(row)
            for i, t in where:
                out[i] = one(out[i], t)
            return tuple(out)

        return map(fix, rows)


class DatasetChain(list[Dataset]):
    """Datasets linked by `previous`, oldest first: exax's DatasetChain."""

    def lines(self, sliceno: int | None = None) -> int:
        """Rows in one slice of every dataset, or in all slices."""
        return sum(d.lines[sliceno] if sliceno is not None else sum(d.lines) for d in self)

    def min(self, column: str) -> Any:
        """The least value of a column over the chain."""
        found = [d.min(column) for d in self if d.min(column) is not None]
        return min(found) if found else None

    def max(self, column: str) -> Any:
        """The greatest value of a column over the chain."""
        found = [d.max(column) for d in self if d.max(column) is not None]
        return max(found) if found else None

    def iterate(self, sliceno: int | str | None, columns: Any = None, **kw: Any) -> Iterator[Any]:
        """The rows of every dataset of the chain, in order."""
        return Dataset.iterate_list(sliceno, columns, list(self), **kw)
