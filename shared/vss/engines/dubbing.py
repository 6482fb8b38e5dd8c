"""GENERATE_DUBBING: one WAV per narration snippet, and the dubbing script that lists them."""

from __future__ import annotations

from vss.adapters.espeak import EspeakSynthesizer
from vss.domain.artifacts import DubbingScript, DubbingSegment, NarrationScript
from vss.domain.audio import wav_duration_seconds
from vss.domain.payloads import GenerateDubbingPayload
from vss.engines._io import read_model, write_json
from vss.service.stages import StageContext, StageOutput


def run(ctx: StageContext) -> StageOutput:
    payload = GenerateDubbingPayload.model_validate(ctx.task.payload)
    params = payload.service_params
    script = read_model(ctx.files, payload.input_narration_path, NarrationScript)
    synthesizer = EspeakSynthesizer(ctx.deps.settings.espeak_binary)
    segments = []
    characters = 0
    for index, snippet in enumerate(script.narration_script):
        # Deterministic names: a retried stage overwrites, never duplicates.
        audio = synthesizer.synthesize(snippet.narration, params.target_lang.value,
                                       params.speaking_rate or 1.0)
        path = ctx.files.write(f"dubbing/narration_{index:03d}.wav", audio, "audio/wav")
        characters += len(snippet.narration)
        segments.append(DubbingSegment(
            narration=snippet.narration, source_scene_ids=snippet.source_scene_ids,
            duration_seconds=round(wav_duration_seconds(audio), 3), audio_file_path=path,
        ))
    dubbing = DubbingScript(
        dubbing_script=segments, template_name=params.template_name, engine=synthesizer.name,
        total_duration=round(sum(s.duration_seconds for s in segments), 3),
    )
    path = write_json(ctx.files, "dubbing_script.json", dubbing)
    return StageOutput(
        result={"output_file_path": path, "segments": len(segments),
                "total_duration": dubbing.total_duration, "engine": synthesizer.name},
        usage={"tts_characters": characters, "cost_usd": 0.0},
    )
