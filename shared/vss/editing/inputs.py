"""Checks of a dubbing script against the dataset it is to be cut from, all reported at once
with a JSON pointer into the dubbing script each."""

from __future__ import annotations

import math
import re

from vss.domain.artifacts import DubbingScript
from vss.domain.dataset import Dataset
from vss.domain.language import text_language
from vss.domain.payloads import EditingServiceParams
from vss.domain.pointers import MAX_ERRORS
from vss.editing.relevance import keywords
from vss.errors import PayloadInvalid


def check_params(params: EditingServiceParams) -> None:
    """Rules across fields that a JSON schema cannot state (the API accepts what its schema
    does; the stage fails with the cause)."""
    if params.max_clip_seconds < params.min_clip_seconds:
        raise PayloadInvalid("max_clip_seconds is below min_clip_seconds.", details={"errors": [
            {"pointer": "/payload/service_params/max_clip_seconds",
             "reason": f"{params.max_clip_seconds:g} s is below min_clip_seconds "
                       f"({params.min_clip_seconds:g} s)"}]})


def _scene_text(dataset: Dataset, scene_id: int) -> str:
    scene = dataset.scenes[scene_id]
    return " ".join(filter(None, [
        scene.narrative_summary, scene.character_dynamics, scene.location, *scene.highlights,
        *(c.content for c in scene.captions), *(d.content for d in scene.dialogues),
        *(d.speaker or "" for d in scene.dialogues)]))


def _scene_words(dataset: Dataset, scene_id: int) -> frozenset[str]:
    return keywords(_scene_text(dataset, scene_id))


def check_dubbing(dubbing: DubbingScript, dataset: Dataset, path: str,
                  max_segment_seconds: float, lang: str | None = None) -> None:
    """Raise PayloadInvalid listing every problem: unknown scenes, durations that are not
    finite or longer than `max_segment_seconds`, audio without a file name, and a script
    whose narration shares no word with any scene it cites (made from another dataset).
    `lang` is the dubbing's language as the request names it: narration in that language
    over scenes in another (a LOCALIZE_NARRATION script) cannot share words with them, and
    is not compared."""
    errors: list[dict[str, str]] = []
    known = f"the dataset has {len(dataset.scenes)} scenes, ids {min(dataset.scenes)}" \
            f"–{max(dataset.scenes)}" if dataset.scenes else "the dataset has no scenes"
    for i, segment in enumerate(dubbing.dubbing_script):
        at = f"/dubbing_script/{i}"
        for j, scene_id in enumerate(segment.source_scene_ids):
            if scene_id not in dataset.scenes:
                errors.append({"pointer": f"{at}/source_scene_ids/{j}",
                               "reason": f"scene {scene_id} is not in the dataset ({known})"})
        duration = segment.duration_seconds
        if not math.isfinite(duration):
            errors.append({"pointer": f"{at}/duration_seconds",
                           "reason": f"{duration} is not a finite number of seconds"})
        elif duration > max_segment_seconds:
            errors.append({"pointer": f"{at}/duration_seconds",
                           "reason": f"{duration} s is longer than the longest segment "
                                     f"accepted ({max_segment_seconds:g} s)"})
        if not re.split(r"[\\/]", segment.audio_file_path)[-1].strip():
            errors.append({"pointer": f"{at}/audio_file_path",
                           "reason": "names no file"})
    if not errors and _foreign(dubbing, dataset, lang):
        errors.append({"pointer": "/dubbing_script",
                       "reason": "no segment's narration shares a word or a name with the "
                                 "scenes it cites: the script was made from another dataset"})
    if errors:
        first = f"{errors[0]['pointer']}: {errors[0]['reason']}"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise PayloadInvalid(f"the dubbing script does not fit the dataset: {first}{more}",
                             details={"path": path, "errors": errors[:MAX_ERRORS]})


def _foreign(dubbing: DubbingScript, dataset: Dataset, lang: str | None) -> bool:
    """True when not one segment's narration shares a keyword with its cited scenes (a
    single shared word is enough to trust the script; real scripts share dozens). A segment
    in the declared `lang`, cut from scenes in another language, is not compared."""
    words_of: dict[int, frozenset[str]] = {}
    checked = 0
    for segment in dubbing.dubbing_script:
        said = keywords(segment.narration)
        for scene_id in segment.source_scene_ids:
            if scene_id not in words_of:
                words_of[scene_id] = _scene_words(dataset, scene_id)
        if lang is not None and text_language(segment.narration) == lang and any(
                text_language(_scene_text(dataset, i)) != lang
                for i in segment.source_scene_ids):
            continue
        cited = frozenset().union(*(words_of[i] for i in segment.source_scene_ids))
        if not said or not cited:
            continue  # nothing to compare: a silent scene proves nothing either way
        if said & cited:
            return False
        checked += 1
    return checked > 0
