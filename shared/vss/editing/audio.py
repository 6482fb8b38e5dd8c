"""Each clip's audio mode, by rules a commentary editor would apply (overridable per task):

- `narration_only`: the source is muted. Default for clips with speech in them, so the
  narrator never talks over an actor (`audio.dialogue_mode`).
- `ducked`: the source plays under the narration at `audio.duck_db` (default -18 dB). Default
  for clips without speech, so the room, the music and the action stay audible
  (`audio.ambient_mode`). A freeze-frame has no sound of its own: narration only.
- `original`: a key line of dialogue plays in its own voice, the narration paused. A line is
  key when the narration quotes it (text in quotation marks that one of the segment's cited
  lines says, punctuation aside); it plays after the segment's narration (`audio.key_lines`).
"""

from __future__ import annotations

import re

from vss.domain.payloads import EditingAudioParams
from vss.editing.material import CutQuality, SceneMaterial
from vss.editing.ranges import UsedRanges
from vss.editing.solver import ClipPlan

NARRATION_ONLY, DUCKED, ORIGINAL = "narration_only", "ducked", "original"
_QUOTED = re.compile(r"[“「『\"]([^”」』\"]{2,80})[”」』\"]")
_NOT_TEXT = re.compile(r"[\W_]+")


def mode_of(clip: ClipPlan, material: SceneMaterial, params: EditingAudioParams
            ) -> tuple[str, float | None]:
    """(mode, source gain in dB; None when the source is muted)."""
    if clip.origin == "key_line":
        return ORIGINAL, 0.0
    if clip.origin == "hold":
        return NARRATION_ONLY, None
    speech = material.has_speech(clip.start, clip.end)
    mode = params.dialogue_mode if speech else params.ambient_mode
    return mode, (params.duck_db if mode == DUCKED else None)


def _plain(text: str) -> str:
    return _NOT_TEXT.sub("", text).casefold()


def key_line(narration: str, scene_ids: tuple[int, ...], material: dict[int, SceneMaterial],
             max_frames: int, used: UsedRanges, allow_reuse: bool) -> ClipPlan | None:
    """The first cited line the narration quotes that is free and short enough, if any."""
    for quote in map(_plain, _QUOTED.findall(narration)):
        if len(quote) < 2:
            continue
        for scene_id in scene_ids:
            item = material[scene_id]
            for line in item.lines:
                said = _plain(line.text)
                if not said or not (quote in said or (len(said) >= 2 and said in quote)):
                    continue
                if line.end - line.start > max_frames:
                    continue
                if not allow_reuse and used.overlap(item.scene.chapter_id, line.start,
                                                    line.end):
                    continue
                return ClipPlan(scene_id, item.scene.chapter_id, line.start, line.end,
                                "dialogue", "key_line", score=1.0, matches=(line.text,),
                                quality=CutQuality.CLEAN)
    return None
