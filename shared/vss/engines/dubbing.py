"""GENERATE_DUBBING in three steps: plan the segments (one per narration snippet) and fan them
out; synthesise each segment on its own (the TTS worker); assemble the dubbing script once all
are done. Each WAV keeps a unique, deterministic name, so a retried segment overwrites itself.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from vss.domain.artifacts import DubbingScript, DubbingSegment, NarrationScript
from vss.domain.payloads import GenerateDubbingPayload
from vss.domain.results import DubbingPlanResult, DubbingResult
from vss.domain.tasks import Stage
from vss.engines._io import read_model, write_json
from vss.stage_handler import SegmentContext, SegmentOutput, StageContext, StageOutput


class SegmentRequest(BaseModel):
    """What one segment speaks, and how."""

    index: int
    narration: str
    source_scene_ids: list[int]
    lang: str
    voice: str | None = None
    rate: float = 1.0
    basename: str = Field(description="File name of the segment's WAV, unique in the script.")


class SegmentAudio(BaseModel):
    """What a synthesised segment left behind."""

    audio_file_path: str
    duration_seconds: float
    engine: str
    voice: str
    characters: int


class DubbingPlan(BaseModel):
    template_name: str
    segments: list[SegmentRequest]


def plan(ctx: StageContext) -> StageOutput:
    payload = ctx.inputs_as(GenerateDubbingPayload)
    params = payload.service_params
    script = read_model(ctx.files, payload.input_narration_path, NarrationScript)
    requests = [
        SegmentRequest(
            index=index, narration=snippet.narration, source_scene_ids=snippet.source_scene_ids,
            lang=params.target_lang.value, voice=params.voice_name,
            rate=params.speaking_rate or 1.0, basename=f"narration_{index:03d}.wav",
        )
        for index, snippet in enumerate(script.narration_script)
    ]
    path = write_json(ctx.files, "dubbing/plan.json",
                      DubbingPlan(template_name=params.template_name, segments=requests))
    return StageOutput(
        result=DubbingPlanResult(output_file_path=path, segments=len(requests)),
        fan_out=[r.model_dump(mode="json") for r in requests],
    )


def synthesize_segment(ctx: SegmentContext) -> SegmentOutput:
    request = SegmentRequest.model_validate(ctx.segment.request)
    speech = ctx.synthesizer.synthesize(request.narration, lang=request.lang,
                                        voice=request.voice, rate=request.rate)
    path = ctx.files.write(f"dubbing/{request.basename}", speech.wav, "audio/wav")
    audio = SegmentAudio(audio_file_path=path, duration_seconds=round(speech.duration_seconds, 3),
                         engine=speech.engine, voice=speech.voice,
                         characters=len(request.narration))
    return SegmentOutput(output=audio.model_dump(mode="json"),
                         usage={"tts_characters": float(audio.characters)})


def assemble(ctx: StageContext) -> StageOutput:
    payload = ctx.inputs_as(GenerateDubbingPayload)
    params = payload.service_params
    requests = _planned(ctx)
    audio = [SegmentAudio.model_validate(output) for output in ctx.fanned_in]
    segments = [
        DubbingSegment(narration=request.narration, source_scene_ids=request.source_scene_ids,
                       duration_seconds=done.duration_seconds,
                       audio_file_path=done.audio_file_path)
        for request, done in zip(requests, audio, strict=True)
    ]
    engine = ", ".join(sorted({done.engine for done in audio}))
    dubbing = DubbingScript(
        dubbing_script=segments, template_name=params.template_name, engine=engine,
        total_duration=round(sum(s.duration_seconds for s in segments), 3),
    )
    path = write_json(ctx.files, "dubbing_script.json", dubbing)
    return StageOutput(result=DubbingResult(output_file_path=path, segments=len(segments),
                                            total_duration=dubbing.total_duration, engine=engine))


def _planned(ctx: StageContext) -> list[SegmentRequest]:
    plan_path = ctx.task.results[Stage.DUBBING].output_file_path
    return read_model(ctx.files, plan_path, DubbingPlan).segments
