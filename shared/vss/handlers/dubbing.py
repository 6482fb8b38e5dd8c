"""GENERATE_DUBBING in three steps: plan the segments and fan them out (the stage worker);
synthesise each segment on its own (the TTS worker); assemble the dubbing script, the narration
track and the subtitles once all are done (the stage worker). The work itself is the dubbing
core (`vss.dubbing`); this module reads and writes the task's files around it.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from vss.domain.artifacts import NarrationScript
from vss.domain.payloads import GenerateDubbingPayload
from vss.domain.results import DubbingPlanResult, DubbingResult
from vss.domain.segments import SynthesizedSegmentOutput
from vss.domain.usage import Usage
from vss.dubbing.assemble import assemble as assemble_script
from vss.dubbing.director import llm_director, llm_rewriter
from vss.dubbing.plan import SegmentRequest, characters_of, plan_segments
from vss.dubbing.synthesis import synthesize_segment
from vss.dubbing.templates import check_dubbing_params
from vss.handler_config import SynthesisConfig
from vss.handlers._io import read_dataset, read_model, write_json
from vss.ports import AudioTools, SpeechEngines
from vss.stage_handler import SegmentContext, SegmentOutput, StageContext, StageOutput


class DubbingPlan(BaseModel):
    """The plan artifact: every segment's request, as fanned out."""

    template_name: str
    segments: list[SegmentRequest]


def plan(ctx: StageContext) -> StageOutput:
    payload = ctx.inputs_as(GenerateDubbingPayload)
    params = payload.service_params
    check_dubbing_params(params)
    script = read_model(ctx.files, payload.input_narration_path, NarrationScript)
    characters = characters_of(read_dataset(ctx.files, payload.blueprint_path)) \
        if payload.blueprint_path else []
    requests = plan_segments(script, params, characters=characters)
    # Before a segment is fanned out: a dubbing that would pass the day's speech quota fails
    # now, not after half of it was paid for. Re-syntheses while fitting a segment to its slot
    # are not foreseen here (at most `fit_attempts` takes of a segment, usually one).
    ctx.check_tts_characters(sum(len(request.text) for request in requests))
    path = write_json(ctx.files, "dubbing/plan.json",
                      DubbingPlan(template_name=params.template_name, segments=requests))
    return StageOutput(
        result=DubbingPlanResult(output_file_path=path, segments=len(requests)),
        fan_out=[r.model_dump(mode="json") for r in requests],
    )


def synthesize(ctx: SegmentContext, *, engines: SpeechEngines, audio: AudioTools,
               config: SynthesisConfig) -> SegmentOutput:
    """One segment, spoken through `engines` (built once per TTS worker instance)."""
    request = SegmentRequest.model_validate(ctx.segment.request)
    llm = ctx.llm()
    synthesized = synthesize_segment(
        request, engines, audio, llm_rewriter(llm) if llm else None, config,
        director=llm_director(llm) if llm and request.director else None,
    )
    # A deterministic name: a retried segment overwrites its own file.
    path = ctx.files.write(f"dubbing/{request.basename}", synthesized.wav, "audio/wav")
    output = SynthesizedSegmentOutput(audio_file_path=path, record=synthesized.record)
    return SegmentOutput(output=output.model_dump(mode="json"), usage=Usage(
        tts_characters=sum(synthesized.record.tts_characters.values())))


def assemble(ctx: StageContext, *, prices: Mapping[str, float]) -> StageOutput:
    payload = ctx.inputs_as(GenerateDubbingPayload)
    done = [SynthesizedSegmentOutput.model_validate(output) for output in ctx.fanned_in]
    assembly = assemble_script(
        [d.record for d in done], [ctx.files.read(d.audio_file_path) for d in done],
        audio_paths=[d.audio_file_path for d in done],
        template_name=payload.service_params.template_name, prices=prices,
    )
    track = ctx.files.write("dubbing/narration_track.wav", assembly.track_wav, "audio/wav")
    srt = ctx.files.write("dubbing/narration.srt", assembly.srt.encode(), "application/x-subrip")
    vtt = ctx.files.write("dubbing/narration.vtt", assembly.vtt.encode(), "text/vtt")
    script = assembly.script.model_copy(update={
        "narration_track_path": track, "subtitles_srt_path": srt, "subtitles_vtt_path": vtt})
    path = write_json(ctx.files, "dubbing_script.json", script)
    cost = script.usage.cost_usd if script.usage else 0.0
    return StageOutput(
        result=DubbingResult(output_file_path=path, segments=len(done),
                             total_duration=script.total_duration, engine=script.engine or "",
                             narration_track_path=track, subtitles_srt_path=srt,
                             subtitles_vtt_path=vtt),
        usage=Usage(cost_usd=cost),
    )
