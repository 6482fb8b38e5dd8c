"""Reading typed inputs and writing JSON artifacts for stage handlers."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.pointers import pointer_errors
from vss.errors import PayloadInvalid
from vss.ports import TaskStorage

M = TypeVar("M", bound=BaseModel)


def read_dataset(files: TaskStorage, path: str) -> Dataset:
    return parse_dataset(files.read(path))


def read_model(files: TaskStorage, path: str, model: type[M]) -> M:
    try:
        return model.model_validate_json(files.read(path))
    except ValidationError as exc:
        raise PayloadInvalid(
            f"{path} is not a valid {model.__name__}.",
            details={"path": path, "errors": pointer_errors(exc)},
        ) from None


def write_json(files: TaskStorage, name: str, artifact: BaseModel) -> str:
    data = json.dumps(artifact.model_dump(mode="json", exclude_none=True), ensure_ascii=False,
                      indent=2).encode()
    return files.write(name, data, "application/json")


def read_facts(files: TaskStorage, path: str, pointer: str) -> dict[str, Any]:
    """A character facts file (a report of ours or the seed's, or the bare mapping by
    character), as JSON; its facts are checked where they are used."""
    try:
        raw = json.loads(files.read(path))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadInvalid(f"{path} is not JSON.", details={"errors": [
            {"pointer": pointer, "reason": str(exc)}]}) from None
    if not isinstance(raw, dict):
        raise PayloadInvalid(f"{path} is not character facts.", details={"errors": [
            {"pointer": pointer, "reason": "not a JSON object"}]})
    return raw
