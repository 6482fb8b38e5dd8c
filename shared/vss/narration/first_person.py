"""Retelling a narration sentence in the first person, only where a simple rule is right.

`Narrator.retell` returns the sentence as the perspective character would say it, or None when
no rule here can do that honestly; the offline writer then leaves the sentence out rather than
say something ungrammatical or wrong. Words inside quotes are never touched: they belong to
whoever said them.

Who a pronoun means. A possible antecedent is a name of the same or unknown gender (genders
are learnt from the dataset's sentences that name just one person before a 她/他, she/he…). A
pronoun opening a clause carries on the subject of the clause before it (the first possible
antecedent named there); any other pronoun means its nearest preceding possible antecedent,
skipping one it is plainly the object of ("宋安娜告诉她", "Anna hugs her": that would be
自己/herself). With no name before it, it means the character only if the character is the
sole possible antecedent after it ("her grandfather teaches young Mara"). The sentence is
ambiguous, and unusable, when the character is named earlier but another name wins, when
nobody can be meant, or when the narrator's gender is unknown and another person named there
surely fits.

- Chinese: the name becomes 我 (车小小的 → 我的; next to another name, 和我/我和, but
  车小小妈妈 → 我妈妈), and so does a 她/他 (never 她们/他们/其他) that is the narrator's.
- English: "Mara's" → "my"; "Mara" at a clause start followed by a verb this module can agree
  → "I" with agreement ("Mara arrives" → "I arrive", "is" → "am", "was" stays); after a
  preposition, a verb or "young" → "me". she/he → "I" (same agreement), her → "my" before a
  noun else "me", his → "my", him → "me", herself/himself → "myself". Any other position
  ("Young Mara falls", "Mara and Tom arrive"), or a second verb that would need agreeing
  ("Mara arrives and climbs"), makes the sentence unusable.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from vss.domain.dataset import Dataset
from vss.domain.language import ALL_CLAUSE_MARKS, SURE_QUOTES, char_class, split_sentences


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Single quotes are left out: they are also apostrophes ("Mara's"), so they bound no sure quote.
_QUOTED = re.compile("|".join(f"{re.escape(opening)}[^{re.escape(closing)}]*{re.escape(closing)}"
                              for opening, closing in SURE_QUOTES))
_ZH_PRONOUN = r"(?<![其吉])[她他](?!们)"
_EN_PRONOUN = r"\b(?i:she|he|her|him|his|hers|herself|himself)\b"
_FEMININE = {"她", "she", "her", "hers", "herself"}
# "宋安娜告诉她": right after a name and one of these verbs, 她/他 cannot be that name (Chinese
# says 自己 for that), so it means someone else.
_ZH_ACTS_ON = re.compile(
    "(?:告诉|答应|质问|问|安慰|拒绝|请求|邀请|嘱咐|提醒|叫|喊|让|帮|带|拉|抱|扶|推|打|骂|"
    "吻|亲|夸|劝|求|约|送|给|找|等|看着|盯着|瞪着|跟着|陪着|追问|责怪|感谢)了?")
_EN_ACTS_ON = re.compile(r"\s+[a-z]+(?:\s+(?:at|to|with|for|on|about))?\s+")
_ZH_KIN = tuple(_words("爷爷 奶奶 爸爸 妈妈 爸 妈 哥 姐 弟 妹 叔 姨 公 婆 "
                        "组长 助理 特助 秘书 老板"))
_CLAUSE_MARK = char_class(ALL_CLAUSE_MARKS)  # not 、: the items of a list are not clauses
_CLAUSE_BREAK = re.compile(rf"{_CLAUSE_MARK}\s*")
_CLAUSE_OPENING = re.compile(
    rf"{_CLAUSE_MARK}\s*(?:(?:不过|但是|但|可是|于是|而|所以|因此|然后|后来|结果|and|but|so|then)\s*)?$")
_MIN_VOTES, _MIN_SHARE = 2, 0.75

# English agreement with "I": irregular forms, forms that need no change, and words that end in
# "s" or "ed" without being verbs (they must not pass for a verb before or after a name).
_I_FORMS = {"is": "am", "has": "have", "does": "do", "goes": "go", "isn't": "am not",
            "doesn't": "don't", "hasn't": "haven't", "is not": "am not"}
_UNCHANGED = _words(
    "was wasn't can can't could couldn't will won't would wouldn't should must may might "
    "found took came went saw made said told knew thought felt left got gave ran fell held kept "
    "stood sat met brought became began heard lost paid sent spent won wrote broke chose drove "
    "forgot hid hit put let set cut shut led fought caught taught bought slept woke rode "
    "swam sang threw grew drew flew spoke stole shook")
_NOT_VERBS = _words(
    "as is was has this its his hers us thus plus yes less unless whereas always perhaps "
    "sometimes news towards afterwards besides across")
_ADVERBS = r"(?:[a-z]+ly|also|still|never|always|just|then|now|soon|even|already|often|only)"
_CLAUSE_WORDS = _words(
    "and but while as when because so then until after before that if though although where "
    "once since or yet whereas whether unless")
_PREPOSITIONS = _words(
    "with to for at about from of by on behind beside near like than without toward towards "
    "around against into onto over under past among between beyond upon except through after "
    "before beneath inside outside")
_YOUNG = frozenset({"young", "little"})
_FUNCTION_WORDS = _words(
    "a an the and or but to in on at of for with from by as is was that this than then when "
    "while if so into onto")
_COORDINATED = re.compile(rf"(?:\band|\bor|\bbut|\bthen|,)\s+(?:{_ADVERBS}\s+)?([a-z]+(?:n't)?)\b")


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    name: str | None  # None for a pronoun
    feminine: bool | None  # a pronoun's gender, or a name's learnt one (None: unknown)


def agree_with_i(verb: str) -> str | None:
    """The form of a present/past verb that agrees with "I", or None if `verb` is not one."""
    if verb in _I_FORMS:
        return _I_FORMS[verb]
    if verb in _UNCHANGED or (verb.endswith("ed") and len(verb) > 3):
        return verb
    if not re.fullmatch(r"[a-z]{3,}s", verb) or verb in _NOT_VERBS or verb.endswith(
            ("ss", "us", "is", "ous")):
        return None
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if verb.endswith(("ches", "shes", "sses", "xes", "zzes", "oes")):
        return verb[:-2]
    return verb[:-1]


def _capitalised(text: str, at_start: bool) -> str:
    return text[0].upper() + text[1:] if at_start else text


# The languages these rules know; in any other the offline writer stays in the third person.
RETELLING_LANGUAGES = frozenset({"zh", "en"})


class Narrator:
    """Speaks as `character`; knows the dataset's names and what genders they were given."""

    def __init__(self, character: str, lang: str, genders: dict[str, bool | None]) -> None:
        if lang not in RETELLING_LANGUAGES:
            raise ValueError(f"no first-person retelling rules for {lang!r}")
        self.character = character
        self.lang = lang
        self._genders = genders
        names = "|".join(re.escape(n) for n in sorted(genders, key=len, reverse=True))
        bounded = rf"\b(?:{names})\b" if lang == "en" else f"(?:{names})"
        pronoun = _EN_PRONOUN if lang == "en" else _ZH_PRONOUN
        self._mention = re.compile(rf"(?P<name>{bounded})|(?P<pronoun>{pronoun})")

    @classmethod
    def learn(cls, dataset: Dataset, character: str, lang: str) -> Narrator:
        names = {d.speaker for s in dataset.scenes.values() for d in s.dialogues if d.speaker}
        # "车小小妈妈" is read as 车小小 + 妈妈, so that it becomes 我妈妈.
        names = {n for n in names if character not in n} | {character}
        narrator = cls(character, lang, dict.fromkeys(names))
        texts = [t for s in dataset.scenes.values()
                 for t in [s.narrative_summary, s.character_dynamics, *s.highlights] if t]
        narrator._genders = narrator._learn_genders(texts)
        return narrator

    def _learn_genders(self, texts: Iterable[str]) -> dict[str, bool | None]:
        votes: dict[str, Counter[bool]] = defaultdict(Counter)
        for text in texts:
            for sentence in split_sentences(text):
                named: set[str] = set()
                for mention in self._mentions(sentence):
                    if mention.name is not None:
                        named.add(mention.name)
                    elif len(named) == 1:  # only one person it can mean
                        votes[next(iter(named))][bool(mention.feminine)] += 1
        learnt: dict[str, bool | None] = {}
        for name in self._genders:
            tally = votes[name]
            top = tally.most_common(1)
            total = sum(tally.values())
            enough = bool(top) and total >= _MIN_VOTES and top[0][1] >= _MIN_SHARE * total
            learnt[name] = top[0][0] if enough else None
        return learnt

    def _mentions(self, sentence: str) -> list[_Mention]:
        quoted = [m.span() for m in _QUOTED.finditer(sentence)]
        found = []
        for match in self._mention.finditer(sentence):
            if any(a <= match.start() < b for a, b in quoted):
                continue
            if match.group("name"):
                name = match.group("name")
                found.append(_Mention(*match.span(), name, self._genders.get(name)))
            else:
                word = match.group("pronoun").lower()
                found.append(_Mention(*match.span(), None, word in _FEMININE))
        return found

    def names_narrator(self, text: str) -> bool:
        return self.character in text

    def speaker(self, name: str) -> str:
        """How the narration names a speaker: the character is 我/I."""
        if name == self.character:
            return "我" if self.lang == "zh" else "I"
        return self.retell(name) or name

    # -- resolving who a pronoun means ---------------------------------------------------------

    def _could_mean(self, mention: _Mention, pronoun: _Mention) -> bool:
        return mention.name is not None and mention.feminine in (None, pronoun.feminine)

    def _is_narrators(self, sentence: str, pronoun: _Mention, before: list[_Mention],
                      after: list[_Mention]) -> bool | None:
        """True/False when the pronoun surely is/is not the narrator; None when unsure."""
        gender = self._genders[self.character]
        if gender not in (None, pronoun.feminine):
            return False
        mine = self._resolve(sentence, pronoun, before, after)
        if mine and gender is None and any(
                m.name not in (None, self.character) and m.feminine == pronoun.feminine
                for m in before + after):
            return None  # someone named here surely fits the pronoun; the narrator may not
        return mine

    def _resolve(self, sentence: str, pronoun: _Mention, before: list[_Mention],
                 after: list[_Mention]) -> bool | None:
        """The antecedent rule of the module docstring, for a pronoun the narrator could fit."""
        earlier = [m for m in before if self._could_mean(m, pronoun)
                   and not self._acts_on(sentence, m, pronoun)]
        topic = self._clause_topic(sentence, pronoun, earlier)
        if topic is not None:
            return topic.name == self.character
        if earlier:
            if earlier[-1].name == self.character:
                return True
            return None if any(m.name == self.character for m in earlier) else False
        later = {m.name for m in after if self._could_mean(m, pronoun)}
        return True if later == {self.character} else None

    @staticmethod
    def _clause_topic(sentence: str, pronoun: _Mention, earlier: list[_Mention]
                      ) -> _Mention | None:
        """For a pronoun opening a clause ("宋安娜哀求车小小…，她说起…"), the first possible
        antecedent of the nearest earlier clause naming one: a clause-opening pronoun carries
        on that clause's subject, not its object."""
        head = sentence[:pronoun.start]
        if not _CLAUSE_OPENING.search(head):
            return None
        boundaries = [0] + [m.end() for m in _CLAUSE_BREAK.finditer(head)]
        for start, end in zip(reversed(boundaries[:-1]), reversed(boundaries[1:]), strict=True):
            inside = [m for m in earlier if start <= m.start < end]
            if inside:
                return inside[0]
        return None

    def _acts_on(self, sentence: str, name: _Mention, pronoun: _Mention) -> bool:
        """"X告诉她", "Anna hugs her": the pronoun is the object of X's own verb, so it is not
        X (that would be 自己/herself)."""
        between = sentence[name.end:pronoun.start]
        if self.lang == "zh":
            return _ZH_ACTS_ON.fullmatch(between) is not None
        word = sentence[pronoun.start:pronoun.end].lower()
        return word in ("her", "him") and _EN_ACTS_ON.fullmatch(between) is not None

    # -- retelling -----------------------------------------------------------------------------

    def retell(self, sentence: str) -> str | None:
        """`sentence` told by the character, or None when no rule here can tell it right."""
        mentions = self._mentions(sentence)
        edits: list[tuple[int, int, str]] = []
        for index, mention in enumerate(mentions):
            if mention.name is not None and mention.name != self.character:
                continue
            if mention.name is None:
                mine = self._is_narrators(sentence, mention, mentions[:index],
                                          mentions[index + 1:])
                if mine is None:
                    return None
                if not mine:
                    continue
            edit = self._edit(sentence, mention, mentions)
            if edit is None:
                return None
            edits.append(edit)
        if self.lang == "en" and self._needs_more_agreement(sentence, edits):
            return None
        for start, end, replacement in sorted(edits, reverse=True):
            sentence = sentence[:start] + replacement + sentence[end:]
        return sentence

    def _edit(self, sentence: str, mention: _Mention, mentions: list[_Mention]
              ) -> tuple[int, int, str] | None:
        if self.lang == "zh":
            return mention.start, mention.end, self._zh_me(mention, mentions)
        at_start = not sentence[:mention.start].strip(" \"“'‘")
        if mention.name is not None:
            return self._edit_name(sentence, mention, at_start)
        return self._edit_pronoun(sentence, mention, at_start)

    @staticmethod
    def _zh_me(mention: _Mention, mentions: list[_Mention]) -> str:
        """我, joined by 和 to a name it abuts ("宋安娜车小小两人" → "宋安娜和我两人") unless that
        name is a relative or a role of theirs."""
        if mention.name is None:
            return "我"
        if any(m.end == mention.start for m in mentions if m.name is not None):
            return "和我"
        following = [m.name for m in mentions if m.name is not None and m.start == mention.end]
        if following and not following[0].endswith(_ZH_KIN):
            return "我和"  # but "楚昊轩爷爷" is 我爷爷
        return "我"

    def _edit_name(self, sentence: str, mention: _Mention, at_start: bool
                   ) -> tuple[int, int, str] | None:
        rest = sentence[mention.end:]
        if rest.startswith(("'s", "’s")):
            return mention.start, mention.end + 2, _capitalised("my", at_start)
        subject = self._as_subject(sentence, mention)
        if subject is not None:
            return subject
        if self._in_object_position(sentence, mention):
            return mention.start, mention.end, _capitalised("me", at_start)
        return None

    def _edit_pronoun(self, sentence: str, mention: _Mention, at_start: bool
                      ) -> tuple[int, int, str] | None:
        word = sentence[mention.start:mention.end].lower()
        if word in ("she", "he"):
            return self._as_subject(sentence, mention, clause_start_needed=False)
        if word == "her":
            following = re.match(r"\s+([A-Za-z]+)", sentence[mention.end:])
            possessive = following is not None and following.group(1).lower() not in \
                _FUNCTION_WORDS
            word = "my" if possessive else "me"
        else:
            word = {"his": "my", "him": "me", "hers": "mine"}.get(word, "myself")
        return mention.start, mention.end, _capitalised(word, at_start)

    def _as_subject(self, sentence: str, mention: _Mention, clause_start_needed: bool = True
                    ) -> tuple[int, int, str] | None:
        """The edit making `mention` "I" with its verb agreed, if it is a clause's subject."""
        before = sentence[:mention.start].rstrip()
        previous = re.search(r"([A-Za-z']+)$", before)
        at_clause_start = (not before or before[-1] in ",;:—–(\"“'‘"
                           or (previous is not None and previous.group(1).lower()
                               in _CLAUSE_WORDS))
        if clause_start_needed and not at_clause_start:
            return None
        verb = re.match(rf"((?:\s+{_ADVERBS})*)\s+([a-z]+(?:n't| not)?)(?![a-z'])",
                        sentence[mention.end:])
        if verb is None:
            return None
        agreed = agree_with_i(verb.group(2)) or agree_with_i(verb.group(2).split()[0])
        if agreed is None:
            return None
        if verb.group(2).endswith(" not") and verb.group(2) not in _I_FORMS:
            agreed += " not"
        return mention.start, mention.end + verb.end(), f"I{verb.group(1)} {agreed}"

    def _in_object_position(self, sentence: str, mention: _Mention) -> bool:
        previous = re.search(r"([A-Za-z']+)\s+$", sentence[:mention.start])
        if previous is None:
            return False
        word = previous.group(1)
        next_word = re.match(r"\s+([a-z]+)", sentence[mention.end:])
        if next_word is not None and agree_with_i(next_word.group(1)) is not None:
            return False  # "young Mara falls": a subject this module cannot rephrase
        verb_like = word.islower() and word not in _NOT_VERBS and (
            word.endswith(("s", "ed")) or word in _UNCHANGED)
        return word.lower() in _PREPOSITIONS or word.lower() in _YOUNG or verb_like

    @staticmethod
    def _needs_more_agreement(sentence: str, edits: list[tuple[int, int, str]]) -> bool:
        """A coordinated verb after an "I" subject ("I arrive and climbs") would disagree."""
        for _, end, text in edits:
            if not text.startswith("I"):
                continue
            for match in _COORDINATED.finditer(sentence, end):
                verb = match.group(1)
                if agree_with_i(verb) not in (None, verb):
                    return True
        return False
