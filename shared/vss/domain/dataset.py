"""The narrative dataset, normalized: one model that every accepted input shape maps to.

`parse_dataset` takes the raw upload (bytes, text or a decoded object), detects its shape
(blueprint v2 or NarrativeDataset, see DESIGN.md section 5), validates it and returns a frozen
`Dataset`. Every problem it finds is reported at once, as a JSON Pointer into the upload, in a
`PayloadInvalid` whose details are ``{"errors": [{"pointer", "reason"}, ...]}``.

Enum-like fields are tolerant: a value the model does not know (real data holds ``"N"``) becomes
``UNKNOWN`` and the original string is kept in the matching ``*_raw`` field.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from vss.domain._dataset_shapes import (
    BlueprintScene,
    BlueprintV2,
    Issue,
    NarrativeDatasetV1,
    RawScene,
    issue_from_pydantic,
)
from vss.domain.pointers import MAX_ERRORS
from vss.domain.timecode import Timecode
from vss.errors import PayloadInvalid

__all__ = [
    "BlueprintV2",
    "Caption",
    "Chapter",
    "Dataset",
    "Dialogue",
    "Mood",
    "NarrativeDatasetV1",
    "NarrativeFunction",
    "Scene",
    "SceneContentType",
    "SourceShape",
    "StoryNode",
    "normalize",
    "parse_dataset",
]

SourceShape = Literal["blueprint_v2", "narrative_dataset"]


# -- tolerant enums ----------------------------------------------------------------------------


class _TolerantEnum(StrEnum):
    """A StrEnum whose `parse` ignores case, spaces, ``-`` and ``_`` and falls back to UNKNOWN."""

    @classmethod
    def parse(cls, raw: object) -> Self:
        if isinstance(raw, str):
            wanted = _enum_key(raw)
            for member in cls:
                if _enum_key(member.value) == wanted:
                    return member
        return cls["UNKNOWN"]


def _enum_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).casefold()


class SceneContentType(_TolerantEnum):
    DIALOGUE_HEAVY = "Dialogue_Heavy"
    INTERNAL_MONOLOGUE = "Internal_Monologue"
    ACTION_DRIVEN = "Action_Driven"
    UNKNOWN = "Unknown"


class Mood(_TolerantEnum):
    """Scene moods seen in real data (scene moods, plus the highlight moods Hilarious/Sweet)."""

    TENSE = "Tense"
    CALM = "Calm"
    JOYFUL = "Joyful"
    ANGRY = "Angry"
    ROMANTIC = "Romantic"
    EERIE = "Eerie"
    CONFRONTATIONAL = "Confrontational"
    OPPRESSIVE = "Oppressive"
    WARM = "Warm"
    SAD = "Sad"
    SUSPENSEFUL = "Suspenseful"
    HILARIOUS = "Hilarious"
    SWEET = "Sweet"
    UNKNOWN = "Unknown"


class NarrativeFunction(_TolerantEnum):
    LINEAR = "LINEAR"
    FLASHBACK = "FLASHBACK"
    FLASHFORWARD = "FLASHFORWARD"
    INTERCUT = "INTERCUT"
    DIVERGENCE = "DIVERGENCE"
    UNKNOWN = "UNKNOWN"


# -- the normalized model ----------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Dialogue(_Frozen):
    content: str
    speaker: str | None = None
    start: Timecode | None = None
    end: Timecode | None = None


class Caption(_Frozen):
    content: str
    start: Timecode
    end: Timecode


class Scene(_Frozen):
    """One scene; timecodes are relative to its chapter's own media file."""

    id: int
    chapter_id: int
    start: Timecode
    end: Timecode
    dialogues: list[Dialogue] = []
    captions: list[Caption] = []
    highlights: list[str] = []
    location: str | None = None
    character_dynamics: str | None = None
    mood: Mood = Mood.UNKNOWN
    mood_raw: str | None = None
    content_type: SceneContentType = SceneContentType.UNKNOWN
    content_type_raw: str | None = None
    narrative_summary: str | None = None
    camera_movement: str | None = None

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return (self.end - self.start).seconds


class Chapter(_Frozen):
    id: int
    name: str
    source_file: str | None = None
    scene_ids: list[int] = []


class StoryNode(_Frozen):
    scene_id: int
    narrative_index: int
    narrative_function: NarrativeFunction = NarrativeFunction.LINEAR


class Dataset(_Frozen):
    """A narrative dataset: chapters of scenes, and the order the story tells them in."""

    title: str
    source_shape: SourceShape
    chapters: list[Chapter]
    scenes: dict[int, Scene]
    storyline: list[StoryNode]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = [
            f"scene key {k} holds scene {s.id}" for k, s in self.scenes.items() if k != s.id
        ]
        problems += [
            f"scene {s.id} ends before it starts" for s in self.scenes.values() if s.end < s.start
        ]
        chapter_ids = {chapter.id for chapter in self.chapters}
        if len(chapter_ids) != len(self.chapters):
            problems.append("duplicate chapter ids")
        problems += [
            f"scene {s.id} is in missing chapter {s.chapter_id}"
            for s in self.scenes.values()
            if s.chapter_id not in chapter_ids
        ]
        problems += [
            f"chapter {c.id} lists scene {i}, which is not one of its scenes"
            for c in self.chapters
            for i in c.scene_ids
            if i not in self.scenes or self.scenes[i].chapter_id != c.id
        ]
        problems += [
            f"storyline names missing scene {n.scene_id}"
            for n in self.storyline
            if n.scene_id not in self.scenes
        ]
        if problems:
            raise ValueError("; ".join(problems[:10]))
        return self

    def scenes_in_story_order(self) -> list[Scene]:
        """Each scene once, in storyline order, then any scene it omits by (chapter, start)."""
        ordered = sorted(self.storyline, key=lambda node: node.narrative_index)
        seen: set[int] = set()
        result: list[Scene] = []
        for node in ordered:
            if node.scene_id not in seen:
                seen.add(node.scene_id)
                result.append(self.scenes[node.scene_id])
        rest = [scene for scene_id, scene in self.scenes.items() if scene_id not in seen]
        return result + sorted(rest, key=_chapter_position)

    def story_functions(self) -> dict[int, NarrativeFunction]:
        """Each scene's narrative function where the story first shows it: a later replay of
        the scene (a flashback to it) does not relabel its first appearance. Scenes the
        storyline omits are LINEAR."""
        functions: dict[int, NarrativeFunction] = {}
        for node in sorted(self.storyline, key=lambda node: node.narrative_index):
            functions.setdefault(node.scene_id, node.narrative_function)
        return {scene_id: functions.get(scene_id, NarrativeFunction.LINEAR)
                for scene_id in self.scenes}

    def chapter_of(self, scene_id: int) -> Chapter:
        """The chapter holding a scene; KeyError if there is no such scene."""
        chapter_id = self.scenes[scene_id].chapter_id
        return next(chapter for chapter in self.chapters if chapter.id == chapter_id)


def _chapter_position(scene: Scene) -> tuple[int, Timecode, int]:
    return scene.chapter_id, scene.start, scene.id


# -- normalization -----------------------------------------------------------------------------

_MARKER_FUNCTIONS = {
    "PAST": NarrativeFunction.FLASHBACK,
    "RECALL": NarrativeFunction.FLASHBACK,
    "FLASHBACK": NarrativeFunction.FLASHBACK,
    "FUTURE": NarrativeFunction.FLASHFORWARD,
    "FLASHFORWARD": NarrativeFunction.FLASHFORWARD,
}


def normalize(source: BlueprintV2 | NarrativeDatasetV1) -> Dataset:
    """Map a validated, checked input shape onto the normalized `Dataset`."""
    owner_of = source.scene_chapters()
    scenes = {raw.id: _scene(raw, owner_of[raw.id]) for raw in source.scenes.values()}
    chapters = [
        Chapter(
            id=ref.id,
            name=ref.name or f"Chapter_{ref.id}",
            source_file=ref.source_file,
            scene_ids=_chapter_scene_ids(ref.id, ref.scene_ids, scenes),
        )
        for ref in source.chapter_refs()
    ]
    if isinstance(source, BlueprintV2):
        functions = {raw.id: _blueprint_function(raw) for raw in source.scenes.values()}
        nodes = [
            StoryNode(scene_id=s, narrative_index=i, narrative_function=functions[s])
            for s, i in source.sequence()
        ]
        shape: SourceShape = "blueprint_v2"
    else:
        functions = {}
        nodes = [
            StoryNode(
                scene_id=node.scene_id,
                narrative_index=node.narrative_index,
                narrative_function=NarrativeFunction.parse(node.narrative_function or "LINEAR"),
            )
            for node in source.root_nodes()
        ]
        shape = "narrative_dataset"
    return Dataset(
        title=source.title() or "Untitled",
        source_shape=shape,
        chapters=chapters,
        scenes=scenes,
        storyline=_complete_storyline(nodes, scenes, functions),
    )


def _scene(raw: RawScene, chapter_id: int) -> Scene:
    return Scene(
        id=raw.id,
        chapter_id=chapter_id,
        start=raw.start_time,
        end=raw.end_time,
        dialogues=[
            Dialogue(content=d.content, speaker=d.speaker, start=d.start_time, end=d.end_time)
            for d in raw.dialogues
        ],
        captions=[
            Caption(content=c.content, start=c.start_time, end=c.end_time) for c in raw.captions
        ],
        highlights=[text for text in map(_highlight_text, raw.highlights) if text],
        location=raw.inferred_location,
        character_dynamics=raw.character_dynamics,
        mood=Mood.parse(raw.mood_and_atmosphere),
        mood_raw=raw.mood_and_atmosphere,
        content_type=SceneContentType.parse(raw.scene_content_type),
        content_type_raw=raw.scene_content_type,
        narrative_summary=raw.narrative_summary,
        camera_movement=raw.camera_movement,
    )


def _highlight_text(item: Any) -> str:
    if isinstance(item, dict):
        for field in ("content", "description", "text"):
            if isinstance(item.get(field), str):
                return str(item[field])
    return item if isinstance(item, str) else str(item)


def _chapter_scene_ids(chapter_id: int, listed: list[int], scenes: dict[int, Scene]) -> list[int]:
    """The chapter's listed scenes, then any scene naming this chapter it forgot, by start."""
    forgotten = [s for s in scenes.values() if s.chapter_id == chapter_id and s.id not in listed]
    return [*listed, *(s.id for s in sorted(forgotten, key=_chapter_position))]


def _blueprint_function(raw: BlueprintScene) -> NarrativeFunction:
    """Blueprint v2 has no narrative function: read it off its markers, then its branch type."""
    for marker in (raw.timeline_marker, raw.information_marker):
        if marker is not None and marker.type is not None:
            function = _MARKER_FUNCTIONS.get(marker.type.strip().upper())
            if function is not None:
                return function
    if raw.branch is not None and raw.branch.type is not None:
        function = NarrativeFunction.parse(raw.branch.type)
        if function is not NarrativeFunction.UNKNOWN:
            return function
    return NarrativeFunction.LINEAR


def _complete_storyline(
    nodes: list[StoryNode],
    scenes: dict[int, Scene],
    functions: dict[int, NarrativeFunction],
) -> list[StoryNode]:
    """Sort by narrative index (stable); append scenes the storyline omits by (chapter, start)."""
    ordered = sorted(nodes, key=lambda node: node.narrative_index)
    named = {node.scene_id for node in ordered}
    missing = sorted((s for s in scenes.values() if s.id not in named), key=_chapter_position)
    next_index = max((node.narrative_index for node in ordered), default=0) + 1
    ordered += [
        StoryNode(
            scene_id=scene.id,
            narrative_index=next_index + offset,
            narrative_function=functions.get(scene.id, NarrativeFunction.LINEAR),
        )
        for offset, scene in enumerate(missing)
    ]
    return ordered


# -- parsing -----------------------------------------------------------------------------------


def parse_dataset(raw: bytes | str | dict[str, Any]) -> Dataset:
    """Parse an uploaded narrative dataset of either shape; raise PayloadInvalid listing every
    problem found (at most MAX_ERRORS)."""
    document = _load(raw)
    shape = _detect_shape(document)
    try:
        source = shape.model_validate(document)
    except ValidationError as exc:
        raise _invalid([issue_from_pydantic(error) for error in exc.errors()]) from None
    issues = source.check()
    if issues:
        raise _invalid(issues)
    try:
        return normalize(source)
    except ValidationError as exc:  # a rule `check()` missed; still the input's fault
        raise _invalid([Issue("", error["msg"]) for error in exc.errors()]) from None


def _load(raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
    document: object = raw
    if isinstance(raw, bytes | bytearray):
        try:
            document = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _invalid(
                [Issue("", f"not UTF-8 text: {exc.reason} at byte {exc.start}")]
            ) from None
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise _invalid(
                [Issue("", f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]
            ) from None
    if not isinstance(document, dict):
        raise _invalid([Issue("", f"expected a JSON object, got {_json_type(document)}")])
    return document


def _detect_shape(document: dict[str, Any]) -> type[BlueprintV2] | type[NarrativeDatasetV1]:
    if "narrative_storyline" in document or "asset_uuid" in document:
        return NarrativeDatasetV1
    if "narrative_timeline" in document:
        return BlueprintV2
    reason = (
        "unknown dataset shape: expected blueprint v2 (with narrative_timeline) or "
        "NarrativeDataset (with narrative_storyline or asset_uuid)"
    )
    raise _invalid([Issue("", reason)])


def _invalid(issues: list[Issue]) -> PayloadInvalid:
    shown = issues[:MAX_ERRORS]
    first = f"{shown[0].pointer or '(document)'}: {shown[0].reason}"
    more = f" (+{len(issues) - 1} more)" if len(issues) > 1 else ""
    return PayloadInvalid(
        f"invalid narrative dataset: {first}{more}",
        details={"errors": [{"pointer": i.pointer, "reason": i.reason} for i in shown]},
    )


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
