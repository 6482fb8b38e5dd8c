"""The offline writer: deterministic narration composed from the dataset's own words.

It never invents plot: every sentence comes from a scene's summary or character dynamics, a
highlight, a caption, or a line of dialogue, chosen by priority until the snippet's speech
budget is spent (a sentence that repeats one already chosen is skipped), then read out in story
order. It cannot translate, so it writes wholly in the dataset's own language, connectives and
all, and spends its budget at that language's speech rate.

A sentence's priority is its kind's weight in the style's voice, times the focus's interest in
its scene and in its words (`vss.narration.focus`): the focus decides what the narration dwells
on. `suspense_reveal` also orders: a snippet's revealing sentences are read last. The style's
voice (`vss.narration.voice`) decides how it sounds: dialogue frames, contrast words,
connectives, full stops or exclamations, closing questions. In the first person the
character's name and the pronouns that mean them become 我/I/my/me by the rules in
`vss.narration.first_person` (Chinese and English), and a sentence those rules cannot retell is
left out. Quoted dialogue is never rewritten; lines that name the narrator are not quoted.
Free-text custom prompts are approximated (custom focus by its words, custom style as
objective).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

from vss.domain.dataset import Dataset, NarrativeFunction, Scene
from vss.domain.language import (
    ALL_CLOSING_QUOTES,
    ALL_PAUSE_MARKS,
    ALL_SENTENCE_ENDS,
    HAN_CLASS,
    SpeechRate,
    char_class,
    language_profile,
    speech_units,
    split_sentences,
    unquoted,
)
from vss.domain.payloads import ControlParams, NarrativeFocus
from vss.narration.clean import clean_tts_text
from vss.narration.first_person import RETELLING_LANGUAGES, Narrator
from vss.narration.focus import FocusLens, read_focus
from vss.narration.language import dataset_language
from vss.narration.pacing import DEFAULT_RATE, budget_units
from vss.narration.plan import NarrationPlan, PlannedSnippet
from vss.narration.voice import (
    Voice,
    calmed,
    connective,
    quoted,
    teaser,
    voice_of,
    with_contrast,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TIME_MARK = {"zh": re.compile(r"^[\w\s]{0,8}(?:前|后|以前|之后)$"),
              "en": re.compile(r"^[A-Za-z\s]{0,24}\b(?:ago|later|earlier)$", re.IGNORECASE),
              "fr": re.compile(r"^[^\W\d_][\w\s'’]{0,24}\b(?:plus tôt|plus tard|auparavant)$|"
                               r"^(?:il y a|la veille|le lendemain)\b.{0,24}$", re.IGNORECASE)}
_INTRO = re.compile(r"^(\S{2,6})\s+(\S{2,20})$")
_MARK_RUN = re.compile(f"{char_class(ALL_SENTENCE_ENDS)}{{2,}}")
_TRAILING_MARKS = re.compile(
    f"({char_class(ALL_SENTENCE_ENDS)}*)({char_class(ALL_CLOSING_QUOTES)}*)$")
# Shorter lines ("谁啊", "Yes.", "Oui.") say nothing on their own.
_MIN_LINE_UNITS = {"zh": 4, "en": 3, "fr": 3}
# On the real blueprint restatements overlap by 0.80-1.0 and distinct sentences by at most 0.64.
_DUPLICATE_OVERLAP = 0.75
_MIN_COMPARED = 4  # bigrams: below this, sentences are too short to judge by overlap
_RECENT = 24  # sentences from earlier snippets a new one is checked against
_MAX_QUOTES = 2  # lines of dialogue per snippet: a narration, not a transcript

FLASHBACK = {"zh": "时间回到之前，", "en": "Earlier, ", "fr": "Quelque temps plus tôt, "}
# How much a focus favours its scenes: a scene's sentences weigh from 0.5 (nothing the focus
# looks for) to 2 (all of it) times their weight under the general focus.
_FOCUS_FLOOR, _FOCUS_GAIN = 0.5, 1.5
# Sentence-initial words a connective may lowercase ("Naturally, the storm…"); any other word
# may be a name ("Naturally, Tom says…") and keeps its capital.
_COMMON_FIRST_WORDS = {
    "en": _words(
        "the a an he she it they we you this that there these those his her its their my our "
        "when while as after before in on at with one some every all no nobody someone "
        "something everyone then now later soon suddenly meanwhile what why how where who if "
        "but and so back inside outside only even"),
    "fr": _words(
        "le la les un une des du il elle ils elles on nous vous ce cette ces son sa ses leur "
        "leurs quand alors puis mais et dans pendant après avant tout tous personne quelqu'un "
        "rien ici là"),
}


@dataclass(frozen=True)
class _Candidate:
    scene_order: int  # the scene's position in the snippet, which is story order
    slot: int  # position inside a scene: intro, summary, highlight, dialogue
    priority: float
    text: str
    introduces: str | None = None  # the name an intro caption presents
    line: tuple[str | None, str, bool] | None = None  # dialogue: (speaker, words, speaker is I)


@dataclass
class _Run:
    """What one call writes with, and what it has already said across snippets."""

    params: ControlParams
    lang: str
    narrator: Narrator | None
    voice: Voice
    lens: FocusLens
    introduced: set[str] = field(default_factory=set)
    said: list[str] = field(default_factory=list)  # sentences already chosen, latest last
    quotes: int = 0  # lines of dialogue quoted so far


# -- sentences ---------------------------------------------------------------------------------


def _zh_pauses(text: str) -> str:
    """Subtitles mark pauses with spaces; a Chinese voice needs a comma there."""
    text = re.sub(rf"(?<={HAN_CLASS})\s+(?={HAN_CLASS})", "，", text)
    return re.sub(r"\s*([，。！？；：、“”])\s*", r"\1", text)


def _one_mark(run: str, lang: str) -> str:
    """One closing mark for a run of them ("..", ".。", "!!"): three dots are an ellipsis, a
    question or exclamation wins over a full stop, and marks take the text's language."""
    if "…" in run or "..." in run:
        return "…"
    local = {"!": "！", "?": "？"} if lang == "zh" else {"！": "!", "？": "?"}
    strong = "".join(dict.fromkeys(local.get(ch, ch) for ch in run if ch in "!?！？"))
    return strong or language_profile(lang).full_stop


def _sentence(text: str, lang: str) -> str:
    """A clean sentence in which every closing mark is single, ending in one (before any
    closing quote)."""
    text = clean_tts_text(text)
    if lang == "zh":
        text = _zh_pauses(text)
    text = _MARK_RUN.sub(lambda run: _one_mark(run.group(), lang), text)
    text = text.rstrip(ALL_PAUSE_MARKS + " ")
    match = _TRAILING_MARKS.search(text)
    assert match is not None  # the pattern matches the empty string at the end
    body, marks, quotes = text[:match.start()], match.group(1), match.group(2)
    if not body.strip():
        return ""
    mark = _one_mark(marks, lang)
    if lang == "zh" and mark == "。" and body.endswith("吗"):
        mark = "？"  # a sentence-final 吗 asks
    return body + mark + quotes if marks else body + quotes + mark


def _normalised(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()


def _near_duplicate(a: str, b: str) -> bool:
    """Whether two sentences say the same: one contains the other, or most character bigrams
    of the shorter are in the longer (a highlight that restates the summary, a scene summary
    copied into the next scene with a few words changed)."""
    x, y = _normalised(a), _normalised(b)
    if x in y or y in x:
        return True
    bx = {x[i:i + 2] for i in range(len(x) - 1)}
    by = {y[i:i + 2] for i in range(len(y) - 1)}
    shorter = min(len(bx), len(by))
    return shorter >= _MIN_COMPARED and len(bx & by) / shorter >= _DUPLICATE_OVERLAP


# -- candidates --------------------------------------------------------------------------------


def _line(speaker: str | None, content: str, run: _Run) -> tuple[str | None, str, bool]:
    label = speaker and (run.narrator.speaker(speaker) if run.narrator else speaker)
    as_i = run.narrator is not None and speaker == run.narrator.character
    return label or None, content, as_i


def _dialogue(scene: Scene, run: _Run) -> tuple[str | None, str, bool] | None:
    def spoken(text: str) -> str:
        return _sentence(unquoted(clean_tts_text(text)), run.lang)

    lines = [d for d in scene.dialogues
             if speech_units(spoken(d.content), run.lang) >= _MIN_LINE_UNITS[run.lang]]
    if run.narrator:  # the narration calls them 我/I; a quote naming them would not
        lines = [d for d in lines if not run.narrator.names_narrator(d.content)]
    focus = set(run.params.character_focus.characters)
    preferred = [d for d in lines if d.speaker in focus] or lines
    if not preferred:
        return None
    line = max(preferred, key=lambda d: len(d.content))
    return _line(line.speaker, spoken(line.content), run)


def _told(text: str, run: _Run) -> str | None:
    """A narration sentence in the run's perspective and voice, or None if it cannot be told
    so."""
    sentence = _sentence(text, run.lang)
    if sentence and run.narrator:
        sentence = run.narrator.retell(sentence) or ""
    if not sentence:
        return None
    sentence = with_contrast(run.voice, sentence, run.lang)
    return calmed(run.voice, sentence, language_profile(run.lang).full_stop)


def _intros(order: int, scene: Scene, run: _Run) -> list[_Candidate]:
    """'车小小，海晏集团职员。' from a caption that presents a character (Chinese data has them)."""
    found = []
    for caption in scene.captions:
        intro = _INTRO.match(caption.content.strip())
        if not intro or run.lang != "zh":
            continue
        name, role = intro.groups()
        if run.narrator and name == run.narrator.character:
            text: str | None = run.narrator.retell(f"我是{role}。")
        else:
            text = _told(f"{name}，{role}。", run)
        if text:
            found.append(_Candidate(order, 0, 2.5, text, introduces=name))
    return found


def _interest(scene: Scene, run: _Run) -> float:
    """How much the style's voice and the focus care for this scene."""
    focus = 1.0 if run.lens.focus == NarrativeFocus.GENERAL else \
        _FOCUS_FLOOR + _FOCUS_GAIN * run.lens.relevance.get(scene.id, 0.0)
    return run.voice.mood_factor(scene) * focus


def _weighed(weight: float, source: str, run: _Run) -> float:
    """A sentence's weight, times what the focus and the voice see in its words."""
    return weight * run.lens.sentence_weight(source) * run.voice.word_factor(source, run.lang)


def _candidates(scenes: list[Scene], run: _Run) -> list[_Candidate]:
    w_summary, w_highlight, w_dialogue = run.voice.weights
    found: list[_Candidate] = []
    for order, scene in enumerate(scenes):
        interest = _interest(scene, run)
        found += _intros(order, scene, run)
        # The summary first, then the character dynamics, each sentence a little less urgent.
        sources = [scene.narrative_summary, scene.character_dynamics]
        sentences = [s for text in sources if text for s in split_sentences(text, run.lang)]
        for rank, sentence in enumerate(sentences):
            told = _told(sentence, run)
            if told:
                weight = _weighed(w_summary / (1 + rank), sentence, run)
                found.append(_Candidate(order, 1, weight * interest, told))
        for highlight in scene.highlights:
            told = _told(highlight, run)
            if told:
                weight = _weighed(w_highlight, highlight, run)
                found.append(_Candidate(order, 2, weight * interest, told))
        line = _dialogue(scene, run)
        if line:
            plain = quoted(run.voice, line[0], line[1], run.lang, line[2], turn=1)
            weight = _weighed(w_dialogue, line[1], run) * interest
            found.append(_Candidate(order, 3, weight, plain, line=line))
    return found


# -- one snippet -------------------------------------------------------------------------------


def _time_marker(scenes: list[Scene], lang: str) -> str | None:
    for caption in scenes[0].captions:
        text = caption.content.strip()
        if _TIME_MARK[lang].match(text):
            return text
    return None


def _opener(snippet: PlannedSnippet, scenes: list[Scene], run: _Run) -> tuple[str, bool]:
    """(opening words, whether they came from the first scene's caption)."""
    if snippet.function == NarrativeFunction.FLASHBACK:
        marker = _time_marker(scenes, run.lang)
        if marker:
            return (f"{marker}，" if run.lang == "zh" else f"{marker}, "), True
        return FLASHBACK[run.lang], False
    return connective(run.voice, snippet.index, run.lang), False


def _choose(ranked: list[_Candidate], budget: int, used: int, run: _Run) -> list[_Candidate]:
    """The most urgent candidates that fit the budget and say something new (and at most
    `_MAX_QUOTES` lines of dialogue, each framed in its turn)."""
    chosen: list[_Candidate] = []
    for candidate in ranked:
        if candidate.line is not None:
            if sum(c.line is not None for c in chosen) >= _MAX_QUOTES:
                continue
            speaker, words, as_i = candidate.line
            candidate = replace(candidate, text=quoted(run.voice, speaker, words, run.lang,
                                                       as_i, run.quotes))
        cost = speech_units(candidate.text, run.lang)
        if used + cost > budget or candidate.introduces in run.introduced:
            continue
        recent = [*run.said[-_RECENT:], *(c.text for c in chosen)]
        if any(_near_duplicate(candidate.text, text) for text in recent):
            continue
        chosen.append(candidate)
        used += cost
        run.quotes += candidate.line is not None
        if candidate.introduces:
            run.introduced.add(candidate.introduces)
    run.said += [c.text for c in chosen]
    return chosen


def _open(opener: str, text: str, lang: str) -> str:
    if lang == "zh":  # "没想到，我没想到…" says it twice
        return text if text.startswith(opener.rstrip("，")) else opener + text
    first = re.match(r"[^\W\d_]+", text)
    if opener.endswith(" ") and first and \
            first.group().lower() in _COMMON_FIRST_WORDS.get(lang, frozenset()):
        text = text[0].lower() + text[1:]
    return opener + text


def _lead(scenes: list[Scene]) -> str | None:
    """Who speaks most in these scenes: the character a closing question may name."""
    speakers = Counter(d.speaker for s in scenes for d in s.dialogues
                       if d.speaker and not re.search(r"[_\d]", d.speaker))
    return speakers.most_common(1)[0][0] if speakers else None


def _compose(snippet: PlannedSnippet, scenes: list[Scene], budget: int, following: str | None,
             run: _Run) -> tuple[str, tuple[int, ...]]:
    """One snippet's text and cited scenes; `following` leads the next snippet (None after the
    last one)."""
    joiner = language_profile(run.lang).joiner
    opener, opener_from_caption = _opener(snippet, scenes, run)
    used = speech_units(opener, run.lang)
    ranked = sorted(_candidates(scenes, run), key=lambda c: (-c.priority, c.scene_order, c.slot))
    chosen = _choose(ranked, budget, used, run)
    if not chosen:
        return "", ()
    # Story order; `suspense_reveal` withholds what reveals until the end of the snippet.
    chosen.sort(key=lambda c: (run.lens.reveals(c.text), c.scene_order, c.slot, -c.priority))
    used += sum(speech_units(c.text, run.lang) for c in chosen)
    text = joiner.join(c.text for c in chosen)
    narrator = run.narrator.character if run.narrator else None
    question = teaser(run.voice, snippet.index, following if following != narrator else None,
                      run.lang)
    if question and used + speech_units(question, run.lang) <= budget:
        text = joiner.join([text, question])
    if opener:
        text = _open(opener, text, run.lang)
    orders = {c.scene_order for c in chosen} | ({0} if opener_from_caption else set())
    return text, tuple(scenes[i].id for i in sorted(orders))


# -- the writer --------------------------------------------------------------------------------


def write_offline(
    dataset: Dataset, plan: NarrationPlan, params: ControlParams, *,
    text_lang: str | None = None, rate: SpeechRate = DEFAULT_RATE,
) -> list[tuple[str, tuple[int, ...]]]:
    """(text, ids of the scenes its words came from, in story order) per planned snippet; ("",
    ()) when its scenes offer nothing to say.

    The text is in `text_lang` (by default the dataset's own language, which may differ from
    `plan.lang`: nothing here translates) and fits each snippet's budget at that language's
    `rate`. The first person needs retelling rules for the language (Chinese, English):
    elsewhere the narration stays in the third person.
    """
    lang = text_lang or dataset_language(dataset)
    narrator = (Narrator.learn(dataset, params.perspective_character, lang)
                if params.perspective == "first_person" and params.perspective_character
                and lang in RETELLING_LANGUAGES else None)
    run = _Run(params, lang, narrator, voice_of(params.style),
               read_focus(dataset, params, dataset_language(dataset)))
    written = []
    for position, snippet in enumerate(plan.snippets):
        budget = (snippet.budget_units if lang == plan.lang
                  else budget_units(snippet.budget_seconds, lang, rate))
        scenes = [dataset.scenes[i] for i in snippet.scene_ids]
        upcoming = plan.snippets[position + 1:position + 2]
        following = _lead([dataset.scenes[i] for i in upcoming[0].scene_ids]) \
            if upcoming else None
        written.append(_compose(snippet, scenes, budget, following, run))
    return written
