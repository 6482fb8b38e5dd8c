"""The editing stage's OTIO timeline as both of its ends see it: the editing stage writes it
(`vss.editing.exports`, whose format writers read it back track by track) and the edge reads it
to render (`vss.edge.render.from_otio`). One module, so the two cannot drift: the tracks' names
and audio roles, the level a clip carries (a `Volume` effect), and the items of a track placed
in whole frames, in one pass.

OTIO's `range_in_parent` and `transformed_time_range` walk the track from its start each time
they are asked, so a writer that asks for each item grows with the square of the timeline;
`placed_clips` carries the position along instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import opentimelineio as otio

from vss.domain.artifacts import DeliveryFormat

VIDEO_TRACK, NARRATION_TRACK, SOURCE_AUDIO_TRACK = "V1", "Narration", "Source audio"
# Final Cut's audio roles of the two audio tracks: the narrator's voice, the episodes' sound.
NARRATION_ROLE, SOURCE_ROLE = "dialogue", "source"
VOLUME = "Volume"  # the effect that carries a clip's level in the preview's mix


def volume_effect(gain_db: float) -> otio.schema.Effect:
    """A clip's level in the preview's mix: OTIO has no audio-level schema, so an effect of
    this name with the gain in its metadata (our FCP writers write it as the format's level)."""
    return otio.schema.Effect(name=VOLUME, effect_name=VOLUME,
                              metadata={"vss": {"gain_db": gain_db}})


@dataclass(frozen=True, slots=True)
class Placed:
    """A clip of a track: where it starts on the timeline and what it reads of its media."""

    start: int  # record in, frames from the timeline's start
    frames: int
    source_in: int  # first frame read from the media
    media_frames: int  # the length of the media (its available range)
    clip: otio.schema.Clip

    @property
    def end(self) -> int:
        return self.start + self.frames

    @property
    def url(self) -> str:
        return str(self.clip.media_reference.target_url)

    @property
    def frozen(self) -> bool:
        """A freeze-frame: shows frame `source_in` for `frames` frames."""
        return any(isinstance(effect, otio.schema.FreezeFrame) for effect in self.clip.effects)

    @property
    def volume_db(self) -> float | None:
        """The clip's level in the mix (its `Volume` effect), None when it has none."""
        for effect in self.clip.effects:
            if effect.effect_name == VOLUME:
                return float(effect.metadata["vss"]["gain_db"])
        return None


def frame_count(time: otio.opentime.RationalTime, fps: float) -> int:
    return round(float(time.value_rescaled_to(fps)))


def placed_clips(track: otio.schema.Track, fps: float) -> Iterator[Placed]:
    """The clips of `track` in order (gaps only move the position on)."""
    at = 0
    for item in track:
        length = frame_count(item.source_range.duration, fps)
        if isinstance(item, otio.schema.Clip):
            available = item.media_reference.available_range
            media = frame_count(available.duration, fps) if available is not None else 0
            yield Placed(at, length, frame_count(item.source_range.start_time, fps), media, item)
        at += length


def delivery_of(timeline: otio.schema.Timeline, fps: float) -> DeliveryFormat:
    """The sequence format the timeline carries; the timeline's rate at 1920x1080 without."""
    known = (timeline.metadata.get("vss") or {}).get("delivery")
    delivery = DeliveryFormat.model_validate(dict(known)) if known else DeliveryFormat()
    return delivery.model_copy(update={"fps": delivery.fps or fps})


def audio_role(track: otio.schema.Track) -> str | None:
    """The track's audio role (`dialogue`, `source`), when it names one."""
    role = (track.metadata.get("vss") or {}).get("audio_role")
    return str(role) if role else None


def basename(url: str) -> str:
    return url.replace("\\", "/").rsplit("/", 1)[-1]
