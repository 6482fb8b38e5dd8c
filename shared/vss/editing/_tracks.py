"""The items of an OTIO track with their place on the timeline, in whole frames, in one pass.

Our own writers (`_edl`, `_fcp7_xml`, `_fcpxml`) place every item of every track. OTIO's
`range_in_parent` and `transformed_time_range` walk the track from its start each time they
are asked, so a writer that asks for each item grows with the square of the timeline; here
the position is carried along instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import opentimelineio as otio

from vss.domain.artifacts import DeliveryFormat


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
            if effect.effect_name == "Volume":
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
