"""Check a rendered file: packets counted with ffprobe, every cut against its source frames,
loudness with ebur128 (the maths is in `verify`).

What a check costs is decoding, so each decodes only what it compares. The render's own check
decodes the output once (the frames at the cuts picked by their time, so nothing else is
scaled) and the audio alone for loudness; the source frames it compares them with come from
the render's decode of each clip, picked by their own timestamps (`graph.reference_filter`).
`check_cuts` checks any file against the sources, decoding those around each clip's edges
itself: from the keyframe before (as any seek must), several such decodes per FFmpeg process.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path

from vss.edge.render.ffmpeg import Take, ebur128, stream_facts, thumbnails
from vss.edge.render.graph import OutputFormat, reference_filter, thumb_size
from vss.edge.render.plan import Clip, Timeline
from vss.edge.render.verify import (
    WINDOW,
    CutCheck,
    DurationCheck,
    Edge,
    LoudnessCheck,
    Thumb,
    duration_check,
    edges,
    locate,
    loudness_check,
    windows,
)

WORKERS = 2
# Source decodes one FFmpeg process runs: each costs little more than its frames, where a
# process of its own costs a start-up (60 ms of CPU, most of a short decode); each keeps a
# decoder until the process ends.
TAKES_PER_PROCESS = 24
LEAD_FRAMES = 3  # a source decode starts this many frames before the first frame it keeps
# A clip's edges closer than this are read in one decode: a second seek would decode from
# its own keyframe, on average half a GOP (1 s in footage with a keyframe every 2 s).
MERGE_SECONDS = 1.0

References = list[dict[int, Thumb]]  # per clip: source frame -> its thumbnail


def check_duration(timeline: Timeline, out: Path) -> DurationCheck:
    facts = stream_facts(out)
    video, audio = facts.get("video", {}), facts.get("audio", {})
    return duration_check(timeline, int(video.get("nb_read_packets", 0)),
                          float(video.get("duration", 0.0)), float(audio.get("duration", 0.0)))


def check_loudness(out: Path) -> LoudnessCheck:
    return loudness_check(*ebur128(out))


def check_render(timeline: Timeline, out: Path, references: References, fmt: OutputFormat
                 ) -> tuple[DurationCheck, list[CutCheck], LoudnessCheck]:
    """The three checks of a render, given the source frames its decode picked: the output's
    decode (the longest job, its decoder threaded) beside the loudness and the packet count."""
    with ThreadPoolExecutor(WORKERS) as pool:
        output = _decode_output(pool, timeline, out, fmt, threads=0)
        loudness = pool.submit(check_loudness, out)
        duration = pool.submit(check_duration, timeline, out)
        cuts = compare_cuts(timeline, output.result(), references)
        return duration.result(), cuts, loudness.result()


def check_cuts(timeline: Timeline, out: Path, paths: list[Path], fmt: OutputFormat,
               convert_fps: list[bool] | None = None) -> list[CutCheck]:
    """Every clip edge of any file against the source frames around the expected one, decoded
    here (`convert_fps`: per clip, whether its source runs at another rate than the
    timeline)."""
    converts = convert_fps or [False] * len(timeline.clips)
    with ThreadPoolExecutor(WORKERS) as pool:
        output = _decode_output(pool, timeline, out, fmt, threads=1)
        references = _decode_references(pool, timeline, paths, fmt, converts)
        return compare_cuts(timeline, output.result(), references)


def compare_cuts(timeline: Timeline, output: dict[int, Thumb], references: References
                 ) -> list[CutCheck]:
    """Each edge's output frame (by timeline frame) against its clip's source frames."""
    return [_cut(timeline, edge, output, references[edge.clip]) for edge in edges(timeline)]


def _decode_output(pool: Executor, timeline: Timeline, out: Path, fmt: OutputFormat,
                   threads: int) -> Future[dict[int, Thumb]]:
    picked = sorted({edge.at for edge in edges(timeline)})

    def decode() -> dict[int, Thumb]:
        (thumbs,) = thumbnails([_output_take(out, picked, fmt)], thumb_size(fmt), threads)
        # The n-th picked frame is the n-th edge frame: a short output lacks the last ones.
        return {picked[n]: thumb for n, thumb in thumbs.items()}

    return pool.submit(decode)


def _decode_references(pool: Executor, timeline: Timeline, paths: list[Path],
                       fmt: OutputFormat, converts: list[bool]) -> References:
    wanted = [(k, frames) for k, clip in enumerate(timeline.clips)
              for frames in _takes(timeline, clip)]
    takes = [_reference_take(timeline, frames, paths[k], fmt, converts[k])
             for k, frames in wanted]
    batches = [pool.submit(thumbnails, takes[first:first + TAKES_PER_PROCESS], thumb_size(fmt))
               for first in range(0, len(takes), TAKES_PER_PROCESS)]
    references: References = [{} for _ in timeline.clips]
    decoded = [thumbs for batch in batches for thumbs in batch.result()]
    for (k, frames), thumbs in zip(wanted, decoded, strict=True):
        references[k].update(pick(frames, thumbs))
    return references


def pick(wanted: list[int], thumbs: dict[int, Thumb]) -> dict[int, Thumb]:
    """A decode's thumbnails by the source frame each is: they come in the order asked."""
    return {wanted[n]: thumb for n, thumb in thumbs.items() if n < len(wanted)}


def _cut(timeline: Timeline, edge: Edge, output: dict[int, Thumb],
         references: dict[int, Thumb]) -> CutCheck:
    near = {f: t for f, t in references.items() if abs(f - edge.source) <= WINDOW}
    if edge.at in output:
        status, offset, difference = locate(output[edge.at], near, edge.source)
    else:  # the output has no such frame: the duration check says so too
        status, offset, difference = "off", 0, float("inf")
    return CutCheck(clip=edge.clip, label=timeline.clips[edge.clip].label, side=edge.side,
                    timeline_frame=edge.at, source_frame=edge.source, status=status,
                    offset=offset, difference=round(difference, 3) if difference < 1e9 else None)


def _output_take(out: Path, frames: list[int], fmt: OutputFormat) -> Take:
    """The output's frames shown at the given timeline frames' times: put on the frame grid
    from 0 by their timestamps (the frame nearest each slot, as a player shows it), then
    picked by their number, before anything scales them."""
    picks = "+".join(f"eq(n\\,{frame})" for frame in frames)
    return Take(["-i", str(out)], f"fps={fmt.rate}:start_time=0,select='{picks}'")


def _takes(timeline: Timeline, clip: Clip) -> list[list[int]]:
    """The source frames to decode for a clip's edges: a decode for each, or one for both
    when they are close."""
    found = windows(clip)
    if len(found) == 2 and found[1][0] - found[0][-1] <= round(timeline.fps * MERGE_SECONDS):
        return [sorted({*found[0], *found[1]})]
    return found


def _reference_take(timeline: Timeline, wanted: list[int], path: Path, fmt: OutputFormat,
                    convert_fps: bool) -> Take:
    """Seek a few frames early and pick the wanted frames by their time
    (`graph.reference_filter`)."""
    early = max(0, wanted[0] - LEAD_FRAMES)
    seek = timeline.seek_seconds(early)
    span = timeline.seconds(wanted[-1] + 2 - early)  # stop decoding past the last one
    return Take(["-ss", f"{seek:.6f}", "-t", f"{span:.6f}", "-i", str(path)],
                reference_filter(timeline.fps, wanted, fmt, convert_fps))
