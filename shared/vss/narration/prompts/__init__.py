"""Versioned prompt templates (`<name>.<version>.txt`, `string.Template` syntax)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

PROMPT_VERSION = "v2"


@cache
def _template(name: str, version: str) -> Template:
    text = resources.files(__name__).joinpath(f"{name}.{version}.txt").read_text("utf-8")
    return Template(text)


def render(name: str, version: str = PROMPT_VERSION, **values: object) -> str:
    """Fill template `name`; a missing value is an error, not a silent `$gap`."""
    return _template(name, version).substitute({k: str(v) for k, v in values.items()}).strip()
