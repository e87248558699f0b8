"""The package's import layering (README, "Where things live"): no import runs back up."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "deepilst"
# a module may import modules of its own layer or of lower layers, never of a higher one
LAYERS = [
    {"errors"},
    {"units", "__init__"},
    {"rdf", "stats", "xvg", "fileio", "binning", "versions"},
    {"potentials", "thermo", "phase", "results", "sampling", "plots", "rdfio", "snippets",
     "checks", "freeenergy"},
    {"md", "molecular"},
    {"runner", "fit"},
    {"dataset"},
    {"model"},
    {"predict"},
    {"validate", "study", "batch", "cg", "maps"},
    {"cli"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _top(module: str) -> str:
    return module.split(".")[1] if module.startswith("deepilst.") else "__init__"


def _imports(path: Path) -> set[str]:
    """Every deepilst module imported anywhere in the file (top level or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "deepilst":
                out |= {f"deepilst.{a.name}" for a in node.names}
            elif node.module.startswith("deepilst."):
                out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("deepilst")}
    return out


def test_every_module_has_a_layer():
    tops = {p.stem if p.parent == PKG else p.relative_to(PKG).parts[0] for p in PKG.rglob("*.py")}
    assert tops <= set(LAYER), sorted(tops - set(LAYER))


def test_no_import_runs_back_up_the_layering():
    bad = []
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG)
        me = rel.stem if len(rel.parts) == 1 else rel.parts[0]
        for mod in _imports(p):
            other = _top(mod)
            if other == "__version__":
                continue
            if LAYER[other] > LAYER[me]:
                bad.append(f"{rel} imports {mod} (layer {LAYER[other]} > {LAYER[me]})")
    assert not bad, "\n".join(sorted(bad))


def test_no_file_over_350_lines():
    long = {str(p.relative_to(PKG)): n for p in PKG.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 350}
    assert not long, long


def test_modules_import_each_other_without_cycles():
    graph: dict[str, set[str]] = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG)
        me = rel.stem if len(rel.parts) == 1 else rel.parts[0]
        graph.setdefault(me, set()).update(
            t for t in map(_top, _imports(p)) if t not in (me, "__version__", "__init__"))
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        state[n] = 1
        for m in graph.get(n, ()):
            assert state.get(m) != 1, " -> ".join([*path, n, m])
            if m not in state:
                visit(m, [*path, n])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [])
