"""GENERATE_DUBBING: one WAV per narration snippet, and the dubbing script that lists them."""

from __future__ import annotations

from vss.domain.artifacts import DubbingScript, DubbingSegment, NarrationScript
from vss.domain.payloads import GenerateDubbingPayload
from vss.domain.results import DubbingResult
from vss.engines._io import read_model, write_json
from vss.stage_handler import StageContext, StageOutput


def run(ctx: StageContext) -> StageOutput:
    payload = ctx.inputs_as(GenerateDubbingPayload)
    params = payload.service_params
    script = read_model(ctx.files, payload.input_narration_path, NarrationScript)
    segments = []
    characters = 0
    engines = set()
    for index, snippet in enumerate(script.narration_script):
        speech = ctx.synthesizer.synthesize(
            snippet.narration, lang=params.target_lang.value, voice=params.voice_name,
            rate=params.speaking_rate or 1.0,
        )
        # Deterministic names: a retried stage overwrites, never duplicates.
        path = ctx.files.write(f"dubbing/narration_{index:03d}.wav", speech.wav, "audio/wav")
        characters += len(snippet.narration)
        engines.add(speech.engine)
        segments.append(DubbingSegment(
            narration=snippet.narration, source_scene_ids=snippet.source_scene_ids,
            duration_seconds=round(speech.duration_seconds, 3), audio_file_path=path,
        ))
    engine = ", ".join(sorted(engines))
    dubbing = DubbingScript(
        dubbing_script=segments, template_name=params.template_name, engine=engine,
        total_duration=round(sum(s.duration_seconds for s in segments), 3),
    )
    path = write_json(ctx.files, "dubbing_script.json", dubbing)
    return StageOutput(
        result=DubbingResult(output_file_path=path, segments=len(segments),
                             total_duration=dubbing.total_duration, engine=engine),
        usage={"tts_characters": characters, "cost_usd": 0.0},
    )
