"""The upstream graph of jobs: the one walk gc, push, pull, `Job.upstream` and lineage
share, and the upstream-first order, from graphlib."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from graphlib import CycleError, TopologicalSorter
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def walk(
    starts: Iterable[Node], upstream_of: Callable[[Node], Iterable[Node] | None]
) -> dict[Node, set[Node]]:
    """Every job reachable from `starts`, each asked about once: {job: the jobs it was
    built from}, in the order first reached. `upstream_of(job)` is None for a job to
    leave out, whose upstream is not walked either: one missing, or one already complete
    at the other end of a transfer. Iterative: job chains can be thousands long."""
    graph: dict[Node, set[Node]] = {}
    seen: set[Node] = set()
    todo = list(starts)[::-1]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        upstream = upstream_of(node)
        if upstream is None:
            continue
        graph[node] = set(upstream)
        todo += [n for n in graph[node] if n not in seen]
    return graph


def upstream_first(graph: dict[Node, set[Node]]) -> list[Node]:
    """The jobs of `graph`, each after every job upstream of it that the graph holds.
    A cycle (a subjob given its running parent as an option) is cut where graphlib
    finds it closing; the order is the same for the same graph."""
    edges = {n: sorted(graph[n] & graph.keys(), key=str) for n in sorted(graph, key=str)}
    while True:
        sorter: TopologicalSorter[Node] = TopologicalSorter()
        for node, upstream in edges.items():
            sorter.add(node, *upstream)
        try:
            return list(sorter.static_order())
        except CycleError as e:
            cycle = e.args[1]  # each node an immediate predecessor of the next
            edges[cycle[1]].remove(cycle[0])
