"""How each style sounds in the offline writer: documented phrasing choices, not filler.

The offline writer composes from the dataset's own sentences, so a style cannot reword them
freely; it changes the voice where a rule can do so honestly:

- what is chosen: each style weights summaries, highlights and dialogue differently and favours
  some moods or words (humorous: dialogue and joyful scenes; serious: summaries; emotional:
  sentences with words of feeling; healing: warm, calm scenes over angry ones; suspense: tense
  scenes and highlights; sarcastic: sentences that turn on a contrast);
- how a line of dialogue is introduced (`说：` / `张口就来：` / `说得倒轻巧：`…), every other
  quote, the others plainly (`说：`); at most two quoted lines per snippet;
- the word that opens a contrasting clause (“，但…” becomes “，结果…” humorous, “，偏偏…”
  sarcastic, “，谁知…” suspense);
- the connective that opens every other snippet, taken in turn from a bank of three or four,
  so no connective comes back before the rest of its bank has been used;
- serious and healing narrate in full stops (quoted lines keep their exclamations);
- suspense ends every other snippet but the last on a question about the character the next
  snippet follows (named from its scenes, never invented).

`objective` (alias `neutral`) uses none of these: plain sentences, `X说：` / `X says,`. A
`custom` style is followed by the Gemini writer only; offline it is written as `objective` and
the notes say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vss.domain.dataset import Mood, Scene
from vss.domain.payloads import Style

Bank = dict[str, tuple[str, ...]]  # per language


@dataclass(frozen=True)
class Voice:
    # (summary, highlight, dialogue) priority weights
    weights: tuple[float, float, float] = (3.0, 2.0, 1.5)
    favoured_moods: frozenset[Mood] = frozenset()
    avoided_moods: frozenset[Mood] = frozenset()
    favoured_words: Bank = field(default_factory=dict)
    # per language: a (third person, first person "I") template with {speaker} and {line};
    # quoted lines alternate between it and the plain one
    quote: dict[str, tuple[str, str]] = field(default_factory=dict)
    contrast: dict[str, str] = field(default_factory=dict)  # replaces a clause-opening "but"
    connectives: Bank = field(default_factory=dict)
    calm: bool = False  # narrate "!" as "."
    teasers: Bank = field(default_factory=dict)  # {name}

    def mood_factor(self, scene: Scene) -> float:
        if scene.mood in self.favoured_moods:
            return 1.3
        return 0.7 if scene.mood in self.avoided_moods else 1.0

    def word_factor(self, text: str, lang: str) -> float:
        words = self.favoured_words.get(lang, ())
        return 1.5 if any(word in text.lower() for word in words) else 1.0


_PLAIN_QUOTE = {"zh": ("{speaker}说：“{line}”", "{speaker}说：“{line}”"),
                "en": ('{speaker} says, "{line}"', 'I say, "{line}"'),
                "fr": ("{speaker} dit : « {line} »", "Je dis : « {line} »")}
_UNATTRIBUTED = {"zh": "“{line}”", "en": '"{line}"', "fr": "« {line} »"}
_CONTRAST = {"zh": re.compile(r"(?<=[，,])\s*(?:但是|可是|然而|不过|但(?![愿凡]))"),
             "en": re.compile(r"(?<=,) (?:but|however,?)(?= )"),
             "fr": re.compile(r"(?<=,) mais(?= )")}
_FEELINGS: Bank = {
    "zh": ("心", "泪", "哭", "感动", "难过", "伤心", "委屈", "害怕", "开心", "温暖", "后悔",
           "孤单", "想念"),
    "en": ("heart", "tear", "cry", "cries", "hurt", "afraid", "alone", "miss", "regret",
           "grief", "joy"),
    "fr": ("cœur", "larme", "pleur", "blessé", "peur", "seul", "manque", "regret", "chagrin",
           "joie"),
}
_TURNS: Bank = {"zh": ("但是", "可是", "然而", "不过", "但", "却", "竟然", "没想到"),
                "en": ("but", "however", "instead", "yet"),
                "fr": ("mais", "pourtant", "cependant", "au lieu")}

VOICES: dict[Style, Voice] = {
    Style.OBJECTIVE: Voice(quote=_PLAIN_QUOTE),
    Style.SERIOUS: Voice(
        weights=(3.5, 2.0, 1.0), calm=True,
        quote={"zh": ("{speaker}说道：“{line}”",) * 2,
               "en": ('{speaker} states: "{line}"', 'I state: "{line}"'),
               "fr": ("{speaker} déclare : « {line} »", "Je déclare : « {line} »")},
        contrast={"zh": "然而", "en": " yet", "fr": " cependant"},
        connectives={"zh": ("随后，", "此后，", "接下来，"),
                     "en": ("Then, ", "After that, ", "Next, "),
                     "fr": ("Ensuite, ", "Puis, ", "Après cela, ")}),
    Style.HUMOROUS: Voice(
        weights=(3.0, 2.0, 2.0), favoured_moods=frozenset({Mood.JOYFUL, Mood.HILARIOUS,
                                                             Mood.SWEET}),
        quote={"zh": ("{speaker}张口就来：“{line}”",) * 2,
               "en": ('{speaker} comes out with: "{line}"', 'I come out with: "{line}"'),
               "fr": ("{speaker} lâche : « {line} »", "Je lâche : « {line} »")},
        contrast={"zh": "结果", "en": " except", "fr": " sauf que"},
        connectives={"zh": ("好家伙，", "结果呢，", "这还没完，", "谁能想到，"),
                     "en": ("Sure enough, ", "And of course, ", "Plot twist: ", "Naturally, "),
                     "fr": ("Et voilà, ", "Évidemment, ", "Coup de théâtre : ", "Bien sûr, ")}),
    Style.SARCASTIC: Voice(
        weights=(3.0, 2.0, 2.0), favoured_words=_TURNS,
        quote={"zh": ("{speaker}说得倒轻巧：“{line}”",) * 2,
               "en": ('{speaker}, ever so helpfully: "{line}"',
                      'I, ever so helpfully: "{line}"'),
               "fr": ("{speaker}, avec un aplomb remarquable : « {line} »",
                      "Moi, avec un aplomb remarquable : « {line} »")},
        contrast={"zh": "偏偏", "en": " but naturally", "fr": " mais évidemment"},
        connectives={"zh": ("果不其然，", "好戏还在后头，", "真是妙极了，"),
                     "en": ("Predictably, ", "Better still, ", "How wonderful: "),
                     "fr": ("Comme par hasard, ", "Mieux encore, ", "Quelle surprise : ")}),
    Style.EMOTIONAL: Voice(
        weights=(2.5, 2.5, 2.5), favoured_words=_FEELINGS,
        favoured_moods=frozenset({Mood.SAD, Mood.ROMANTIC, Mood.WARM}),
        quote={"zh": ("{speaker}的一句话，让人心头一颤：“{line}”",) * 2,
               "en": ("{speaker}'s words cut deep: \"{line}\"", 'My words cut deep: "{line}"'),
               "fr": ("Les mots de {speaker} touchent au cœur : « {line} »",
                      "Mes mots touchent au cœur : « {line} »")},
        contrast={"zh": "可是", "en": " and yet", "fr": " et pourtant"},
        connectives={"zh": ("那一刻，", "而此时，", "说到底，"),
                     "en": ("In that moment, ", "And yet, ", "Deep down, "),
                     "fr": ("À cet instant, ", "Et pourtant, ", "Au fond, ")}),
    Style.SUSPENSE: Voice(
        weights=(2.5, 3.0, 1.5),
        favoured_moods=frozenset({Mood.TENSE, Mood.EERIE, Mood.SUSPENSEFUL}),
        quote={"zh": ("{speaker}开口了：“{line}”",) * 2,
               "en": ('Then {speaker} speaks: "{line}"', 'Then I speak: "{line}"'),
               "fr": ("{speaker} prend la parole : « {line} »",
                      "Je prends la parole : « {line} »")},
        contrast={"zh": "谁知", "en": " yet", "fr": " pourtant"},
        connectives={"zh": ("就在这时，", "然而，", "偏偏这时，"),
                     "en": ("Just then, ", "But ", "And then, "),
                     "fr": ("C'est alors que ", "Mais ", "Soudain, ")},
        teasers={"zh": ("{name}接下来会怎么做？", "等待{name}的，又会是什么？"),
                 "en": ("What will {name} do next?", "And what awaits {name}?"),
                 "fr": ("Que va faire {name} ?", "Et qu'est-ce qui attend {name} ?")}),
    Style.HEALING: Voice(
        weights=(3.0, 2.0, 2.0), calm=True,
        favoured_moods=frozenset({Mood.WARM, Mood.CALM, Mood.JOYFUL, Mood.SWEET,
                                  Mood.ROMANTIC}),
        avoided_moods=frozenset({Mood.ANGRY, Mood.CONFRONTATIONAL, Mood.OPPRESSIVE}),
        quote={"zh": ("听，{speaker}说：“{line}”",) * 2,
               "en": ('And {speaker} says: "{line}"', 'And I say: "{line}"'),
               "fr": ("Et {speaker} dit : « {line} »", "Et je dis : « {line} »")},
        contrast={"zh": "不过", "en": " but still", "fr": " et pourtant"},
        connectives={"zh": ("慢慢地，", "就这样，", "一点一点地，"),
                     "en": ("Little by little, ", "And so, ", "Slowly, "),
                     "fr": ("Peu à peu, ", "Et ainsi, ", "Doucement, ")}),
}


def voice_of(style: Style) -> Voice:
    """The offline voice of `style`; `custom` is written as `objective`."""
    return VOICES.get(style, VOICES[Style.OBJECTIVE])


def quoted(voice: Voice, speaker: str | None, line: str, lang: str, as_i: bool,
           turn: int = 0) -> str:
    """A line of dialogue as the narration quotes it; the `turn`-th quote of the narration
    takes the voice's frame on even turns and the plain one on odd turns, so no frame is
    heard twice in a row."""
    if not speaker:
        return _UNATTRIBUTED[lang].format(line=line)
    framed = voice.quote.get(lang) if turn % 2 == 0 else None
    third, first = framed or _PLAIN_QUOTE[lang]
    return (first if as_i else third).format(speaker=speaker, line=line)


def with_contrast(voice: Voice, sentence: str, lang: str) -> str:
    """The sentence with its first clause-opening "but" in the voice's word."""
    word = voice.contrast.get(lang)
    pattern = _CONTRAST.get(lang)
    return pattern.sub(word, sentence, count=1) if word and pattern else sentence


def calmed(voice: Voice, sentence: str, full_stop: str) -> str:
    """A narrated exclamation ends in a full stop in a calm voice."""
    if voice.calm and sentence[-1:] in "!！":
        return sentence[:-1] + full_stop
    return sentence


def connective(voice: Voice, index: int, lang: str) -> str:
    """The connective opening snippet `index`: every other snippet, the bank in turn."""
    bank = voice.connectives.get(lang, ())
    if not bank or index % 2 == 0:
        return ""
    return bank[(index // 2) % len(bank)]


def teaser(voice: Voice, index: int, name: str | None, lang: str) -> str:
    """The question closing snippet `index` (every other one), about `name`."""
    bank = voice.teasers.get(lang, ())
    if not bank or not name or index % 2 == 1:
        return ""
    return bank[(index // 2) % len(bank)].format(name=name)
