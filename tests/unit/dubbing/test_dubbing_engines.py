"""Which engines a process gets from Settings, and what each voice family is billed as."""

from __future__ import annotations

import pytest

from tests.support.fake_audio import FakeAudioTools, RecordingSpeechEngine
from tests.support.fakes import fake_deps
from vss.adapters.kokoro import KokoroSpeechEngine
from vss.adapters.tts import google_credentials, speech_engines_from_settings
from vss.bootstrap.tts_worker import for_tts_worker
from vss.config import Settings
from vss.dubbing.prices import price_family
from vss.dubbing.templates import VoiceRef
from vss.ports import Preloading, SpeechEngines


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch):
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "K_SERVICE", "VSS_TTS_OFFLINE_ENGINES"):
        monkeypatch.delenv(name, raising=False)


def test_without_credentials_cloud_templates_go_offline_kokoro_first():
    engines = speech_engines_from_settings(Settings())
    assert engines.cloud is None
    assert engines.cloud_missing == "no Google credentials are configured"
    assert [e.name for e in engines.offline] == ["kokoro", "espeak-ng"]


def test_an_endpoint_override_selects_cloud_tts_with_its_cloning_keys():
    engines = speech_engines_from_settings(Settings(
        tts_endpoint="http://127.0.0.1:9", tts_voice_cloning_keys={"chinese_paieas_replication":
                                                                   "k-1"}))
    assert engines.cloud is not None and engines.cloud.name == "google-tts"
    assert engines.cloning_keys == {"chinese_paieas_replication": "k-1"}


def test_offline_can_be_forced_even_with_credentials():
    engines = speech_engines_from_settings(Settings(tts_provider="offline",
                                                     tts_endpoint="http://127.0.0.1:9"))
    assert engines.cloud is None and "offline" in engines.cloud_missing


def test_credentials_are_found_without_asking_the_network(monkeypatch, tmp_path):
    assert google_credentials(Settings()) is None
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    assert google_credentials(Settings()) is None
    (tmp_path / "sa.json").write_text("{}")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "sa.json"))
    assert google_credentials(Settings()) == "GOOGLE_APPLICATION_CREDENTIALS"
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    monkeypatch.setenv("K_SERVICE", "tts-worker")
    assert google_credentials(Settings()) == "the Cloud Functions service account"


def test_the_cloning_keys_are_masked_like_every_secret():
    settings = Settings(tts_voice_cloning_keys={"chinese_paieas_replication": "secret-key"})
    assert "secret-key" in settings.secret_values()
    assert "secret-key" not in repr(settings)


@pytest.mark.parametrize(("voice", "cloned", "family"), [
    (VoiceRef(voice="cmn-CN-Chirp3-HD-Kore"), False, "chirp3-hd"),
    (VoiceRef(voice="en-US-Wavenet-D"), False, "wavenet"),
    (VoiceRef(voice="Puck", model="gemini-2.5-pro-tts"), False, "gemini-2.5-pro-tts"),
    (VoiceRef(voice="cmn-CN-Chirp3-HD-Leda"), True, "instant-custom-voice"),
])
def test_each_voice_family_has_its_price_key(voice, cloned, family):
    assert price_family("google", voice, cloned=cloned) == family
    assert family in Settings().tts_prices
    assert price_family("kokoro", voice) == "kokoro"


class _Preloading:
    name = "preloading"

    def __init__(self, fails: Exception | None = None) -> None:
        self.preloaded = 0
        self.fails = fails

    def speak(self, request):  # type: ignore[no-untyped-def]
        raise AssertionError("not spoken to")

    def preload(self) -> None:
        self.preloaded += 1
        if self.fails is not None:
            raise self.fails


def test_the_tts_worker_preloads_its_offline_engines_before_it_forks():
    engine = _Preloading()
    speech = SpeechEngines(offline=[engine, RecordingSpeechEngine()])  # the latter: no preload
    base = fake_deps()

    for_tts_worker(Settings(), base, speech=speech, audio=FakeAudioTools())
    assert engine.preloaded == 0  # tests and tools build one without loading models
    for_tts_worker(Settings(), base, speech=speech, audio=FakeAudioTools(), preload=True)
    assert engine.preloaded == 1


def test_a_model_that_fails_to_preload_is_a_warning_not_a_worker_that_cannot_start(caplog):
    engine = _Preloading(fails=RuntimeError("model corrupted"))
    speech = SpeechEngines(offline=[engine, RecordingSpeechEngine()])

    deps = for_tts_worker(Settings(), fake_deps(), speech=speech, audio=FakeAudioTools(),
                          preload=True)
    assert engine.preloaded == 1 and deps.segment_handler is not None
    assert "offline engine preloading not preloaded: RuntimeError: model corrupted" \
        in caplog.text


def test_kokoro_is_an_engine_the_worker_preloads(tmp_path):
    # Checked at run time (a runtime_checkable protocol): a renamed `preload` would quietly
    # stop the preload.
    assert isinstance(KokoroSpeechEngine(tmp_path), Preloading)
