"""`gitax ds`, `gitax cat`, `gitax grep`: a dataset's description, its rows, and the rows
matching a pattern (exax's `ax ds`, `ax cat`, `ax grep`)."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import click

from gitax.cli.main import Context

DATASET_ARG = "JOB[/NAME]"


def _open(ctx: Context, ref: str) -> Any:
    from gitax.jobs.dataset import Dataset

    return Dataset(ref, project=ctx.project())


def _columns(ds: Any, given: str | None) -> list[str]:
    cols = sorted(ds.columns) if not given else [c for c in given.split(",") if c]
    for c in cols:
        if c not in ds.columns:
            from gitax.jobs.dstypes import DatasetError

            have = ", ".join(sorted(ds.columns))
            raise DatasetError(f"{ds} has no column {c!r}; columns: {have}")
    return cols


def _ref(ref: Any) -> str:
    if not ref:
        return "-"
    return str(ref["id"]) if ref["name"] == "default" else f"{ref['id']}/{ref['name']}"


def describe(ds: Any) -> dict[str, Any]:
    """A dataset as JSON-able data: what `gitax ds --json` prints."""
    chain = ds.chain()
    return {
        "dataset": str(ds),
        "job": ds.job.id,
        "name": ds.name,
        "caption": ds.caption,
        "hashlabel": ds.hashlabel,
        "previous": _ref(ds.meta.get("previous")) if ds.meta.get("previous") else None,
        "parent": _ref(ds.meta.get("parent")) if ds.meta.get("parent") else None,
        "lines": ds.lines,
        "shape": list(ds.shape),
        "columns": {
            name: {
                "type": c["type"],
                "none_support": c["none_support"],
                "min": c["min"],
                "max": c["max"],
                "stored_in": _ref(c["in"]) if c.get("in") else str(ds),
            }
            for name, c in sorted(ds.meta["columns"].items())
        },
        "chain": [str(d) for d in chain],
        "chain_lines": chain.lines(),
    }


@click.command()
@click.argument("dataset", metavar=DATASET_ARG)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.option("--files", is_flag=True, help="List the Arrow files holding the rows, one a line.")
@click.pass_obj
def ds(ctx: Context, dataset: str, as_json: bool, files: bool) -> None:
    """A dataset's columns and types, lines per slice, hashlabel, parent and chain."""
    d = _open(ctx, dataset)
    if files:
        click.echo("\n".join(str(p) for p in d.files()))
        return
    info = describe(d)
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    width = max([len(c) for c in info["columns"]] + [6])
    lines = [
        f"dataset   {info['dataset']}" + (f"  ({info['caption']})" if info["caption"] else ""),
        f"lines     {sum(info['lines']):,} in {len(info['lines'])} slices: "
        + ", ".join(f"{n:,}" for n in info["lines"]),
        f"hashlabel {info['hashlabel'] or '-'}",
        f"previous  {info['previous'] or '-'}",
        f"parent    {info['parent'] or '-'}",
        f"chain     {len(info['chain'])} datasets, {info['chain_lines']:,} lines",
        f"columns   {len(info['columns'])}",
    ]
    for name, c in info["columns"].items():
        kind = c["type"] + (" (None ok)" if c["none_support"] else "")
        minmax = "" if c["min"] is None else f"  min {d.min(name)!r}  max {d.max(name)!r}"
        where = "" if c["stored_in"] == info["dataset"] else f"  in {c['stored_in']}"
        lines.append(f"  {name:<{width}}  {kind:<18}{minmax}{where}")
    click.echo("\n".join(lines))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def _rows(d: Any, cols: list[str], sliceno: int | None, chain: bool) -> Iterator[Any]:
    if chain:
        return d.iterate_chain(sliceno, cols, status_reporting=False)  # type: ignore[no-any-return]
    return d.iterate(sliceno, cols, status_reporting=False)  # type: ignore[no-any-return]


def _writer(as_csv: bool) -> Any:
    if as_csv:
        return csv.writer(sys.stdout, lineterminator="\n").writerow

    def tsv(row: list[str]) -> None:
        clean = [v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n") for v in row]
        sys.stdout.write("\t".join(clean) + "\n")

    return tsv


_slice_opt = click.option("--slice", "sliceno", type=int, help="Only this slice.")
_chain_opt = click.option("--chain", is_flag=True, help="Every dataset of the chain, oldest first.")
_columns_opt = click.option("--columns", help="Comma-separated columns (default: all, by name).")
_csv_opt = click.option("--csv", "as_csv", is_flag=True, help="CSV instead of tab-separated.")


@click.command()
@click.argument("dataset", metavar=DATASET_ARG)
@click.option("-n", "limit", type=int, help="At most N rows.")
@_columns_opt
@_slice_opt
@_chain_opt
@_csv_opt
@click.option("--no-header", is_flag=True, help="Leave out the line of column names.")
@click.pass_obj
def cat(
    ctx: Context,
    dataset: str,
    limit: int | None,
    columns: str | None,
    sliceno: int | None,
    chain: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """A dataset's rows, tab-separated (or CSV), slice by slice."""
    d = _open(ctx, dataset)
    cols = _columns(d, columns)
    write = _writer(as_csv)
    if not no_header:
        write(cols)
    for i, row in enumerate(_rows(d, cols, sliceno, chain)):
        if limit is not None and i >= limit:
            break
        write([_text(v) for v in row])


@click.command()
@click.argument("pattern")
@click.argument("dataset", metavar=DATASET_ARG)
@click.argument("search", nargs=-1, metavar="[COLUMN]...")
@click.option("-i", "ignore_case", is_flag=True, help="Ignore case.")
@click.option("-v", "invert", is_flag=True, help="Rows that do not match.")
@click.option("-n", "limit", type=int, help="At most N rows.")
@_columns_opt
@_slice_opt
@_chain_opt
@_csv_opt
@click.pass_obj
def grep(
    ctx: Context,
    pattern: str,
    dataset: str,
    search: tuple[str, ...],
    ignore_case: bool,
    invert: bool,
    limit: int | None,
    columns: str | None,
    sliceno: int | None,
    chain: bool,
    as_csv: bool,
) -> None:
    """The rows of a dataset with a value matching PATTERN (a Python regular expression),
    in the named columns or any column."""
    try:
        regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as e:
        raise click.BadParameter(f"{pattern!r} is not a regular expression: {e}") from None
    d = _open(ctx, dataset)
    cols = _columns(d, columns)
    searched = _columns(d, ",".join(search)) if search else cols
    read = cols + [c for c in searched if c not in cols]
    at = [read.index(c) for c in searched]
    write = _writer(as_csv)
    shown = 0
    for row in _rows(d, read, sliceno, chain):
        text = [_text(v) for v in row]
        if any(regex.search(text[i]) for i in at) != invert:
            write(text[: len(cols)])
            shown += 1
            if limit is not None and shown >= limit:
                break
    if not shown:
        raise click.exceptions.Exit(1)  # as grep: nothing matched
