"""What each narrative focus dwells on: a relevance per scene and a weight per sentence.

A `FocusLens` is read once per narration from the dataset and the control parameters. The plan
gives relevant scenes a larger share of the speech budget (`vss.narration.plan`), the offline
writer ranks sentences by it and the Gemini writer is told the focus (`prompts/focus_*.txt`)
and which scenes it singles out. Relevance reads only what the dataset says about a scene: the
words of its summary, dynamics, highlights, captions and dialogue, its mood, its content type
and who is in it.

- `romantic_progression`: the couple's scenes and their dynamics. The couple are the two named
  characters who share the most scenes, counting twice those with words of love, dating or
  marriage (or the first two focus characters). Romantic, sweet and warm moods count.
- `business_success`: work, deals, promotions, the company and its bosses.
- `suspense_reveal`: secrets, hidden identities, discoveries; tense and eerie moods. It also
  orders: in each snippet the sentences that reveal (原来, turns out, en fait…) come last, so
  the narration withholds before it reveals.
- `character_growth`: the protagonist's scenes (the first-person narrator, else the first focus
  character, else who speaks most), their decisions and changes of heart, inner monologue.
- `revenge_plot`: conflicts and reversals: quarrels, threats, humiliation, exposure, turned
  tables; angry and confrontational moods.
- `custom`: the words of `custom_prompts.narrative_focus` (and any character it names) are the
  keywords: an approximation of a free-text instruction, and the notes say so.
- `general`: every scene alike.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from vss.domain.dataset import Dataset, Mood, Scene, SceneContentType
from vss.domain.language import HAN_CLASS, has_han, language_profile
from vss.domain.payloads import ControlParams, NarrativeFocus
from vss.narration.scope import mentions

# A scene's relevance is the sum of these parts, capped at 1.
_KEYWORD_SHARE, _KEYWORDS_FOR_FULL_SHARE = 0.5, 3
_MOOD_SHARE = 0.25
_CAST_SHARE = 0.25  # the whole cast the focus follows is in the scene (half for part of it)
_TYPE_SHARE = 0.1


@dataclass(frozen=True)
class _Rule:
    keywords: dict[str, tuple[str, ...]]  # per language
    moods: frozenset[Mood] = frozenset()
    content_types: frozenset[SceneContentType] = frozenset()
    reveal_last: bool = False


_LOVE = {
    # Whole words where one character would match too much: 抱 is also in 抱歉 (sorry).
    "zh": ("喜欢", "爱上", "爱情", "心动", "表白", "约会", "相亲", "结婚", "婚", "男朋友",
           "女朋友", "恋", "吻", "拥抱", "抱住", "牵手", "情侣", "追求", "暧昧", "吃醋", "脸红",
           "浪漫"),
    "en": ("love", "date", "dating", "kiss", "marr", "wedding", "boyfriend", "girlfriend",
           "romanc", "hug", "embrace", "jealous", "blush", "crush", "flirt", "fianc"),
    "fr": ("amour", "aime", "rendez-vous", "baiser", "embrass", "mari", "noces", "petit ami",
           "petite amie", "romanti", "jalou", "rougi", "fianc", "séduire"),
}
RULES: dict[NarrativeFocus, _Rule] = {
    NarrativeFocus.ROMANTIC_PROGRESSION: _Rule(
        _LOVE, frozenset({Mood.ROMANTIC, Mood.SWEET, Mood.WARM})),
    NarrativeFocus.BUSINESS_SUCCESS: _Rule({
        "zh": ("公司", "集团", "总裁", "老板", "项目", "合同", "合作", "会议", "升职", "加薪",
               "业绩", "客户", "投资", "董事", "方案", "工作", "上班", "职员", "组长", "助理",
               "企划", "融资", "股份", "生意"),
        "en": ("company", "business", "deal", "contract", "meeting", "promot", "boss", "ceo",
               "client", "invest", "board", "project", "office", "career", "profit", "job",
               "pitch", "shares"),
        "fr": ("entreprise", "société", "affaire", "contrat", "réunion", "promotion", "patron",
               "pdg", "client", "invest", "conseil", "projet", "bureau", "carrière", "travail",
               "emploi", "actions"),
    }),
    NarrativeFocus.SUSPENSE_REVEAL: _Rule({
        "zh": ("秘密", "真相", "原来", "其实", "竟然", "发现", "隐瞒", "身份", "怀疑", "神秘",
               "突然", "偷偷", "暗中", "谎", "骗", "揭", "才知道", "意外"),
        "en": ("secret", "truth", "turns out", "actually", "discover", "reveal", "hid", "identit",
               "suspect", "myster", "sudden", "lie", "lying", "realis", "realiz", "unmask"),
        "fr": ("secret", "vérité", "en fait", "découv", "révél", "cach", "identité", "soupçon",
               "mystère", "soudain", "mens", "mensonge", "comprend", "démasqu"),
    }, frozenset({Mood.TENSE, Mood.EERIE, Mood.SUSPENSEFUL}), reveal_last=True),
    NarrativeFocus.CHARACTER_GROWTH: _Rule({
        "zh": ("决定", "终于", "改变", "学会", "明白", "成长", "勇敢", "坚持", "原谅", "意识到",
               "第一次", "下定决心", "鼓起勇气", "放下", "不再", "承认"),
        "en": ("decide", "finally", "change", "learn", "understand", "grow", "brave", "courage",
               "forgive", "realis", "realiz", "first time", "admit", "no longer", "stand up"),
        "fr": ("décid", "enfin", "chang", "apprend", "comprend", "grandi", "courage", "pardonn",
               "réalis", "première fois", "admet", "avoue", "plus jamais"),
    }, content_types=frozenset({SceneContentType.INTERNAL_MONOLOGUE})),
    NarrativeFocus.REVENGE_PLOT: _Rule({
        "zh": ("报复", "复仇", "陷害", "打脸", "反击", "揭穿", "惩罚", "争吵", "冲突", "生气",
               "愤怒", "恼羞成怒", "质问", "威胁", "逼", "骂", "砸", "耳光", "报仇", "算账",
               "羞辱", "却", "反而", "没想到", "竟然", "反将"),
        "en": ("reveng", "aveng", "betray", "humiliat", "expos", "punish", "quarrel", "argu",
               "fight", "angry", "anger", "furious", "threat", "confront", "insult", "instead",
               "tables", "backfir", "payback"),
        "fr": ("vengeance", "venger", "trahi", "humili", "démasqu", "puni", "dispute", "querelle",
               "colère", "furieu", "menace", "confront", "insult", "au lieu", "retourne"),
    }, frozenset({Mood.ANGRY, Mood.CONFRONTATIONAL, Mood.OPPRESSIVE, Mood.TENSE}),
        frozenset({SceneContentType.ACTION_DRIVEN})),
}
# What a sentence says when it reveals, for `suspense_reveal`'s ordering.
REVEALS = {
    "zh": ("原来", "其实", "真相", "竟然", "才知道", "终于明白", "发现", "身份"),
    "en": ("turns out", "actually", "truth", "reveal", "discover", "realis", "realiz",
           "in fact"),
    "fr": ("en fait", "vérité", "révél", "découv", "comprend", "en réalité"),
}


def _pattern(words: tuple[str, ...], lang: str) -> re.Pattern[str] | None:
    """Chinese words match anywhere; other languages' at the start of a word, so a stem
    ("betray") matches its forms ("betrayed", "betrayal")."""
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(alternatives if lang == "zh" else rf"\b(?:{alternatives})",
                      re.IGNORECASE)


def scene_text(scene: Scene) -> str:
    return " ".join(filter(None, [
        scene.narrative_summary, scene.character_dynamics, *scene.highlights,
        *(c.content for c in scene.captions), *(d.content for d in scene.dialogues)]))


def _named(dataset: Dataset) -> list[str]:
    """Characters who speak, most lines first (unnamed extras like 路人_1 left out)."""
    lines = Counter(d.speaker for s in dataset.scenes.values() for d in s.dialogues
                    if d.speaker and not re.search(r"[_\d]", d.speaker))
    return [name for name, count in lines.most_common() if count >= 3]


def _couple(dataset: Dataset, love: re.Pattern[str] | None, chosen: list[str]
            ) -> tuple[str, ...]:
    candidates = _named(dataset)[:6]
    if len(chosen) >= 2:
        return tuple(chosen[:2])
    scenes = list(dataset.scenes.values())

    def together(a: str, b: str) -> float:
        shared = [s for s in scenes if mentions(s, a) and mentions(s, b)]
        return sum(1 + bool(love and love.search(scene_text(s))) for s in shared)

    pairs = [(a, b) for a, b in combinations(candidates, 2)
             if not chosen or chosen[0] in (a, b)]
    if not pairs:
        return tuple(chosen)
    return max(pairs, key=lambda pair: together(*pair))


def _custom_words(text: str, dataset: Dataset, lang: str) -> tuple[str, ...]:
    """The words of a free-text focus that occur in the dataset: two-hanzi words in Chinese,
    words of four letters or more (not the language's common words) in other languages."""
    corpus = " ".join(scene_text(s) for s in dataset.scenes.values())
    if has_han(text):
        grams = {text[i:i + 2] for i in range(len(text) - 1)
                 if re.fullmatch(f"{HAN_CLASS}{{2}}", text[i:i + 2])}
        return tuple(sorted(g for g in grams if g in corpus))
    common = language_profile(lang).common_words
    words = {w.lower() for w in re.findall(r"[^\W\d_]{4,}", text)} - common
    return tuple(sorted(w for w in words if w in corpus.lower()))


@dataclass(frozen=True)
class FocusLens:
    """How one narration reads its focus: `relevance` of each scene in [0, 1]."""

    focus: NarrativeFocus
    lang: str
    cast: tuple[str, ...] = ()  # the couple, or the protagonist
    keywords: tuple[str, ...] = ()
    relevance: dict[int, float] = field(default_factory=dict)
    reveal_last: bool = False
    notes: tuple[str, ...] = ()

    def sentence_weight(self, text: str) -> float:
        """How much more a sentence is worth for the focus: its keywords, and its naming the
        whole cast (the couple's dynamics)."""
        pattern = _pattern(self.keywords, self.lang)
        hits = len(pattern.findall(text)) if pattern else 0
        whole_cast = len(self.cast) > 1 and all(name in text for name in self.cast)
        return 1.0 + 0.5 * min(hits, 2) + 0.5 * whole_cast

    def reveals(self, text: str) -> bool:
        if not self.reveal_last:
            return False
        pattern = _pattern(REVEALS.get(self.lang, ()), self.lang)
        return bool(pattern and pattern.search(text))

    def singled_out(self, threshold: float = 0.5) -> set[int]:
        """Scenes the focus cares most about (marked in the Gemini writer's excerpts)."""
        return {i for i, r in self.relevance.items() if r >= threshold}


def read_focus(dataset: Dataset, control: ControlParams, lang: str) -> FocusLens:
    """The lens of `control.narrative_focus` over `dataset`, for text in `lang`."""
    focus = control.narrative_focus
    if focus == NarrativeFocus.GENERAL:
        return FocusLens(focus, lang, relevance=dict.fromkeys(dataset.scenes, 0.0))
    chosen = control.character_focus.characters if control.character_focus.mode != "all" \
        else []
    notes: tuple[str, ...] = ()
    if focus == NarrativeFocus.CUSTOM:
        text = (control.custom_prompts.narrative_focus if control.custom_prompts else "") or ""
        rule = _Rule({lang: _custom_words(text, dataset, lang)})
        cast = tuple(name for name in _named(dataset) if name in text)
        notes = (f"custom narrative_focus approximated offline by its words "
                 f"{list(rule.keywords[lang])[:12]}" + (f" and characters {list(cast)}"
                                                         if cast else ""),)
    else:
        rule = RULES[focus]
        if focus == NarrativeFocus.ROMANTIC_PROGRESSION:
            cast = _couple(dataset, _pattern(rule.keywords.get(lang, ()), lang), chosen)
        elif focus == NarrativeFocus.CHARACTER_GROWTH:
            lead = control.perspective_character or next(iter(chosen), None) \
                or next(iter(_named(dataset)), None)
            cast = (lead,) if lead else ()
        else:
            cast = ()
    keywords = rule.keywords.get(lang, ())
    pattern = _pattern(keywords, lang)
    relevance = {}
    for scene in dataset.scenes.values():
        hits = len(pattern.findall(scene_text(scene))) if pattern else 0
        present = sum(mentions(scene, name) for name in cast)
        score = (_KEYWORD_SHARE * min(hits, _KEYWORDS_FOR_FULL_SHARE) / _KEYWORDS_FOR_FULL_SHARE
                 + _MOOD_SHARE * (scene.mood in rule.moods)
                 + (_CAST_SHARE * present / len(cast) if cast else 0.0)
                 + _TYPE_SHARE * (scene.content_type in rule.content_types))
        relevance[scene.id] = round(min(score, 1.0), 3)
    return FocusLens(focus, lang, cast, keywords, relevance, rule.reveal_last, notes)
