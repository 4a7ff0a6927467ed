"""`gitax lineage PATH|JOB`: what a result or job was made from, all the way down."""

from __future__ import annotations

import json
from typing import Any

import click

from gitax.cli.main import Context


def tree_lines(graph: dict[str, Any]) -> list[str]:
    """An indented tree; a job reached twice is expanded once."""
    nodes, lines, shown = graph["nodes"], [], set()

    def walk(jid: str, depth: int, label: str) -> None:
        node = nodes[jid]
        pad = "  " * depth
        commit = (node["commit"] or "no commit")[:12]
        if jid in shown:
            lines.append(f"{pad}{label}{jid}  (see above)")
            return
        shown.add(jid)
        lines.append(f"{pad}{label}{jid}  built at {commit}")
        for s in node["sources"]:
            lines.append(f"{pad}    source {s['path']}  git {(s['git'] or '?')[:12]}")
        for i in node["inputs"]:
            lines.append(f"{pad}    input  {i['path']}  sha256 {i['sha256'][:16]}  {i['size']} B")
        for e in node["jobs"]:
            walk(e["id"], depth + 1, f"{e['param']} = ")

    walk(graph["root"], 0, "")
    return lines


def dot_lines(graph: dict[str, Any]) -> list[str]:
    """The graph in Graphviz dot: jobs, source files and input files, arrows downstream."""
    out = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="monospace"];']
    for jid, node in graph["nodes"].items():
        out.append(f'  "{jid}" [shape=box];')
        for s in node["sources"]:
            name = f"{s['path']}@{(s['git'] or '?')[:8]}"
            out.append(f'  "{name}" [shape=note];')
            out.append(f'  "{name}" -> "{jid}" [style=dashed];')
        for i in node["inputs"]:
            name = f"{i['path']}@{i['sha256'][:8]}"
            out.append(f'  "{name}" [shape=cylinder];')
            out.append(f'  "{name}" -> "{jid}";')
        for e in node["jobs"]:
            out.append(f'  "{e["id"]}" -> "{jid}" [label="{e["param"]}"];')
    out.append("}")
    return out


@click.command()
@click.argument("target", metavar="PATH|JOB")
@click.option("--dot", is_flag=True, help="Graphviz dot instead of a tree.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def lineage(ctx: Context, target: str, dot: bool, as_json: bool) -> None:
    """The full upstream graph of a result or job, down to input and source files."""
    from gitax.jobs.job import Job
    from gitax.jobs.lineage import lineage as build_graph
    from gitax.jobs.lineage import resolve_result

    project = ctx.project()
    entry = resolve_result(project, target, ctx.directory)
    job = Job.from_key(project, entry.key) if entry else Job(target, project)
    graph = build_graph(job)
    if entry:
        graph["result"] = {"path": entry.path, "file": entry.file, "blob": entry.blob}
    if as_json:
        click.echo(json.dumps(graph, indent=2))
        return
    lines = dot_lines(graph) if dot else tree_lines(graph)
    if entry and not dot:
        lines.insert(0, f"results/{entry.path}  = {entry.file} of")
    click.echo("\n".join(lines))
