"""What an uploaded JSON document is, and whether it is valid for that kind."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from vss.domain.artifacts import DubbingScript, NarrationScript
from vss.domain.character_facts import CharacterFactsReport
from vss.domain.dataset import parse_dataset
from vss.domain.files import FileKind
from vss.domain.pointers import pointer_errors
from vss.errors import PayloadInvalid


def _validate_script(model: type[BaseModel], document: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise PayloadInvalid(
            f"Not a valid {model.__name__}.", details={"errors": pointer_errors(exc)}
        ) from None


def classify_json(data: bytes) -> tuple[FileKind, dict[str, Any]]:
    """(kind, summary) of a JSON upload; PayloadInvalid with pointers when it is broken."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadInvalid(
            "Not valid JSON.", details={"errors": [{"pointer": "", "reason": str(exc)}]}
        ) from None
    if isinstance(document, dict) and "narration_script" in document:
        script = _validate_script(NarrationScript, document)
        return FileKind.NARRATION_SCRIPT, {"snippets": len(script.narration_script)}  # type: ignore[attr-defined]
    if isinstance(document, dict) and "dubbing_script" in document:
        dub = _validate_script(DubbingScript, document)
        return FileKind.DUBBING_SCRIPT, {"segments": len(dub.dubbing_script)}  # type: ignore[attr-defined]
    if isinstance(document, dict) and "identified_facts_by_character" in document:
        facts = _validate_script(CharacterFactsReport, document)
        return FileKind.CHARACTER_FACTS, {
            "characters": len(facts.identified_facts_by_character)}  # type: ignore[attr-defined]
    dataset = parse_dataset(document)
    return FileKind.DATASET, {
        "shape": dataset.source_shape,
        "chapters": len(dataset.chapters),
        "scenes": len(dataset.scenes),
    }
