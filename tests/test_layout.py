"""The shape of the package, measured (issue 21): no module over 600 lines, no function over 80, and the rest of the
code knows a family by what it can do, not by its name (a kind string compared outside genexplorer/models/ is
knowledge that leaked: at most 10 left).

The dev tools (genexplorer/devtools/) are held to the same sizes and count; tests/test_devtools.py holds their
other rules (nothing of ui/, no private names)."""
import ast
from pathlib import Path

from genexplorer.explore import ROLES
from genexplorer.models import ALIASES, FAMILIES

PACKAGE = Path(__file__).resolve().parent.parent / "genexplorer"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
MAX_KIND_COMPARISONS = 10
# Every name of a family (its kind, an alias) and of a checkpoint role ("vae", "ae2d", "pix2pix-l1", ...).
NAMES = set(FAMILIES) | set(ALIASES) | set(ROLES)


def modules() -> list[tuple[str, ast.Module, int]]:
    """(path from the repository, parsed module, line count) of every module of the package, the dev tools too."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent)
        text = path.read_text()
        out.append((str(relative), ast.parse(text), len(text.splitlines())))
    return out


def long_functions(tree: ast.Module) -> list[tuple[str, int]]:
    """(name, lines) of each function or method longer than MAX_FUNCTION_LINES (its decorators not counted)."""
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def _names_a_family(node: ast.AST) -> bool:
    """A string constant that is a family's or a role's name, or a tuple / list / set holding one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value in NAMES
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_names_a_family(element) for element in node.elts)
    return False


def kind_comparisons(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, source) of each ==, !=, in, not in against a family's name, and each .startswith / .endswith of one:
    ``model.kind in ("vae", "cvae")``, ``role == "ae2d"``, ``name.startswith("pix2pix")``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and all(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn))
                                                 for op in node.ops):
            operands = [node.left, *node.comparators]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("startswith", "endswith", "removeprefix", "removesuffix")):
            operands = node.args
        else:
            continue
        if any(_names_a_family(operand) for operand in operands):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_scanner_finds_what_it_should():
    tree = ast.parse('if model.kind in ("vae", "cvae") or role == "ae2d" or n.startswith(("context", "x")):\n'
                     '    pass\nif kind == "other" or model.can("encodes") or x.startswith("ge-"):\n    pass\n')
    assert [line for line, _ in kind_comparisons(tree)] == [1, 1, 1]
    assert long_functions(ast.parse("def f():\n" + "    x = 1\n" * 80)) == [("f", 81)]
    assert long_functions(ast.parse("def f():\n" + "    x = 1\n" * 79)) == []


def test_no_module_is_over_600_lines():
    too_long = [(path, lines) for path, _, lines in modules() if lines > MAX_MODULE_LINES]
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"


def test_no_function_is_over_80_lines():
    too_long = [(path, name, lines) for path, tree, _ in modules() for name, lines in long_functions(tree)]
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines: {too_long}"


def test_outside_the_models_a_family_is_known_by_its_abilities_not_its_name():
    found = [(path, line, source) for path, tree, _ in modules() if not path.startswith("genexplorer/models/")
             for line, source in kind_comparisons(tree)]
    listing = "\n".join(f"  {path}:{line}: {source}" for path, line, source in found)
    assert len(found) <= MAX_KIND_COMPARISONS, f"{len(found)} comparisons of a family's name:\n{listing}"
