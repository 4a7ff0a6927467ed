"""`gitax methods [NAME]` and `gitax scripts`."""

from __future__ import annotations

import json
from typing import Any

import click

from gitax.cli.main import Context


def _spec(spec: Any) -> str:
    from gitax.jobs.optiontypes import MARKERS, OptionEnumValue

    if isinstance(spec, OptionEnumValue):
        return f"{spec.enum!r} = {str(spec)!r}"
    if isinstance(spec, MARKERS) and not isinstance(spec, str):
        return repr(spec)  # OptionEnum('a b c*'), RequiredOption(int), ...
    if isinstance(spec, type):
        return f"{spec.__name__} (default None)"
    if isinstance(spec, list) and len(spec) == 1 and isinstance(spec[0], type):
        return f"list of {spec[0].__name__} (default [])"
    return f"{type(spec).__name__} = {spec!r}" if spec is not None else "any (default None)"


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def methods(ctx: Context, name: str | None, as_json: bool) -> None:
    """List methods with their descriptions, or show one method in full."""
    from gitax.jobs.methods import STANDARD_DIR, Method

    project = ctx.project()
    registry = project.methods
    if name is None:
        # A broken method is listed with its error: it must not hide the others.
        found = {
            n: m.summary if isinstance(m, Method) else f"(broken) {m}"
            for n, m in registry.loaded().items()
        }
        if as_json:
            click.echo(json.dumps(found, indent=2))
            return
        standard = {n for n, p in registry.locations().items() if p.parent == STANDARD_DIR}
        width = max((len(n) for n in found), default=0)
        own = [n for n in found if n not in standard]
        if not own:
            folders = [f.relative_to(project.root).as_posix() for f in project.config.methods]
            click.echo(
                f"no methods yet: write {folders[0]}/a_NAME.py (folders: {', '.join(folders)})"
            )
        for n in own:
            click.echo(f"{n:{width}}  {found[n]}")
        click.echo("\nstandard methods, shipped with gitax:")
        for n in sorted(standard):
            click.echo(f"{n:{width}}  {found[n]}")
        return
    m = registry.get(name)
    if as_json:
        doc = {
            "name": m.name,
            "path": str(m.path),
            "description": m.description,
            "options": {k: _spec(v) for k, v in m.options.items()},
            "jobs": {k: ("list" if v else "one") for k, v in m.jobs.items()},
            "depend_extra": list(m.depend_extra),
            "phases": list(m.phases),
            "sources": [s.relpath for s in m.sources],
            "hash": m.sources[0].object_id,
            "equivalent_hashes": None
            if m.equivalence is None
            else {
                "verifier": m.equivalence.verifier,
                "declared": m.equivalence.declared,
                "hashes": list(m.equivalence.hashes),
                "holds": m.equivalence.holds,
            },
        }
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"{m.name}  ({m.path.relative_to(project.root)})")
    if m.description:
        click.echo("\n" + m.description.strip() + "\n")
    for opt, spec in m.options.items():
        click.echo(f"option   {opt}: {_spec(spec)}")
    for job_param, is_list in m.jobs.items():
        click.echo(f"job      {job_param}{' (list)' if is_list else ''}")
    click.echo("sources  " + ", ".join(s.relpath for s in m.sources))
    click.echo(f"hash     {m.sources[0].object_id}")
    eq = m.equivalence
    if eq is not None:
        state = "holds" if eq.holds else f"does not hold: {eq.hint}"
        click.echo(f"equivalent to {', '.join(eq.hashes)} (verifier {state})")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def scripts(ctx: Context, as_json: bool) -> None:
    """List build scripts with their descriptions."""
    from gitax.run.build import list_scripts, script_description

    project = ctx.project()
    found = {
        p.relative_to(project.root).as_posix(): script_description(p) for p in list_scripts(project)
    }
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no build scripts yet: write build.py (or build_NAME.py) with a main(urd)")
    width = max((len(p) for p in found), default=0)
    for path, desc in found.items():
        click.echo(f"{path:{width}}  {desc.strip().splitlines()[0] if desc.strip() else ''}")
