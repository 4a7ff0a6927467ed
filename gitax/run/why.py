"""Why a job must run: how it differs from what the same build line built last time,
or else from the stored job of its method that differs least."""

from __future__ import annotations

from gitax.errors import GitaxError
from gitax.jobs.buildlog import BuildLogs, parse_record
from gitax.jobs.job import load_manifest
from gitax.jobs.manifest import Manifest
from gitax.jobs.project import Project
from gitax.jobs.withfile import untag_job
from gitax.run.jobspec import JobSpec
from gitax.store.hashing import from_jsonable, to_jsonable

MAX_CANDIDATES = 20  # the newest stored jobs of a method searched for the closest one


class Baselines:
    """What each job of a build is compared with: the job the same build line (the n-th
    call with that name) built in the script's previous recorded run; else the job built
    under that name earlier in this run (a loop); else the stored job of the method that
    differs least (newest on a tie). Read lazily, once per build."""

    def __init__(self, project: Project, script: str) -> None:
        self.project, self.script = project, script  # the build log's name, "" for none
        self.calls: dict[str, int] = {}  # name -> calls so far in this run
        self._previous: dict[str, list[tuple[str, str]]] | None = None  # name -> (method, key)
        self._by_method: dict[str, list[Manifest]] | None = None
        self._last: dict[str, Manifest] = {}  # name -> the job it last built in this run

    def call(self, name: str) -> int:
        """Count a call of `name` (every urd.build, reused or not); its number, from 0."""
        n = self.calls.get(name, 0)
        self.calls[name] = n + 1
        return n

    def for_call(self, name: str, n: int, spec: JobSpec) -> Manifest | None:
        """The job to compare call number `n` of `name` with (None: a new method)."""
        earlier = self._previous_calls().get(name, [])
        if n < len(earlier) and earlier[n][0] == spec.method.name:
            try:
                return load_manifest(self.project, earlier[n][1])
            except GitaxError:
                pass  # collected, or never pulled: fall back to the closest
        last = self._last.get(name)
        if last is not None and last.method == spec.method.name:
            return last
        return self.closest(spec)

    def closest(self, spec: JobSpec) -> Manifest | None:
        """The stored job of the method with the fewest differences from `spec`."""
        found = self._stored().get(spec.method.name, [])
        if not found:
            return None
        return min(found, key=lambda m: len(differences(spec, m)))  # min keeps the newest

    def _previous_calls(self) -> dict[str, list[tuple[str, str]]]:
        if self._previous is None:
            self._previous = {}
            if not self.script:
                return self._previous
            try:
                entries = BuildLogs(self.project.store.builds).entries(self.script)
                if entries:
                    data = self.project.store.objects.get_bytes(entries[-1].record, "build")
                    for c in parse_record(data).calls:
                        self._previous.setdefault(c.name, []).append((c.method, c.key))
            except (GitaxError, OSError, ValueError):
                pass  # no usable record: every job falls back to the closest
        return self._previous

    def _stored(self) -> dict[str, list[Manifest]]:
        if self._by_method is None:
            found: dict[str, list[Manifest]] = {}
            for key in self.project.store.index.keys():
                try:
                    m = load_manifest(self.project, key)
                except GitaxError:
                    continue  # fsck names broken entries; a reason can do without them
                found.setdefault(m.method, []).append(m)
            for ms in found.values():
                ms.sort(key=lambda m: str(m.timing.get("finished", "")), reverse=True)
                del ms[MAX_CANDIDATES:]
            self._by_method = found
        return self._by_method

    def built(self, name: str, manifest: Manifest) -> None:
        """The job a call of `name` just built: what its next call is compared with."""
        self._last[name] = manifest  # one per name: a build's memory must stay flat


def why(spec: JobSpec, old: Manifest | None) -> list[str]:
    """Short reasons against `old`, e.g. 'option lr: 0.1 -> 0.2', 'source changed:
    methods/a_train.py'; 'new method' when there is nothing to compare with."""
    if old is None:
        return ["new method"]
    return differences(spec, old) or ["not stored (its parameters match no stored job)"]


def differences(spec: JobSpec, old: Manifest) -> list[str]:
    """How `spec` differs from the stored job `old`, one short reason per difference."""
    reasons = []
    new_sources = {s.relpath: s.object_id for s in spec.method.sources}
    own = spec.method.sources[0].relpath
    for path in sorted(set(old.sources) | set(new_sources)):
        a, b = old.sources.get(path), new_sources.get(path)
        if path == own and a in spec.method.equivalent_sources:
            continue  # declared equivalent (equivalent_hashes): not a reason
        if a != b:
            what = "added" if a is None else "removed" if b is None else "changed"
            reasons.append(f"source {what}: {path}")
    old_opts, new_opts = from_jsonable(old.options, untag_job), spec.options
    for name in sorted(set(old_opts) | set(new_opts)):
        if to_jsonable(old_opts.get(name)) != to_jsonable(new_opts.get(name)):
            reasons.append(f"option {name}: {old_opts.get(name)!r} -> {new_opts.get(name)!r}")
    old_ids = old.input_ids()
    for name, value in spec.jobs.items():
        new_ids = [j.id for j in value] if isinstance(value, list) else (value and value.id)
        if old_ids.get(name) != new_ids:
            reasons.append(f"input {name}: {old_ids.get(name)} -> {new_ids}")
    if old.slices != spec.slices:
        reasons.append(f"slices: {old.slices} -> {spec.slices}")
    return reasons
