"""Run one task per resource in dependency order, independent ones at the same time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

#: Resource tasks in flight at once. Provider calls are in-process and short, so a few
#: threads overlap their I/O (code unpacking, commits) without thrashing two cores.
MAX_PARALLEL = 4


def run_in_order(
    graph: Mapping[str, Iterable[str]],
    work: Callable[[str], None],
    *,
    max_parallel: int = MAX_PARALLEL,
) -> list[tuple[str, BaseException]]:
    """Call ``work(node)`` once each of its dependencies has succeeded.

    After the first failure no new task starts; tasks already running finish. Returns the
    failures as ``(node, exception)``, in the order they happened (empty on success).
    """
    pending = {node: set(deps) & set(graph) for node, deps in graph.items()}
    if not pending:
        return []
    if max_parallel <= 1 or len(pending) == 1:
        return _run_sequentially(pending, work)
    waiting_on: dict[str, set[str]] = {node: set() for node in pending}
    for node, deps in pending.items():
        for dep in deps:
            waiting_on[dep].add(node)
    failures: list[tuple[str, BaseException]] = []
    running: dict[Future[None], str] = {}
    with ThreadPoolExecutor(
        max_workers=min(max_parallel, len(pending)), thread_name_prefix="cfn-resource"
    ) as executor:

        def start_ready() -> None:
            for node in [n for n, deps in pending.items() if not deps]:
                del pending[node]
                running[executor.submit(work, node)] = node

        start_ready()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                node = running.pop(future)
                error = future.exception()
                if error is not None:
                    failures.append((node, error))
                    continue
                for dependent in waiting_on[node]:
                    if dependent in pending:
                        pending[dependent].discard(node)
            if not failures:
                start_ready()
    return failures


def _run_sequentially(
    pending: dict[str, set[str]], work: Callable[[str], None]
) -> list[tuple[str, BaseException]]:
    while pending:
        ready = [node for node, deps in pending.items() if not deps]
        if not ready:
            return []
        for node in ready:
            del pending[node]
            try:
                work(node)
            except Exception as error:
                return [(node, error)]
            for deps in pending.values():
                deps.discard(node)
    return []
