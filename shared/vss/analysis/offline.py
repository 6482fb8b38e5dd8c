"""Character facts read without a model: the ones a caption card or a self-introduction states.

Two rules, both conservative (a title whose head is not a cue of `vss.domain.fact_vocabulary`
gives no fact; better fewer facts than wrong ones):

- A caption that is a character card, a name and a title and nothing else ("车小小 海晏集团职员",
  "车小小，海晏集团职员", "Anna Song - heir of the Hefeng Group"), gives the title's attribute:
  occupation (职员, CEO), social standing (继承人, heir) or family (妈妈, wife).
- A speaker introducing themselves, "我是X" / "我就是X" / "I'm X" / "Je suis X" at the start of
  a clause (a line may run on into the speaker's next one), where X is
  - another character's name, alone or with a title ("和风集团继承人 宋安娜", "Anna, heir of the
    Hefeng Group"): an assumed identity (扮演身份), since the speaker passes for someone else;
  - a title with a cue, not someone else's ("你老板" is not): its attribute, as for captions.
  Anything else ("我是说", "I'm sorry, Anna", "我是宋安娜的朋友") gives nothing.

Every fact is stateful, marked source "offline", and quotes its caption or its lines verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from vss.domain.cast import footage_order, named_pattern, speakers
from vss.domain.character_facts import CharacterFact
from vss.domain.dataset import Dataset, Scene
from vss.domain.fact_vocabulary import (
    FACT_VOCABULARIES,
    Attribute,
    FactType,
    FactVocabulary,
    fact_vocabulary,
)
from vss.domain.language import CJK_CLASS, LANGUAGES, has_han

MAX_TITLE_CHARS = 20  # a Chinese title, spaces aside
MAX_TITLE_WORDS = 12
# Between a card's name and its title.
_CARD_SEPARATOR = re.compile(r"[\s，,：:、|·/\-–—]+")
# Marks that end a self-introduction's clause, or come before one.
_MARKS = "，,。.！!？?；;：:…\"“”«»()（）"
# A clause starts a line, follows a mark (and a space), or follows a space after CJK (Chinese
# subtitles separate clauses with a space); a space between two Latin words starts none.
_CLAUSE_START = (f"(?:^|(?<=[\\n{_MARKS}])|(?<=[{_MARKS}] )|(?<={CJK_CLASS} ))")
_INTRODUCTIONS = [re.compile(f"{_CLAUSE_START}{v.introduction}\\s*", re.MULTILINE)
                  for v in FACT_VOCABULARIES.values()]
# X of "I am X": up to the end of its clause or, after a comma, of the next one ("I'm Anna,
# heir of the Hefeng Group").
_CLAIM = re.compile(f"[^{_MARKS}\\n]+(?:[，,][ \\t]*[^{_MARKS}\\n]+)?")
_TOKENS = re.compile(r"[ldLD]['’]|[^\s,;:]+")


@dataclass(frozen=True)
class Title:
    attribute: Attribute
    value: str  # as written, without its leading article or measure word


def read_title(text: str) -> Title | None:
    """The attribute a title states, by the cue its head is; None without one."""
    text = text.strip().rstrip("。.")
    if not text:
        return None
    for vocabulary in _vocabularies_for(text):
        title = (_word_title(text, vocabulary) if LANGUAGES[vocabulary.code].space_separated
                 else _han_title(text, vocabulary))
        if title is not None:
            return title
    return None


def _vocabularies_for(text: str) -> list[FactVocabulary]:
    """Chinese cues for text in hanzi, the others' for text in Latin letters."""
    spaced = not has_han(text)
    return [v for v in FACT_VOCABULARIES.values() if LANGUAGES[v.code].space_separated == spaced]


def _han_title(text: str, vocabulary: FactVocabulary) -> Title | None:
    compact = re.sub(r"\s+", "", text)
    if len(compact) > MAX_TITLE_CHARS or any(compact.startswith(p)
                                             for p in vocabulary.possessives):
        return None
    found = _longest_cue(vocabulary, lambda cue: compact.endswith(cue))
    if found is None:
        return None
    attribute, cue = found
    for word in sorted(vocabulary.leading_words, key=len, reverse=True):
        rest = compact.removeprefix(word)
        if rest != compact and rest.endswith(cue):
            return Title(attribute, rest)
    return Title(attribute, compact)


def _word_title(text: str, vocabulary: FactVocabulary) -> Title | None:
    tokens = _TOKENS.findall(text)
    if not tokens or len(tokens) > MAX_TITLE_WORDS:
        return None
    words = [t.lower().replace("’", "'") for t in tokens]
    if words[0] in vocabulary.possessives:
        return None
    start = 1 if words[0] in vocabulary.leading_words else 0
    end = next((i for i in range(start, len(words)) if words[i] in vocabulary.prepositions),
               len(words))
    head = " " + " ".join(words[start:end])
    found = _longest_cue(vocabulary, lambda cue: head.endswith(" " + cue))
    if found is None:
        return None
    value = text.strip()
    if start:  # drop the article as written ("The heir" -> "heir", "l'héritière")
        value = value[value.index(tokens[0]) + len(tokens[0]):].strip()
    return Title(found[0], value)


def _longest_cue(vocabulary: FactVocabulary, fits: Callable[[str], bool]
                 ) -> tuple[Attribute, str] | None:
    matches = [(attribute, cue) for attribute, cues in vocabulary.cues.items() for cue in cues
               if fits(cue)]
    return max(matches, key=lambda match: len(match[1]), default=None)


@dataclass(frozen=True)
class _Found:
    character: str
    attribute: Attribute
    value: str
    source_text: str


def offline_facts(dataset: Dataset, cast: Sequence[str], lang: str
                  ) -> dict[str, list[CharacterFact]]:
    """Facts about each of `cast` stated by caption cards and self-introductions, labelled in
    `lang`'s vocabulary, each once per (scene, attribute, value), in scene order."""
    vocabulary = fact_vocabulary(lang)
    known = list(dict.fromkeys([*speakers(dataset), *cast]))
    wanted = set(cast)
    facts: dict[str, list[CharacterFact]] = {name: [] for name in cast}
    seen: set[tuple[str, int, Attribute, str]] = set()
    names = named_pattern(known)
    if names is None:
        return facts
    for scene in footage_order(dataset):
        for found in [*_cards(scene, names), *_introductions(scene, names)]:
            key = (found.character, scene.id, found.attribute, found.value)
            if found.character not in wanted or key in seen:
                continue
            seen.add(key)
            facts[found.character].append(CharacterFact(
                scene_id=scene.id, attribute=vocabulary.attributes[found.attribute],
                value=found.value, source_text=found.source_text,
                type=vocabulary.types[FactType.STATEFUL], source="offline"))
    return facts


def _cards(scene: Scene, names: re.Pattern[str]) -> Iterator[_Found]:
    for caption in scene.captions:
        text = caption.content.strip()
        name = names.match(text)
        separator = _CARD_SEPARATOR.match(text, name.end()) if name else None
        if name is None or separator is None:
            continue
        title = read_title(text[separator.end():])
        if title is not None:
            yield _Found(name.group(0), title.attribute, title.value, caption.content)


def _runs(scene: Scene) -> Iterator[tuple[str, list[str]]]:
    """(speaker, their consecutive lines)."""
    speaker: str | None = None
    lines: list[str] = []
    for line in [*scene.dialogues, None]:
        if line is not None and line.speaker and line.speaker == speaker:
            lines.append(line.content)
            continue
        if speaker and lines:
            yield speaker, lines
        speaker, lines = (line.speaker, [line.content]) if line is not None else (None, [])


def _introductions(scene: Scene, names: re.Pattern[str]) -> Iterator[_Found]:
    for speaker, lines in _runs(scene):
        text = "\n".join(" ".join(line.split()) for line in lines)
        for pattern in _INTRODUCTIONS:
            for match in pattern.finditer(text):
                for claim in _claims(text[match.end():]):
                    said = _claim(claim.strip(), speaker, names)
                    if said is not None:
                        quote = (match.group(0) + claim).replace("\n", " ").strip()
                        yield _Found(speaker, said.attribute, said.value, quote)
                        break


def _claims(rest: str) -> list[str]:
    """What "I am" may claim, longest first: running on into the next line when it ends its
    own ("我就是和风集团继承人 / 宋安娜"), then within its own line."""
    first, _, more = rest.partition("\n")
    own = _CLAIM.match(first)
    if own is None:
        return []
    if own.end() < len(first) or not more:
        return [own.group(0)]
    longer = _CLAIM.match(f"{first} {more.partition(chr(10))[0]}")
    return [longer.group(0), own.group(0)] if longer else [own.group(0)]


def _claim(claim: str, speaker: str, names: re.Pattern[str]) -> Title | None:
    """What a self-introduction's X says (see the module's rules)."""
    spaced = not has_han(claim)
    for match in names.finditer(claim):
        name = match.group(0)
        before = claim[:match.start()].strip(" ，,")
        after = claim[match.end():].strip(" ，,")
        if (before and after) or (after and claim[match.end()] not in " ，,"):
            continue  # "宋安娜的妈妈" is about her, not her name
        rest = before or after
        title = read_title(rest) if rest else None
        if rest and title is None:
            continue
        if name != speaker:
            value = claim if spaced else re.sub(r"\s+", "", claim)
            return Title(Attribute.ASSUMED_IDENTITY, value.strip(" ，,"))
        return title
    return read_title(claim)
