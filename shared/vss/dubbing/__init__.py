"""The dubbing core: voice templates, segment planning, synthesising one segment (speech,
post-processing, fit) and assembly. Pure except through ports (SpeechEngine, AudioTools,
StructuredLlm); the fan-out/fan-in that runs it lives in the service layer and the workers.

    requests = plan_segments(script, params, load_templates(), characters)
    synthesized = synthesize_segment(request, engines, audio_tools, rewrite, config)
    assembly = assemble(records, wavs, audio_paths=..., template_name=..., prices=...)
"""
