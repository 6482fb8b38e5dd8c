"""Offline reading of infra/terraform with python-hcl2, and of the code it must agree with.

The google provider cannot be downloaded here, so `terraform validate` is not available: these
helpers give the tests the parsed blocks of each module, its raw text (for references) and a
tiny resolver for `${local.a.b}` expressions.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from tests.support.paths import ROOT

TF_DIR = ROOT / "infra" / "terraform"
MODULES_DIR = TF_DIR / "modules"
FUNCTIONS_DIR = ROOT / "functions"

_OPTIONS = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)
_LOCAL_REF = re.compile(r"^\$\{local\.([A-Za-z0-9_.]+)\}$")
_VAR_ATTRIBUTE_REF = re.compile(r"^\$\{var\.(\w+)\.(\w+)\}$")
_OPTIONAL = re.compile(r"(\w+)\s*=\s*optional\((\w+(?:\(\w+\))?),\s*([^,)]+|\[\])\)")


def _unquote(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).strip('"'): _unquote(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    return value


@functools.cache
def parse_file(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return _unquote(hcl2.load(handle, serialization_options=_OPTIONS))


def strip_comments(text: str) -> str:
    """HCL text without `#` and `//` line comments (this configuration has no `#` in strings)."""
    lines = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        if line.lstrip().startswith("//"):
            line = ""
        lines.append(line)
    return "\n".join(lines)


@dataclass
class Module:
    """One Terraform module directory, all of its .tf files merged."""

    path: Path
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""

    @property
    def name(self) -> str:
        return "root" if self.path == TF_DIR else self.path.name


@functools.cache
def load_module(path: Path) -> Module:
    module = Module(path)
    texts = []
    for tf in sorted(path.glob("*.tf")):
        texts.append(tf.read_text())
        parsed = parse_file(tf)
        for block in parsed.get("variable", []):
            module.variables.update(block)
        for block in parsed.get("output", []):
            module.outputs.update(block)
        for block in parsed.get("locals", []):
            module.locals.update(block)
        for block in parsed.get("module", []):
            module.calls.update(block)
        for kind, target in (("resource", module.resources), ("data", module.data)):
            for block in parsed.get(kind, []):
                for rtype, named in block.items():
                    for rname, body in named.items():
                        target[(rtype, rname)] = body
        module.terraform += parsed.get("terraform", [])
    module.text = strip_comments("\n".join(texts))
    return module


def root() -> Module:
    return load_module(TF_DIR)


def child_modules() -> dict[str, Module]:
    return {p.name: load_module(p) for p in sorted(MODULES_DIR.iterdir()) if p.is_dir()}


def all_modules() -> list[Module]:
    return [root(), *child_modules().values()]


def resolve(expression: Any, module: Module | None = None) -> Any:
    """The value of `${local.a.b}` in `module` (root by default), or the default of
    `${var.v.attr}` (an `optional(type, default)` attribute of an object variable); anything
    else unchanged."""
    if not isinstance(expression, str):
        return expression
    module = module or root()
    attribute = _VAR_ATTRIBUTE_REF.match(expression)
    if attribute:
        return optional_defaults(attribute.group(1), module)[attribute.group(2)]
    match = _LOCAL_REF.match(expression)
    if not match:
        return expression
    value: Any = module.locals
    for part in match.group(1).split("."):
        value = value[part]
    return value


def variable_default(variable: str, module: Module | None = None) -> Any:
    """The default of a variable of `module` (root by default)."""
    return (module or root()).variables[variable]["default"]


def optional_defaults(variable: str, module: Module | None = None) -> dict[str, Any]:
    """attribute -> default of each `attr = optional(type, default)` in an object variable's
    type, numbers as numbers (what Terraform uses when the caller leaves the attribute out)."""
    type_text = (module or root()).variables[variable]["type"]
    return {name: _literal(default) for name, _, default in _OPTIONAL.findall(type_text)}


def _literal(text: str) -> Any:
    text = text.strip()
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text, text.strip('"'))


# --- the code side -------------------------------------------------------------------------


def string_constants(path: Path) -> dict[str, str]:
    """Module-level NAME = "string" assignments of a Python file."""
    tree = ast.parse(path.read_text())
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found[node.targets[0].id] = node.value.value
    return found


def entry_points() -> dict[str, tuple[str, str]]:
    """functions/<dir>/main.py -> (decorated function, "http" | "cloud_event")."""
    found = {}
    for main in sorted(FUNCTIONS_DIR.glob("*/main.py")):
        decorated = []
        for node in ast.walk(ast.parse(main.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "functions_framework"
                    and target.attr in ("http", "cloud_event")  # not an errorhandler
                ):
                    decorated.append((node.name, target.attr))
        assert len(decorated) == 1, f"{main}: expected one entry point, found {decorated}"
        found[main.parent.name] = decorated[0]
    return found
