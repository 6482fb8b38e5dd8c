"""The OpenAPI document's component schemas: the JSON Schemas of the pydantic models the routes
use, made exact where a rule lives outside a model's annotations.

Four such rules: payload fields the edge may spell two ways (alias choices), the `*_path` fields
every task type resolves with `check_relative_path`, the narration models that have a price
(`vss.service.tasks.check_params`), and the upload limits from the settings. The body of
`POST /tasks/` is one branch per task type, derived from `TaskType` and `PAYLOADS`, so a new task
type is documented without editing the API.
"""

from __future__ import annotations

import copy
import itertools
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import AliasChoices, BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from vss.api.views import (
    AssetPage,
    ErrorBody,
    Health,
    SearchResults,
    TaskPage,
    TaskView,
    UploadedFile,
)
from vss.domain.ids import ID_PATTERN
from vss.domain.paths import MAX_PATH, RELATIVE_PATH_PATTERN
from vss.domain.payloads import (
    PAYLOADS,
    CharacterIdentifierParams,
    DubbingServiceParams,
    EditingServiceParams,
    LocalizationServiceParams,
    NarrationServiceParams,
)
from vss.domain.tasks import TaskType
from vss.dubbing.templates import load_templates
from vss.service.uploads import SIGNABLE_TYPES, SignedUpload, SignedUploadRequest

REF = "#/components/schemas/{model}"
REQUESTS: list[type[BaseModel]] = [SignedUploadRequest, *PAYLOADS.values()]
RESPONSES: list[type[BaseModel]] = [ErrorBody, Health, UploadedFile, SignedUpload, TaskView,
                                    TaskPage, AssetPage, SearchResults]
CREATE_TASK = "CreateTask"

RELATIVE_PATH: dict[str, Any] = {
    "type": "string", "minLength": 1, "maxLength": MAX_PATH, "pattern": RELATIVE_PATH_PATTERN,
    "description": "A `relative_path` from an upload or a task result: `uploads/<file id>/<name>` "
                   "or `tasks/<task id>/<name>`.",
}
ID: dict[str, Any] = {"type": "string", "pattern": ID_PATTERN}


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _models(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """`model` and every model its fields hold, at any depth."""
    seen: set[type[BaseModel]] = set()
    todo: list[Any] = [model]
    while todo:
        item = todo.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item not in seen:
                seen.add(item)
                yield item
                todo.extend(f.annotation for f in item.model_fields.values())
        elif isinstance(item, types.UnionType) or typing.get_origin(item) is not None:
            todo.extend(typing.get_args(item))


def _accepted_names(model: type[BaseModel], name: str) -> list[str]:
    """Every key that fills field `name`, in the order pydantic tries them."""
    alias = model.model_fields[name].validation_alias
    choices = [c for c in alias.choices if isinstance(c, str)] if isinstance(alias, AliasChoices) \
        else []
    if not choices or model.model_config.get("populate_by_name"):
        choices.append(name)
    return list(dict.fromkeys(choices))


def _document_spellings(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Add each field's other spellings. Where extra keys are refused, two spellings of one field
    are refused too (the second one is an extra key)."""
    strict = model.model_config.get("extra") == "forbid"
    for name in model.model_fields:
        names = _accepted_names(model, name)
        if len(names) < 2:
            continue
        shown = next(n for n in names if n in schema["properties"])
        for other in names:
            schema["properties"].setdefault(other, copy.deepcopy(schema["properties"][shown]))
        rules: list[dict[str, Any]] = []
        if strict:
            pairs = itertools.combinations(names, 2)
            rules += [{"not": {"required": list(pair)}} for pair in pairs]
        if shown in schema.get("required", []):
            schema["required"] = [r for r in schema["required"] if r != shown]
            rules.append({"anyOf": [{"required": [n]} for n in names]})
        if not schema.get("required", True):
            del schema["required"]
        if rules:
            schema.setdefault("allOf", []).extend(rules)


def _document_paths(schema: dict[str, Any]) -> None:
    """Top-level `*_path` fields are input files: `vss.domain.payloads.input_paths` hands each to
    `check_relative_path` (a path it refuses is a 400)."""
    for name, prop in schema["properties"].items():
        if not name.endswith("_path"):
            continue
        for option in prop.get("anyOf", [prop]):
            if option.get("type") == "string":
                option.update(RELATIVE_PATH)


def _create_task(payload_refs: dict[TaskType, dict[str, str]]) -> dict[str, dict[str, Any]]:
    """`{task_type, payload}`: one branch per task type, told apart by `task_type`."""
    branches = {
        f"{CREATE_TASK}_{t.value}": {
            "type": "object", "title": f"Create a {t.value} task",
            "required": ["task_type", "payload"],
            "properties": {"task_type": {"type": "string", "const": t.value},
                           "payload": payload_refs[t]},
        } for t in TaskType
    }
    return {**branches, CREATE_TASK: {
        "description": "Body of `POST /api/v1/tasks/`. An unknown `task_type` is a 400 (code "
                       "2001) naming the supported ones.",
        "oneOf": [ref(name) for name in branches],
        "discriminator": {"propertyName": "task_type", "mapping": {
            t.value: REF.format(model=f"{CREATE_TASK}_{t.value}") for t in TaskType}},
    }}


def component_schemas(max_upload_bytes: int, priced_models: tuple[str, ...]
                      ) -> tuple[dict[str, Any], dict[type[BaseModel], str]]:
    """(the component schemas, the component name of each request and response model)."""
    modes: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((m, "validation") for m in REQUESTS), *((m, "serialization") for m in RESPONSES)]
    refs, top = models_json_schema(modes, ref_template=REF)
    names = {model: str(refs[(model, mode)]["$ref"]).rsplit("/", 1)[1] for model, mode in modes}
    defs: dict[str, Any] = copy.deepcopy(top.get("$defs", {}))
    nested = {inner for model in REQUESTS for inner in _models(model)} - set(REQUESTS)
    for model in [*REQUESTS, *nested]:
        _document_spellings(defs[names.get(model, model.__name__)], model)
    for payload in PAYLOADS.values():
        _document_paths(defs[names[payload]])
    # Only models with a price are accepted (vss.service.tasks.check_params).
    for params in (NarrationServiceParams, LocalizationServiceParams, EditingServiceParams,
                   CharacterIdentifierParams):
        defs[params.__name__]["properties"]["model"] = {
            "anyOf": [{"type": "string", "enum": list(priced_models)}, {"type": "null"}],
            "default": None,
        }
    # Only voice templates that exist are accepted (the dubbing payload check).
    defs[DubbingServiceParams.__name__]["properties"]["template_name"] = {
        "type": "string", "enum": load_templates().names(), "default": "default",
    }
    upload = defs[names[SignedUploadRequest]]["properties"]
    upload["content_type"]["enum"] = list(SIGNABLE_TYPES)
    upload["size"]["maximum"] = max_upload_bytes
    defs.update(_create_task({t: ref(names[PAYLOADS[t]]) for t in TaskType}))
    return defs, names
