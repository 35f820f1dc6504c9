"""The library's import graph: no circle, no arrow to ``flows`` (imports inside functions included)."""

import ast
from graphlib import CycleError, TopologicalSorter

from conftest import ROOT

PACKAGE = ROOT / "src" / "aggregator"


def _module(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph():
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                base = node.module
                targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
        graph[name] = {t for t in targets if t in modules and t != name} | {t for t in targets if t.startswith("flows")}
    return graph


def test_the_library_never_imports_flows():
    assert not {m for m, targets in _graph().items() if any(t.startswith("flows") for t in targets)}


def test_the_import_graph_has_no_circle():
    try:
        list(TopologicalSorter(_graph()).static_order())
    except CycleError as error:
        raise AssertionError(f"import circle: {' -> '.join(error.args[1])}") from None


def test_the_settings_models_import_nothing_of_the_project():
    assert _graph()["aggregator.settings"] == set()


def test_flows_is_not_installed_as_a_top_level_package(tmp_path):
    import subprocess
    import sys

    # From another folder, the installed project exposes the library only; the CLI finds flows/ by path
    # and runs it as a program, never importing it (nor Prefect).
    script = (
        "import importlib.util, sys\n"
        "assert importlib.util.find_spec('flows') is None, 'flows is importable'\n"
        "from aggregator.cli import _flow_program\n"
        "import aggregator.cli\n"
        "assert not any(m == 'flows' or m.startswith(('flows.', 'prefect')) for m in sys.modules), 'imported'\n"
        "print(_flow_program('nightly'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(ROOT / "flows" / "nightly.py")


def test_normalisation_imports_neither_the_adapters_nor_the_http_client():
    # Worker processes import normalisation before they take their first partition: the adapters and
    # their HTTP client (requests-cache and its backends) would add 0.6 s to every run's start.
    graph, seen, todo = _graph(), set(), ["aggregator.normalise", "aggregator.workers"]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    assert not {m for m in seen if m.startswith(("aggregator.sources", "aggregator.http"))}
