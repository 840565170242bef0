"""The resource scheduler: dependency order, parallel independent work, stop on failure."""

from __future__ import annotations

import threading

from headwater.deploy.scheduler import run_in_order


def test_independent_tasks_run_at_the_same_time() -> None:
    barrier = threading.Barrier(2, timeout=5)
    done: list[str] = []

    def work(node: str) -> None:
        if node in ("a", "b"):
            barrier.wait()  # would time out if a and b ran one after the other
        done.append(node)

    assert run_in_order({"a": set(), "b": set(), "c": {"a", "b"}}, work) == []
    assert done[-1] == "c"


def test_dependencies_first_and_nothing_new_after_a_failure() -> None:
    started: list[str] = []

    def work(node: str) -> None:
        started.append(node)
        if node == "b":
            raise ValueError("broken")

    graph = {"a": set(), "b": {"a"}, "c": {"b"}, "d": {"a"}}
    failures = run_in_order(graph, work, max_parallel=1)
    assert [node for node, _ in failures] == ["b"]
    assert "c" not in started
    assert started[0] == "a"
