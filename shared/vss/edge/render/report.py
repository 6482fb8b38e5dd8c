"""The render report: what was rendered and how it checked (written next to the video as
`<name>.render.json`; the review page shows it)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from vss.edge.render.plan import Timeline
from vss.edge.render.verify import CutCheck, CutsSummary, DurationCheck, LoudnessCheck


class ReportClip(BaseModel):
    segment: int
    number: int
    label: str
    key_line: bool
    scene_id: int
    chapter_id: int
    file: str
    source_in_frame: int
    source_in: str
    source_out: str
    frames: int
    timeline_start_frame: int
    timeline_start: float
    audio_mode: str
    gain_db: float | None
    freeze_frame: bool


class ReportCue(BaseModel):
    segment: int
    text: str
    audio: str
    timeline_start_frame: int
    timeline_start: float
    duration: float
    slot_seconds: float


class RenderReport(BaseModel):
    output: str
    fps: float
    frame_rate: str
    width: int
    height: int
    total_frames: int
    duration: float
    subtitles: bool
    passes: int = Field(description="FFmpeg passes: each run of clips' picture (its sources "
                        "decoded once) and sound bed, the mix, the sound, the join.")
    render_seconds: float
    speed_x_realtime: float
    verify_seconds: float
    notes: list[str]
    duration_check: DurationCheck
    cuts: CutsSummary
    cut_checks: list[CutCheck]
    loudness: LoudnessCheck
    clips: list[ReportClip]
    cues: list[ReportCue]

    @property
    def ok(self) -> bool:
        return self.duration_check.ok and self.cuts.ok and self.loudness.ok


def report_clips(timeline: Timeline, files: list[str]) -> list[ReportClip]:
    return [
        ReportClip(segment=c.segment, number=c.number, label=c.label, key_line=c.key_line,
                   scene_id=c.scene_id, chapter_id=c.chapter_id, file=name,
                   source_in_frame=c.source_in, source_in=timeline.timecode(c.source_in),
                   source_out=timeline.timecode(c.source_in + c.frames), frames=c.frames,
                   timeline_start_frame=c.start, timeline_start=round(timeline.seconds(c.start), 6),
                   audio_mode=c.audio_mode, gain_db=c.gain_db, freeze_frame=c.freeze)
        for c, name in zip(timeline.clips, files, strict=True)]


def report_cues(timeline: Timeline) -> list[ReportCue]:
    return [
        ReportCue(segment=q.segment, text=q.text, audio=q.audio, timeline_start_frame=q.start,
                  timeline_start=round(timeline.seconds(q.start), 6), duration=q.duration,
                  slot_seconds=round(timeline.seconds(q.frames), 6))
        for q in timeline.cues]


def summary_lines(report: RenderReport) -> list[str]:
    """The checks as the CLI prints them."""
    d, c, loud = report.duration_check, report.cuts, report.loudness
    mark = {True: "OK", False: "FAILED"}
    lines = [
        f"check duration: video {d.video_frames} frames / {d.video_seconds:.3f} s, audio "
        f"{d.audio_seconds:.3f} s; timeline {d.timeline_frames} frames / "
        f"{d.timeline_seconds:.3f} s (tolerance one frame, {d.frame_seconds:.3f} s) "
        f"{mark[d.ok]}",
        f"check cuts: {c.on_frame} of {c.checked} clip edges on their frame"
        + (f", {c.indistinguishable} indistinguishable (a still picture)"
           if c.indistinguishable else "")
        + (f", {len(c.off)} off" if c.off else "") + f" {mark[c.ok]}",
        f"check loudness: {loud.integrated_lufs:.1f} LUFS (target {loud.target_lufs:.0f} +/-1), "
        f"true peak {loud.true_peak_dbtp:.1f} dBTP (max {loud.max_true_peak_dbtp:.0f}) "
        f"{mark[loud.ok]}",
    ]
    lines += [f"  {cut.label} {cut.side} at timeline frame {cut.timeline_frame}: shows source "
              f"frame {cut.source_frame + cut.offset}, not {cut.source_frame}"
              for cut in c.off[:10]]
    return lines
