from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.support.paths import DATA
from vss.domain.dataset import (
    Dataset,
    Mood,
    NarrativeFunction,
    SceneContentType,
    parse_dataset,
)
from vss.domain.timecode import Timecode
from vss.errors import PayloadInvalid

SMALL = DATA / "narrative_dataset_small.json"
# The real blueprint (`blueprint_bytes`) comes from tests/conftest.py: examples/ in the repo.


@pytest.fixture
def blueprint(blueprint_bytes: bytes) -> dict[str, Any]:
    return json.loads(blueprint_bytes)


@pytest.fixture
def small() -> dict[str, Any]:
    return json.loads(SMALL.read_text(encoding="utf-8"))


def _errors(raw: Any) -> list[dict[str, str]]:
    with pytest.raises(PayloadInvalid) as info:
        parse_dataset(raw)
    assert info.value.code == 3004
    errors: list[dict[str, str]] = info.value.details["errors"]
    assert errors and all(set(e) == {"pointer", "reason"} for e in errors)
    return errors


def _pointers(raw: Any) -> list[str]:
    return [error["pointer"] for error in _errors(raw)]


# -- the real blueprint --------------------------------------------------------------------------


def test_real_blueprint_parses(blueprint_bytes: bytes) -> None:
    dataset = parse_dataset(blueprint_bytes)
    assert dataset.source_shape == "blueprint_v2"
    assert dataset.title == "总裁的契约女友_v3"
    assert len(dataset.chapters) == 30
    assert len(dataset.scenes) == 63
    assert sum(len(chapter.scene_ids) for chapter in dataset.chapters) == 63
    assert dataset.chapters[0].source_file == "29_ep01_l1.ass"
    scene = dataset.scenes[1]
    assert (scene.start, scene.end) == (Timecode(0), Timecode(23_096))
    assert scene.duration == pytest.approx(23.096)
    assert scene.dialogues[0].speaker == "车小小"
    assert scene.dialogues[0].start == Timecode.parse("00:00:14.330")
    assert scene.location == "在咖啡店里"
    assert scene.content_type is SceneContentType.INTERNAL_MONOLOGUE
    assert dataset.chapter_of(5).id == 1 and dataset.chapter_of(63).id == 30


def test_real_blueprint_story_order_follows_narrative_index(blueprint: dict[str, Any]) -> None:
    dataset = parse_dataset(blueprint)
    expected = sorted(
        blueprint["narrative_timeline"]["sequence"].items(),
        key=lambda item: item[1]["narrative_index"],
    )
    assert [s.id for s in dataset.scenes_in_story_order()] == [int(k) for k, _ in expected]
    assert [n.narrative_index for n in dataset.storyline] == sorted(
        entry["narrative_index"] for _, entry in expected
    )


def test_reordered_sequence_reorders_the_story(blueprint: dict[str, Any]) -> None:
    sequence = blueprint["narrative_timeline"]["sequence"]
    sequence["1"]["narrative_index"], sequence["63"]["narrative_index"] = 63, 1
    order = [scene.id for scene in parse_dataset(blueprint).scenes_in_story_order()]
    assert order[0] == 63 and order[-1] == 1 and len(order) == 63


def test_real_blueprint_junk_enums_map_to_unknown(blueprint_bytes: bytes) -> None:
    scenes = parse_dataset(blueprint_bytes).scenes
    assert scenes[23].content_type is SceneContentType.UNKNOWN
    assert scenes[23].content_type_raw == "N"
    assert scenes[23].mood is Mood.OPPRESSIVE
    assert scenes[15].mood is Mood.UNKNOWN and scenes[15].mood_raw == "N"
    assert scenes[15].content_type is SceneContentType.DIALOGUE_HEAVY


def test_real_blueprint_flashbacks_come_from_markers(blueprint_bytes: bytes) -> None:
    dataset = parse_dataset(blueprint_bytes)
    flashbacks = [
        node.scene_id
        for node in dataset.storyline
        if node.narrative_function is NarrativeFunction.FLASHBACK
    ]
    # PAST timeline markers (2, 3, 7, 18) and the RECALL information marker (51)
    assert flashbacks == [2, 3, 7, 18, 51]
    others = {n.narrative_function for n in dataset.storyline if n.scene_id not in flashbacks}
    assert others == {NarrativeFunction.LINEAR}


def test_real_blueprint_highlight_dicts_keep_their_description(blueprint_bytes: bytes) -> None:
    scenes = parse_dataset(blueprint_bytes).scenes
    assert scenes[11].highlights == ["车小小提出要和楚昊轩去开房"]
    assert scenes[1].highlights == []


def test_normalized_dataset_round_trips_through_json(blueprint_bytes: bytes) -> None:
    dataset = parse_dataset(blueprint_bytes)
    dumped = json.loads(dataset.model_dump_json())
    assert dumped["scenes"]["1"]["start"] == "00:00:00.000"
    assert Dataset.model_validate(dumped) == dataset


def test_blueprint_scenes_missing_from_the_sequence_go_last(blueprint: dict[str, Any]) -> None:
    sequence = blueprint["narrative_timeline"]["sequence"]
    del sequence["2"], sequence["40"]
    dataset = parse_dataset(blueprint)
    assert [s.id for s in dataset.scenes_in_story_order()][-2:] == [2, 40]
    assert dataset.storyline[-2].narrative_function is NarrativeFunction.FLASHBACK  # scene 2


# -- the NarrativeDataset shape --------------------------------------------------------------


def test_small_narrative_dataset_parses() -> None:
    dataset = parse_dataset(SMALL.read_bytes())
    assert dataset.source_shape == "narrative_dataset"
    assert dataset.title == "The Keeper's Letter"
    assert [(c.id, c.name, c.scene_ids) for c in dataset.chapters] == [
        (1, "Episode 1: The Return", [1, 2]),
        (2, "Episode 2: The Storm", [3, 4]),
    ]
    assert {s.id: s.chapter_id for s in dataset.scenes.values()} == {1: 1, 2: 1, 3: 2, 4: 2}
    assert [s.id for s in dataset.scenes_in_story_order()] == [1, 3, 2, 4]
    functions = [(n.scene_id, n.narrative_function) for n in dataset.storyline]
    assert functions == [
        (1, NarrativeFunction.LINEAR),
        (3, NarrativeFunction.LINEAR),
        (2, NarrativeFunction.FLASHBACK),
        (4, NarrativeFunction.LINEAR),
    ]


def test_small_narrative_dataset_scene_fields() -> None:
    scenes = parse_dataset(SMALL.read_text(encoding="utf-8")).scenes
    assert scenes[1].narrative_summary.startswith("Mara arrives")  # type: ignore[union-attr]
    assert scenes[1].camera_movement == "slow tilt up the spiral staircase"
    assert scenes[2].duration == pytest.approx(47.52)
    assert scenes[2].highlights == [
        "Young Mara falls asleep in the lantern room while her grandfather keeps watch."
    ]
    assert scenes[3].highlights == ["Lightning strikes the lantern room as the power fails."]
    assert scenes[3].content_type is SceneContentType.ACTION_DRIVEN
    assert scenes[4].mood is Mood.UNKNOWN and scenes[4].mood_raw == "N"
    assert scenes[4].dialogues[1].speaker is None and scenes[4].dialogues[1].start is None
    assert scenes[1].captions[0].end == Timecode(4_000)


def test_narrative_dataset_unknown_function_and_missing_nodes(small: dict[str, Any]) -> None:
    nodes = small["narrative_storyline"]["branches"]["main"]["nodes"]
    nodes[1]["narrative_function"] = "TIME_SKIP"
    del nodes[3]  # scene 4 is no longer in the storyline
    dataset = parse_dataset(small)
    assert dataset.storyline[1].narrative_function is NarrativeFunction.UNKNOWN
    assert dataset.storyline[-1].scene_id == 4
    assert dataset.storyline[-1].narrative_index == 4
    assert [s.id for s in dataset.scenes_in_story_order()] == [1, 3, 2, 4]


def test_a_replayed_scene_keeps_the_function_of_its_first_appearance(
    small: dict[str, Any],
) -> None:
    nodes = small["narrative_storyline"]["branches"]["main"]["nodes"]
    nodes.append({"local_id": 6, "narrative_index": 5, "narrative_function": "FLASHBACK",
                  "ref_scene_id": 1})
    dataset = parse_dataset(small)
    assert [s.id for s in dataset.scenes_in_story_order()] == [1, 3, 2, 4]
    assert dataset.story_functions() == {
        1: NarrativeFunction.LINEAR, 2: NarrativeFunction.FLASHBACK,
        3: NarrativeFunction.LINEAR, 4: NarrativeFunction.LINEAR,
    }


def test_narrative_dataset_without_storyline_orders_by_chapter_then_start(
    small: dict[str, Any],
) -> None:
    del small["narrative_storyline"]
    small["scenes"]["1"]["start_time"], small["scenes"]["2"]["start_time"] = "00:00:50", "0"
    small["scenes"]["1"]["end_time"] = "00:01:00"
    order = [scene.id for scene in parse_dataset(small).scenes_in_story_order()]
    assert order == [2, 1, 3, 4]


# -- invalid input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", [b"{not json", "", b"\xff\xfe\x00", b"[1, 2]", '"a string"', b"null"]
)
def test_not_a_json_object_is_reported_at_the_root(raw: bytes | str) -> None:
    assert _pointers(raw) == [""]


def test_not_json_says_so() -> None:
    assert _errors(b"{not json")[0]["reason"].startswith("not JSON")


def test_unknown_shape(blueprint: dict[str, Any]) -> None:
    del blueprint["narrative_timeline"]
    (error,) = _errors(blueprint)
    assert error["pointer"] == ""
    assert "unknown dataset shape" in error["reason"]


def test_wrong_type_at_scene_start_time(blueprint: dict[str, Any]) -> None:
    blueprint["scenes"]["1"]["start_time"] = {"seconds": 3}
    assert _pointers(blueprint) == ["/scenes/1/start_time"]


def test_bad_timecode_string(small: dict[str, Any]) -> None:
    small["scenes"]["3"]["dialogues"][0]["end_time"] = "00:00:1O.000"
    (error,) = _errors(small)
    assert error["pointer"] == "/scenes/3/dialogues/0/end_time"
    assert "'00:00:1O.000' is not a timecode" in error["reason"]


def test_end_before_start_for_scene_and_dialogue(blueprint: dict[str, Any]) -> None:
    blueprint["scenes"]["12"]["end_time"] = "00:00:00.000"
    blueprint["scenes"]["5"]["dialogues"][2]["end_time"] = "00:00:00.000"
    errors = _errors(blueprint)
    assert [e["pointer"] for e in errors] == [
        "/scenes/5/dialogues/2/end_time",
        "/scenes/12/end_time",
    ]
    assert "is before start" in errors[1]["reason"]


def test_chapter_referencing_missing_scene(small: dict[str, Any]) -> None:
    small["chapters"]["2"]["scene_ids"].append(99)
    (error,) = _errors(small)
    assert error == {"pointer": "/chapters/2/scene_ids/2", "reason": "scene 99 does not exist"}


def test_scene_with_missing_chapter(blueprint: dict[str, Any]) -> None:
    blueprint["scenes"]["7"]["chapter_id"] = 31
    assert _pointers(blueprint) == ["/scenes/7/chapter_id"]


def test_scene_no_chapter_lists(small: dict[str, Any]) -> None:
    small["chapters"]["1"]["scene_ids"] = [1]
    assert _pointers(small) == ["/scenes/2"]


def test_storyline_referring_to_unknown_scenes(small: dict[str, Any]) -> None:
    nodes = small["narrative_storyline"]["branches"]["main"]["nodes"]
    nodes[2]["ref_scene_id"] = 42
    nodes[3]["local_id"] = 43
    assert _pointers(small) == [
        "/narrative_storyline/branches/main/nodes/2/ref_scene_id",
        "/narrative_storyline/branches/main/nodes/3/local_id",
    ]


def test_missing_root_branch(small: dict[str, Any]) -> None:
    small["narrative_storyline"]["root_branch_id"] = "director-cut"
    assert _pointers(small) == ["/narrative_storyline/root_branch_id"]


def test_blueprint_sequence_naming_unknown_scene(blueprint: dict[str, Any]) -> None:
    blueprint["narrative_timeline"]["sequence"]["64"] = {"narrative_index": 64}
    assert _pointers(blueprint) == ["/narrative_timeline/sequence/64"]


def test_empty_scenes(small: dict[str, Any]) -> None:
    small["scenes"] = {}
    for chapter in small["chapters"].values():
        chapter["scene_ids"] = []
    del small["narrative_storyline"]
    assert _pointers(small) == ["/scenes"]


def test_pointer_escapes_slash_and_tilde(small: dict[str, Any]) -> None:
    small["scenes"]["a/b~c"] = copy.deepcopy(small["scenes"]["4"]) | {"id": 5, "end_time": []}
    small["chapters"]["2"]["scene_ids"].append(5)
    assert _pointers(small) == ["/scenes/a~1b~0c/end_time"]


def test_collects_every_problem_up_to_the_cap(blueprint: dict[str, Any]) -> None:
    for scene in blueprint["scenes"].values():
        scene["start_time"] = "bad"
        scene["end_time"] = None
    errors = _errors(blueprint)
    assert len(errors) == 50
    assert errors[:2] == [
        {"pointer": "/scenes/1/start_time", "reason": errors[0]["reason"]},
        {"pointer": "/scenes/1/end_time", "reason": errors[1]["reason"]},
    ]


def test_semantic_errors_are_all_reported(small: dict[str, Any]) -> None:
    small["scenes"]["2"]["end_time"] = "00:00:10.000"
    small["chapters"]["1"]["scene_ids"].append(77)
    small["narrative_storyline"]["branches"]["main"]["nodes"][0]["local_id"] = 78
    assert set(_pointers(small)) == {
        "/scenes/2/end_time",
        "/chapters/1/scene_ids/2",
        "/narrative_storyline/branches/main/nodes/0/local_id",
    }


def test_parse_does_not_mutate_its_input(small: dict[str, Any]) -> None:
    before = copy.deepcopy(small)
    parse_dataset(small)
    assert small == before
