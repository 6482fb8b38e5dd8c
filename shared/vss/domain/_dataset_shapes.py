"""The two input shapes of a narrative dataset, as they arrive, and the checks pydantic can't do.

`BlueprintV2` (legacy, what the edge uploads) and `NarrativeDatasetV1` (newer) are validated
leniently: unknown keys are ignored and enum-like fields stay plain strings (real data holds junk
such as ``"N"``). Field names equal the JSON keys, so a pydantic error ``loc`` is already the JSON
Pointer of the offending value. `check()` adds the cross-reference problems, each with a pointer
into the input document. `vss.domain.dataset` turns a checked shape into the normalized `Dataset`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict

from vss.domain.pointers import pointer
from vss.domain.timecode import Timecode

__all__ = [
    "BlueprintV2",
    "Issue",
    "NarrativeDatasetV1",
    "issue_from_pydantic",
]


class Issue(NamedTuple):
    """One problem in an input document: where (RFC 6901 pointer) and why."""

    pointer: str
    reason: str


def issue_from_pydantic(error: Mapping[str, Any]) -> Issue:
    """A pydantic error as an Issue: field names are the JSON keys, so ``loc`` is the pointer."""
    loc = list(error["loc"])
    reason = str(error["msg"])
    if loc and loc[-1] == "[key]":  # pydantic marks a bad dict key after the key itself
        loc.pop()
        reason = f"invalid key: {reason}"
    return Issue(pointer(loc), reason)


def _int_key(key: str) -> int | None:
    try:
        return int(key)
    except ValueError:
        return None


def _id_to_str(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


_Id = Annotated[str, BeforeValidator(_id_to_str)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# -- shared pieces ---------------------------------------------------------------------------


class RawDialogue(_Input):
    content: str
    speaker: str | None = None
    start_time: Timecode | None = None
    end_time: Timecode | None = None


class RawCaption(_Input):
    content: str
    start_time: Timecode
    end_time: Timecode


class RawScene(_Input):
    id: int
    chapter_id: int | None = None
    start_time: Timecode
    end_time: Timecode
    dialogues: list[RawDialogue] = []
    captions: list[RawCaption] = []
    highlights: list[Any] = []
    inferred_location: str | None = None
    character_dynamics: str | None = None
    mood_and_atmosphere: str | None = None
    scene_content_type: str | None = None
    narrative_summary: str | None = None
    camera_movement: str | None = None

    def timing_issues(self, key: str) -> list[Issue]:
        issues = []
        if self.end_time < self.start_time:
            issues.append(_backwards(("scenes", key, "end_time"), self.start_time, self.end_time))
        timed: list[tuple[str, Iterable[RawDialogue | RawCaption]]] = [
            ("dialogues", self.dialogues),
            ("captions", self.captions),
        ]
        for field, items in timed:
            for index, item in enumerate(items):
                start, end = item.start_time, item.end_time
                if start is not None and end is not None and end < start:
                    issues.append(_backwards(("scenes", key, field, index, "end_time"), start, end))
        return issues


def _backwards(parts: tuple[str | int, ...], start: Timecode, end: Timecode) -> Issue:
    return Issue(pointer(parts), f"end {end} is before start {start}")


class ChapterRef(NamedTuple):
    """A chapter of either shape, with the key it has in the input's ``chapters`` object."""

    key: str
    id: int
    name: str | None
    source_file: str | None
    scene_ids: list[int]


def _check_scenes_and_chapters(
    scenes: Mapping[str, RawScene], chapters: list[ChapterRef]
) -> tuple[dict[int, int], list[Issue]]:
    """Check the scene/chapter cross references; return ``{scene id: chapter id}`` and issues.

    A scene belongs to the chapter its ``chapter_id`` names or, when it has none, to the chapter
    listing it; both present must agree.
    """
    issues: list[Issue] = []
    if not scenes:
        issues.append(Issue("/scenes", "the dataset has no scenes"))
    scene_keys: dict[int, str] = {}
    for key, scene in scenes.items():
        if scene.id in scene_keys:
            issues.append(Issue(pointer(("scenes", key, "id")), f"duplicate scene id {scene.id}"))
        elif _int_key(key) not in (None, scene.id):
            issues.append(
                Issue(pointer(("scenes", key, "id")), f"scene id {scene.id} differs from key")
            )
        scene_keys.setdefault(scene.id, key)
        issues.extend(scene.timing_issues(key))

    chapter_ids: set[int] = set()
    listed_by: dict[int, int] = {}
    for chapter in chapters:
        if chapter.id in chapter_ids:
            issues.append(Issue(pointer(("chapters", chapter.key)), "duplicate chapter id"))
        chapter_ids.add(chapter.id)
        for index, scene_id in enumerate(chapter.scene_ids):
            where = pointer(("chapters", chapter.key, "scene_ids", index))
            if scene_id not in scene_keys:
                issues.append(Issue(where, f"scene {scene_id} does not exist"))
            elif scene_id in listed_by:
                first = listed_by[scene_id]
                issues.append(
                    Issue(where, f"scene {scene_id} is already listed by chapter {first}")
                )
            else:
                listed_by[scene_id] = chapter.id

    owner_of: dict[int, int] = {}
    for key, scene in scenes.items():
        listed = listed_by.get(scene.id)
        owner = scene.chapter_id if scene.chapter_id is not None else listed
        where = pointer(("scenes", key, "chapter_id"))
        if owner is None:
            issues.append(Issue(pointer(("scenes", key)), "no chapter lists this scene"))
        elif owner not in chapter_ids:
            issues.append(Issue(where, f"chapter {owner} does not exist"))
        elif listed is not None and listed != owner:
            issues.append(Issue(where, f"chapter {listed} lists this scene, not chapter {owner}"))
        else:
            owner_of[scene.id] = owner
    return owner_of, issues


# -- blueprint v2 ------------------------------------------------------------------------------


class BlueprintMarker(_Input):
    type: str | None = None


class BlueprintBranch(_Input):
    type: str | None = None


class BlueprintScene(RawScene):
    chapter_id: int  # required in this shape
    branch: BlueprintBranch | None = None
    timeline_marker: BlueprintMarker | None = None
    information_marker: BlueprintMarker | None = None


class BlueprintChapter(_Input):
    id: int
    name: str | None = None
    source_file: str | None = None
    scene_ids: list[int] = []


class BlueprintMetadata(_Input):
    project_name: str | None = None


class SequenceEntry(_Input):
    narrative_index: int


class BlueprintTimeline(_Input):
    type: str | None = None
    sequence: dict[str, SequenceEntry] = {}


class BlueprintV2(_Input):
    project_metadata: BlueprintMetadata = BlueprintMetadata()
    chapters: dict[str, BlueprintChapter]
    scenes: dict[str, BlueprintScene]
    narrative_timeline: BlueprintTimeline

    def title(self) -> str | None:
        return self.project_metadata.project_name

    def chapter_refs(self) -> list[ChapterRef]:
        return [
            ChapterRef(k, c.id, c.name, c.source_file, c.scene_ids)
            for k, c in self.chapters.items()
        ]

    def scene_chapters(self) -> dict[int, int]:
        return _check_scenes_and_chapters(self.scenes, self.chapter_refs())[0]

    def sequence(self) -> list[tuple[int, int]]:
        """``(scene id, narrative index)`` pairs of the timeline whose key is a scene id."""
        pairs = (
            (_int_key(k), e.narrative_index) for k, e in self.narrative_timeline.sequence.items()
        )
        return [(scene_id, index) for scene_id, index in pairs if scene_id is not None]

    def check(self) -> list[Issue]:
        issues = _check_scenes_and_chapters(self.scenes, self.chapter_refs())[1]
        scene_ids = {scene.id for scene in self.scenes.values()}
        for key in self.narrative_timeline.sequence:
            scene_id = _int_key(key)
            where = pointer(("narrative_timeline", "sequence", key))
            if scene_id is None:
                issues.append(Issue(where, f"{key!r} is not a scene id"))
            elif scene_id not in scene_ids:
                issues.append(Issue(where, f"scene {scene_id} does not exist"))
        return issues


# -- NarrativeDataset ----------------------------------------------------------------------------


class NarrativeMetadata(_Input):
    asset_name: str | None = None
    project_name: str | None = None


class NarrativeScene(RawScene):
    scene_uuid: str | None = None


class NarrativeChapter(_Input):
    local_id: int
    name: str | None = None
    chapter_uuid: str | None = None
    source_file: str | None = None  # not in the published shape; our subtitle import sets it
    scene_ids: list[int] = []


class StorylineNode(_Input):
    local_id: int
    narrative_index: int
    narrative_function: str | None = None
    ref_scene_id: int | None = None

    @property
    def scene_id(self) -> int:
        return self.ref_scene_id if self.ref_scene_id is not None else self.local_id

    @property
    def scene_field(self) -> str:
        return "ref_scene_id" if self.ref_scene_id is not None else "local_id"


class StorylineBranch(_Input):
    branch_id: _Id | None = None
    name: str | None = None
    nodes: list[StorylineNode] = []


class NarrativeStoryline(_Input):
    root_branch_id: _Id
    branches: dict[str, StorylineBranch] = {}

    def root(self) -> tuple[str, StorylineBranch] | None:
        """The root branch (by key, else by ``branch_id``) with its key, if it exists."""
        if self.root_branch_id in self.branches:
            return self.root_branch_id, self.branches[self.root_branch_id]
        for key, branch in self.branches.items():
            if branch.branch_id == self.root_branch_id:
                return key, branch
        return None


class NarrativeDatasetV1(_Input):
    asset_uuid: str | None = None
    project_uuid: str | None = None
    project_metadata: NarrativeMetadata = NarrativeMetadata()
    chapters: dict[str, NarrativeChapter]
    scenes: dict[str, NarrativeScene]
    narrative_storyline: NarrativeStoryline | None = None

    def title(self) -> str | None:
        return self.project_metadata.asset_name or self.project_metadata.project_name

    def chapter_refs(self) -> list[ChapterRef]:
        return [
            ChapterRef(k, c.local_id, c.name, c.source_file, c.scene_ids)
            for k, c in self.chapters.items()
        ]

    def scene_chapters(self) -> dict[int, int]:
        return _check_scenes_and_chapters(self.scenes, self.chapter_refs())[0]

    def root_nodes(self) -> list[StorylineNode]:
        root = self.narrative_storyline.root() if self.narrative_storyline else None
        return root[1].nodes if root else []

    def check(self) -> list[Issue]:
        issues = _check_scenes_and_chapters(self.scenes, self.chapter_refs())[1]
        if self.narrative_storyline is None:
            return issues
        root = self.narrative_storyline.root()
        if root is None:
            wanted = self.narrative_storyline.root_branch_id
            where = "/narrative_storyline/root_branch_id"
            return [*issues, Issue(where, f"branch {wanted!r} does not exist")]
        scene_ids = {scene.id for scene in self.scenes.values()}
        key, branch = root
        for index, node in enumerate(branch.nodes):
            if node.scene_id not in scene_ids:
                parts = ("narrative_storyline", "branches", key, "nodes", index, node.scene_field)
                issues.append(Issue(pointer(parts), f"scene {node.scene_id} does not exist"))
        return issues
