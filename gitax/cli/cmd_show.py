"""`gitax show JOB`."""

from __future__ import annotations

import json
from typing import Any

import click

from gitax.cli.main import Context


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _ref(ref: Any) -> str:
    if ref is None:
        return "-"
    if isinstance(ref, list):
        return "[" + ", ".join(r["id"] for r in ref) + "]"
    return str(ref["id"])


def git_state(git: dict[str, Any]) -> str:
    """The commit a job or build was made at, or why there is none."""
    if git.get("commit"):
        return str(git["commit"])
    return "no commit yet (built before the first)" if git else "not in a git repository"


def profile_line(profile: dict[str, Any], slices: int) -> str:
    """prepare 0.01 s, analysis 2 slices (wall max 1.20 s, cpu 2.31 s), synthesis 0.10 s."""
    parts = []
    for phase in ("prepare", "analysis", "synthesis"):
        p = profile.get(phase)
        if not p:
            continue
        if phase == "analysis":
            walls = [s["wall"] for s in p.values()]
            cpu = sum(s["cpu"] for s in p.values())
            rss = max(s["maxrss_kib"] for s in p.values()) // 1024
            parts.append(
                f"analysis {slices} slices (wall max {max(walls):.2f} s, cpu {cpu:.2f} s, "
                f"rss max {rss} MiB)"
            )
        else:
            parts.append(f"{phase} {p['wall']:.2f} s (cpu {p['cpu']:.2f} s)")
    return ", ".join(parts) or "-"


def show_session(ctx: Context, ref: str, as_json: bool) -> None:
    """Show an urd session: list, timestamp, who, script, what it read, its jobs."""
    from gitax.cli.cmd_log import session_doc, session_lines
    from gitax.jobs.urdlog import UrdLists

    s = UrdLists(ctx.project().store.urd).resolve(ref)
    if as_json:
        click.echo(json.dumps(session_doc(s), indent=2))
        return
    lines = [
        f"session  {s.ref}",
        f"caption  {s.caption or '-'}",
        f"user     {s.user}",
        f"recorded {s.recorded}",
        f"script   {s.script or '-'}" + (f" ({s.script_blob[:12]})" if s.script_blob else ""),
        "deps     " + (", ".join(f"{a}@{b}" for a, b in s.deps) or "-"),
        f"jobs     {len(s.joblist)}",
        *session_lines(s, "  "),
    ]
    click.echo("\n".join(lines))


def show_build(ctx: Context, ref: str, as_json: bool, output: str | None) -> None:
    """Show a run of a build script: when, its git state, its jobs and why each ran."""
    from gitax.cli.cmd_log import build_lines, build_summary
    from gitax.jobs.history import load_run

    project = ctx.project()
    run = load_run(project, ref)
    r = run.record
    printed = project.store.objects.get_bytes(r.output, "blob").decode() if r.output else ""
    if output is not None:
        click.echo(printed, nl=False)
        return
    if as_json:
        click.echo(json.dumps({**run.doc(), "printed": printed}, indent=2))
        return
    git = r.git
    dirty = {True: ", dirty", False: ", clean", None: ""}[git.get("dirty")]
    lines = [
        f"build    {run.ref}",
        f"result   {build_summary(run)}",
        f"script   {r.script}" + (f" {' '.join(r.args)}" if r.args else ""),
        "sources  " + ", ".join(f"{p} ({o[:12]})" for p, o in r.sources.items()),
        f"user     {r.user}@{r.host}",
        f"timing   started {r.timing.get('started')}, wall {r.timing.get('wall', 0):.3f} s",
        f"git      {git_state(git)}{dirty}",
        f"output   {'gitax show --output ' + run.ref if printed else '-'}",
        f"jobs     {len(r.calls)}",
        *build_lines(run, "  "),
    ]
    click.echo("\n".join(lines))


def is_session_ref(ctx: Context, ref: str) -> bool:
    """LIST@TIMESTAMP, or LIST or LIST~N of an existing urd list (else `METHOD~N` is a
    job specifier)."""
    from gitax.jobs.urdlog import LIST_RE

    name = ref.split("@", 1)[0].split("~", 1)[0]
    if not LIST_RE.match(name):
        return False
    if "@" in ref:
        return True
    return (ctx.project().store.urd / f"{name}.urd").is_file()


@click.command()
@click.argument("job_ref", metavar="JOB|LIST[@TIMESTAMP|~N]|BUILD[@WHEN|~N]")
@click.option("--json", "as_json", is_flag=True, help="Everything, as JSON.")
@click.option("--source", is_flag=True, help="Print the source files the job was keyed on.")
@click.option(
    "--output",
    "output",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[PHASE]",
    help="Print what the job printed: all phases, or one (prepare, a slice number, synthesis).",
)
@click.option("--files", is_flag=True, help="List the job's files with sizes.")
@click.pass_obj
def show(
    ctx: Context, job_ref: str, as_json: bool, source: bool, output: str | None, files: bool
) -> None:
    """Show a stored job (method, params, inputs, files, value, timings, environment), an
    urd session, or a run of a build script (`build~1`, `build_daily@2024-01-05`)."""
    from gitax.jobs.describe import describe_job, file_sizes
    from gitax.jobs.history import is_build_ref
    from gitax.jobs.job import Job, phase_order

    if is_build_ref(ctx.project(), job_ref):
        show_build(ctx, job_ref, as_json, output)
        return
    if is_session_ref(ctx, job_ref):
        show_session(ctx, job_ref, as_json)
        return
    job = Job(job_ref, ctx.project())
    objects = job.project.store.objects
    printed = job.output(output or None) if output is not None else None
    if as_json:
        info = describe_job(job)
        if source:
            info["source_text"] = {
                path: objects.get_bytes(oid, "blob").decode("utf-8", "replace")
                for path, oid in job.manifest.sources.items()
            }
        if printed is not None:
            info["printed"] = printed
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    if source or files or printed is not None:
        if source:
            many = len(job.manifest.sources) > 1
            for path, oid in job.manifest.sources.items():
                if many:
                    click.echo(f"==> {path} <==")
                click.echo(objects.get_bytes(oid, "blob").decode("utf-8", "replace"), nl=False)
        if files:
            for path, entry in file_sizes(job).items():
                click.echo(f"{_size(entry['size']):>10}  {path}")
        if printed is not None:
            click.echo(printed, nl=False)
        return
    info = describe_job(job)
    t, env, git, inputs = info["timing"], info["env"], info["git"], info["inputs"]
    dists = env.get("distributions") or {}
    lines = [
        f"job      {info['id']}",
        f"method   {info['method']}",
        f"key      {info['key']}",
        "options  " + (", ".join(f"{k}={v!r}" for k, v in job.options.items()) or "-"),
        "jobs     " + (", ".join(f"{k}={_ref(v)}" for k, v in info["jobs"].items()) or "-"),
        *(
            ["given    " + ", ".join(f"{k}={v}" for k, v in job.params["datasets"].items())]
            if job.manifest.dataset_inputs
            else []
        ),
        "datasets "
        + (
            ", ".join(
                f"{name} ({len(m['columns'])} columns, {sum(m['lines']):,} lines)"
                for name, m in sorted(job.manifest.datasets.items())
            )
            or "-"
        ),
        "inputs   "
        + (
            ", ".join(f"{p} ({e['sha256'][:12]}, {_size(e['size'])})" for p, e in inputs.items())
            or "-"
        ),
        "sources  " + ", ".join(f"{p} ({o[:12]})" for p, o in info["sources"].items()),
        f"hash     {info['source_hash']} (the source hash equivalent_hashes lists)",
        "files    "
        + (", ".join(f"{p} ({_size(e['size'])})" for p, e in info["files"].items()) or "-"),
        f"value    {info['value']}",
        "output   "
        + (
            ", ".join(sorted(info["output"], key=phase_order)) + " (gitax show --output PHASE)"
            if info["output"]
            else "-"
        ),
        "subjobs  " + (", ".join(s["id"] for s in info["subjobs"]) or "-"),
        f"timing   started {t.get('started')}, wall {t.get('wall', 0):.3f} s, "
        f"cpu {t.get('cpu', 0):.3f} s, max rss {t.get('maxrss_kib', 0) // 1024} MiB",
        f"profile  {profile_line(info['profile'], info['slices'])}",
        f"env      python {env.get('python')} on {env.get('platform')}, gitax {env.get('gitax')}, "
        f"{env.get('user')}@{env.get('host')}",
        "imports  " + (", ".join(f"{d} {v}" for d, v in dists.items()) or "-"),
        f"git      {git_state(git)}",
        f"workdir  {info['workdir'] or 'evicted (rebuilt from the store on use)'}",
    ]
    click.echo("\n".join(lines))
