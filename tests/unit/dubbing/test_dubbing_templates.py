"""Voice templates as data, the edge's dubbing payloads, and planning segments."""

from __future__ import annotations

import io
import json
import wave

import pytest

from vss.domain.artifacts import NarrationScript
from vss.domain.payloads import DubbingServiceParams, GenerateDubbingPayload
from vss.dubbing.plan import plan_segments
from vss.dubbing.templates import (
    check_dubbing_params,
    load_templates,
    parse_catalog,
    reference_audio,
    resolve_voice,
)
from vss.errors import BadRequest, PayloadInvalid

GEMINI_PAYLOAD = {"input_narration_path": "t/narration.json", "service_params": {
    "template_name": "chinese_gemini_emotional", "voice_name": "Puck", "language_code": "cmn-CN",
    "speaking_rate": 1.0, "model_name": "gemini-2.5-pro-tts"}}
CLONE_PAYLOAD = {"input_narration_path": "t/narration.json", "service_params": {
    "template_name": "chinese_paieas_replication", "speed": 1.0}}


def pacing(budget: float, footage: float) -> dict[str, object]:
    return {"footage_seconds": footage, "budget_seconds": budget, "estimated_seconds": budget,
            "speech_rate": 4.5, "action": "fits"}


def script(*lines: str, lang: str = "zh", paced: bool = True, **extra: object) -> NarrationScript:
    return NarrationScript.model_validate({"lang": lang, **extra, "narration_script": [
        {"narration": text, "source_scene_ids": [i + 1],
         **({"pacing": pacing(4.0 + i, 6.0 + i)} if paced else {})}
        for i, text in enumerate(lines)]})


def test_the_packaged_templates_hold_every_voice_the_issue_names():
    catalog = load_templates()
    for name in ("chinese_gemini_emotional", "chinese_paieas_replication",
                 "english_google_wavenet", "english_chirp3_hd", "chinese_chirp3_hd",
                 "local_zh", "local_en", "local_fr"):
        assert name in catalog.templates
    gemini = catalog.templates["chinese_gemini_emotional"]
    assert gemini.narrator.model == "gemini-2.5-pro-tts" and gemini.narrator.prompt
    assert gemini.director and gemini.voice_name_from_request
    clone = catalog.templates["chinese_paieas_replication"].narrator.clone
    assert clone is not None and clone.transcript == "希望你以后能够做得比我还好哟"
    with wave.open(io.BytesIO(reference_audio(clone))) as wav:
        assert 3.0 < wav.getnframes() / wav.getframerate() < 4.0
    assert all("Chirp3-HD" in (t.narrator.voice or "") for name, t in catalog.templates.items()
               if name.endswith("chirp3_hd"))


def test_an_unknown_template_is_refused_with_its_pointer_and_the_known_names():
    with pytest.raises(BadRequest) as caught:
        check_dubbing_params(DubbingServiceParams(template_name="robot_voice"))
    details = caught.value.details
    assert details["errors"][0]["pointer"] == "/payload/service_params/template_name"
    assert "chinese_gemini_emotional" in details["known"] and "local_zh" in details["known"]
    check_dubbing_params(DubbingServiceParams(template_name="local_en"))  # no error


def test_default_is_the_offline_template_of_the_language():
    catalog = load_templates()
    assert catalog.get("default", "en").name == "local_en"
    assert catalog.get("default", "zh").name == "local_zh"


@pytest.mark.parametrize("change", [
    lambda d: d["aliases"]["default"].update(zh="no_such_template"),
    lambda d: d["templates"]["local_zh"].update(engine="quantum"),
    lambda d: d["templates"]["local_zh"].update(colour="blue"),
    lambda d: d["templates"]["chinese_paieas_replication"]["narrator"]["clone"].update(
        reference_audio="missing.wav"),
])
def test_an_invalid_template_file_is_refused_when_loaded(change):
    from importlib import resources

    data = json.loads(resources.files("vss.dubbing").joinpath("voices", "templates.json")
                      .read_text())
    change(data)
    with pytest.raises(PayloadInvalid):
        parse_catalog(json.dumps(data))


def test_the_edge_payloads_are_accepted_exactly_as_sent():
    gemini = GenerateDubbingPayload.model_validate(GEMINI_PAYLOAD).service_params
    assert (gemini.voice_name, gemini.language_code, gemini.model_name, gemini.speaking_rate) \
        == ("Puck", "cmn-CN", "gemini-2.5-pro-tts", 1.0)
    clone = GenerateDubbingPayload.model_validate(CLONE_PAYLOAD).service_params
    assert clone.speaking_rate == 1.0 and clone.template_name == "chinese_paieas_replication"


def test_a_gemini_template_speaks_the_voice_and_model_the_edge_asks_for():
    catalog = load_templates()
    template = catalog.templates["chinese_gemini_emotional"]
    params = DubbingServiceParams(template_name=template.name, voice_name="Charon",
                                  model_name="gemini-2.5-flash-tts", language_code="cmn-CN")
    voice = resolve_voice(template, params, "zh")
    assert (voice.voice, voice.model, voice.language_code) == \
        ("Charon", "gemini-2.5-flash-tts", "cmn-CN")
    chirp = catalog.templates["chinese_chirp3_hd"]
    english = resolve_voice(chirp, DubbingServiceParams(template_name=chirp.name), "en")
    assert (english.voice, english.language_code) == ("en-US-Chirp3-HD-Charon", "en-US")


def test_segments_take_their_slot_from_the_pacing_budget_and_unique_basenames():
    requests = plan_segments(script("第一句。", "第二句。", "第三句。"),
                             DubbingServiceParams(template_name="local_zh", speaking_rate=1.2))
    assert [r.slot_seconds for r in requests] == [4.0, 5.0, 6.0]
    assert {r.slot_source for r in requests} == {"budget"}
    assert [r.footage_seconds for r in requests] == [6.0, 7.0, 8.0]
    assert len({r.basename for r in requests}) == 3
    assert all(r.tempo == 1.2 and r.engine == "offline" for r in requests)


def test_a_script_without_pacing_gets_its_estimated_speech_time_as_slot():
    (request,) = plan_segments(script("一二三四五六七八九十。", paced=False),
                               DubbingServiceParams(template_name="local_zh"))
    assert request.slot_source == "estimate" and request.slot_seconds == pytest.approx(10 / 4.5,
                                                                                      rel=0.01)


def test_the_language_code_names_the_language_when_target_lang_is_absent():
    requests = plan_segments(script("She walks in.", lang="zh"),
                             DubbingServiceParams(template_name="chinese_gemini_emotional",
                                                  language_code="en-US"))
    assert requests[0].lang == "en" and requests[0].voice.language_code == "en-US"


def test_a_quoted_line_is_spoken_by_its_character_and_a_quoted_nickname_is_not():
    line = "车小小又叫他“始祖鸟”，楚昊轩冷冷地说：“你给我站住！”她转身就跑。"
    (request,) = plan_segments(script(line), DubbingServiceParams(template_name="local_zh"),
                               characters=["车小小", "楚昊轩"])
    speakers = [(p.speaker, p.text) for p in request.parts]
    assert speakers == [("narrator", "车小小又叫他“始祖鸟”，楚昊轩冷冷地说："),
                        ("楚昊轩", "你给我站住！"), ("narrator", "她转身就跑。")]
    assert request.voice_of("楚昊轩").voice != request.voice.voice
    assert "".join(p.text for p in request.parts) in line.replace("“你给我站住！”", "你给我站住！")


def test_a_first_person_narration_speaks_as_its_character_in_the_chosen_voice():
    snapshot = {"control_params": {"perspective": "first_person",
                                   "perspective_character": "车小小"}}
    params = DubbingServiceParams.model_validate(
        {"template_name": "local_zh", "character_voices": {"车小小": "jf_nezumi"}})
    (request,) = plan_segments(script("我叫车小小。", config_snapshot=snapshot), params)
    assert request.speaker == "车小小" and request.voice.voice == "jf_nezumi"
    assert [p.speaker for p in request.parts] == ["车小小"]


def test_the_datasets_speakers_are_the_characters_a_quote_is_attributed_to(blueprint_bytes):
    from vss.domain.dataset import parse_dataset
    from vss.dubbing.plan import characters_of

    names = characters_of(parse_dataset(blueprint_bytes))
    assert names and "车小小" in names[:5] and "楚昊轩" in names[:5]
    assert len(set(names)) == len(names)


def test_the_speaker_is_the_name_ending_last_before_the_quote_and_the_longest():
    from vss.dubbing.speakers import split_speakers

    names = ["楚昊轩", "爷爷", "楚昊轩的爷爷", "车小小"]
    parts = split_speakers("车小小刚进门，楚昊轩的爷爷就问：“你就是车小小？”", "zh", names)
    assert [(p.speaker, p.text) for p in parts][1] == ("楚昊轩的爷爷", "你就是车小小？")
    parts = split_speakers('Then Mara said, "Stop right there!"', "en", ["Mara"])
    assert [(p.speaker, p.text) for p in parts] == [("narrator", "Then Mara said,"),
                                                    ("Mara", "Stop right there!")]
