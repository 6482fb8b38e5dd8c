"""The layers hold at module level too: no import cycle anywhere in vss (`make lint` checks
the contracts between packages with import-linter; this checks every module)."""

from __future__ import annotations

import grimp


def test_no_module_of_vss_imports_itself_back():
    graph = grimp.build_graph("vss")
    cycles = [
        (module, *chain)
        for module in sorted(graph.modules)
        for imported in sorted(graph.find_modules_directly_imported_by(module))
        if (chain := graph.find_shortest_chain(importer=imported, imported=module))
    ]
    assert cycles == []


def test_the_handler_contract_and_deps_import_nothing_above_the_ports():
    graph = grimp.build_graph("vss")
    allowed = ("vss.domain", "vss.ports", "vss.config", "vss.handler_config", "vss.errors",
               "vss.redaction", "vss.stage_handler", "vss.metering")
    for leaf in ("vss.stage_handler", "vss.deps"):
        above = {m for m in graph.find_upstream_modules(leaf) if not m.startswith(allowed)}
        assert above == set(), leaf


def test_tests_share_helpers_only_through_tests_support():
    """A test module imports helpers from tests.support, never from another test module."""
    import ast

    from tests.support.paths import ROOT

    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests."):
                module = node.module or ""
                if not module.startswith("tests.support") or any(
                        alias.name.startswith("_") for alias in node.names):
                    offenders.append(f"{path.relative_to(ROOT)}: from {module}")
    assert offenders == []


def test_every_exception_the_edge_cli_raises_is_an_edge_error():
    """The CLI prints any of them as one line (`EdgeError.describe`), never a traceback."""
    import importlib
    import inspect
    import pkgutil

    import vss.edge
    from vss.edge.errors import EdgeError

    raised = [
        cls
        for info in pkgutil.walk_packages(vss.edge.__path__, "vss.edge.")
        for _, cls in inspect.getmembers(importlib.import_module(info.name), inspect.isclass)
        if cls.__module__ == info.name and issubclass(cls, BaseException)
    ]
    assert len(raised) >= 10
    assert [c.__name__ for c in raised if not issubclass(c, EdgeError)] == []
