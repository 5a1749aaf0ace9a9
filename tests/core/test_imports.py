"""Layering: no import cycle inside hf_ser, and no hf_ser import hidden inside a function (they hide cycles)."""

import ast
from pathlib import Path

import hf_ser

ROOT = Path(hf_ser.__file__).parent


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imported(module: str, path: Path, node: ast.AST) -> list[str]:
    """The hf_ser modules an import statement names (a `from X import y` names X and X.y)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    if node.level:
        package = package[: len(package) - node.level + 1]
        head = ".".join(package + ([node.module] if node.module else []))
    else:
        head = node.module or ""
    return [head] + [f"{head}.{a.name}" for a in node.names]


def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    """Edges between hf_ser modules (every import, wherever it stands) and the imports found inside functions."""
    files = module_files()
    graph: dict[str, set[str]] = {m: set() for m in files}
    hidden = []
    for module, path in files.items():
        tree = ast.parse(path.read_text())
        nested = {
            id(n)
            for f in ast.walk(tree)
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            for n in ast.walk(f)
            if isinstance(n, (ast.Import, ast.ImportFrom))
        }
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            targets = [t for t in imported(module, path, node) if t in files and t != module]
            graph[module] |= set(targets)
            if targets and id(node) in nested:
                hidden.append(f"{module}:{node.lineno} imports {targets[0]} inside a function")
    return graph, hidden


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every cycle found by a depth-first walk, as 'a -> b -> a'."""
    found, seen, stack = set(), set(), []

    def visit(m: str) -> None:
        stack.append(m)
        seen.add(m)
        for n in sorted(graph[m]):
            if n in stack:
                found.add(" -> ".join(stack[stack.index(n) :] + [n]))
            elif n not in seen:
                visit(n)
        stack.pop()

    for m in sorted(graph):
        if m not in seen:
            visit(m)
    return sorted(found)


def test_no_import_cycle_inside_hf_ser():
    graph, _ = import_graph()
    assert len(graph) > 30  # the walk found the package
    assert cycles(graph) == []


def test_no_hf_ser_import_inside_a_function():
    _, hidden = import_graph()
    assert hidden == []


def test_the_checker_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a -> b -> c -> a"]


# The stages, bottom up (DESIGN.md "Next shape"): each imports only from its own stage and the ones below it.
STAGES = ("core", "data", "train", "infer", "hub", "experiments", "study")


def stage_of(module: str) -> str:
    """The stage a module belongs to: its first folder under hf_ser, or the core for the top-level modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in STAGES else "core"


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every edge that climbs: 'a (stage) imports b (higher stage)'."""
    rank = {s: i for i, s in enumerate(STAGES)}
    return sorted(
        f"{a} ({stage_of(a)}) imports {b} ({stage_of(b)})"
        for a, targets in graph.items()
        for b in targets
        if rank[stage_of(b)] > rank[stage_of(a)]
    )


def test_stages_import_only_downwards_and_the_core_imports_no_stage():
    graph, _ = import_graph()
    assert {stage_of(m) for m in graph} == set(STAGES)  # every stage is a folder the walk found
    assert upward_imports(graph) == []


def test_the_checker_sees_an_upward_import():
    graph = {
        "hf_ser.labels": {"hf_ser.data.audio"},
        "hf_ser.data.audio": {"hf_ser.train.runs"},
        "hf_ser.train.runs": {"hf_ser.data.audio", "hf_ser.errors"},
        "hf_ser.study.report": {"hf_ser.experiments.recipe"},
    }
    assert upward_imports(graph) == [
        "hf_ser.data.audio (data) imports hf_ser.train.runs (train)",
        "hf_ser.labels (core) imports hf_ser.data.audio (data)",
    ]


# One file is one concern: the limits the issue "The house in stages" set, checked on every module.
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def oversized() -> list[str]:
    """Modules over MAX_MODULE_LINES lines and functions (docstring included) over MAX_FUNCTION_LINES."""
    found = []
    for module, path in module_files().items():
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            found.append(f"{module}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{module}.{node.name}: {length} lines")
    return found


def test_no_module_over_600_lines_and_no_function_over_80():
    assert oversized() == []


def test_each_stage_says_what_it_is_and_may_import():
    for stage in STAGES[1:]:
        doc = ast.get_docstring(ast.parse((ROOT / stage / "__init__.py").read_text()))
        assert doc and "import" in doc, stage
