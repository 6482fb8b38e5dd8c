"""Text a TTS engine will read: no brackets, stage directions, markup or emoji."""

from __future__ import annotations

import re

_BRACKETED = re.compile(r"\([^()]*\)|（[^（）]*）|\[[^\[\]]*\]|【[^【】]*】|\{[^{}]*\}|<[^<>]*>")
_MARKUP = re.compile(r"[*_#`~|>]+")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\ufe0f]")
_SPACES = re.compile(r"[ \t\r\n]+")
_LABEL = re.compile(r"^\s*(?:旁白|解说|narrator|narration)\s*[:：]\s*", re.IGNORECASE)


def clean_tts_text(text: str) -> str:
    """Strip what a voice must not read: bracketed directions like （笑）/(sighs)/[music],
    markdown, emoji, a leading 'Narrator:' label; collapse whitespace."""
    previous = None
    while previous != text:  # nested brackets come off layer by layer
        previous, text = text, _BRACKETED.sub("", text)
    text = _EMOJI.sub("", _MARKUP.sub("", text))
    text = _LABEL.sub("", text)
    return _SPACES.sub(" ", text).strip()


def has_markup(text: str) -> bool:
    return clean_tts_text(text) != _SPACES.sub(" ", text).strip()
