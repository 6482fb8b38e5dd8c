"""What a character fact may say, in each language: its attributes, how lasting it is, and the
words that tell an attribute in a title ("海晏集团职员", "heir of the Hefeng Group").

A fact's attribute and type are written in the report's language (职业, occupation,
profession), so they are labels of a `FactVocabulary`; `Attribute` and `FactType` are the
language-neutral keys behind them. One vocabulary per language profile
(`vss.domain.language.LANGUAGES`), checked when the module loads, like the profiles.

The cues are what offline extraction reads a title by: a Chinese title ends with its head noun
("海晏集团职员" ends with 职员); an English or French one has it last before its first
preposition ("clerk at Haiyan Group", "héritière du groupe Hefeng"). A title whose head is not
a cue says nothing: better no fact than a wrong one.

Standard library only, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from vss.domain.language import LANGUAGES


class Attribute(StrEnum):
    """What a fact is about."""

    OCCUPATION = "occupation"
    PERSONALITY = "personality"
    ASSUMED_IDENTITY = "assumed_identity"  # who the character passes for (a role they play)
    SKILL = "skill"
    FAMILY = "family"  # family situation and relations
    SOCIAL_STANDING = "social_standing"
    STATE_OF_MIND = "state_of_mind"
    HEALTH = "health"
    GENDER = "gender"
    OTHER = "other"  # anything else; the fact suggests an attribute for it


class FactType(StrEnum):
    """How lasting a fact is."""

    PERMANENT = "permanent"  # holds for the whole story (gender, a trait)
    STATEFUL = "stateful"  # holds for a stretch of the story, then may change (a job)
    SITUATIONAL = "situational"  # holds in one situation (a mood, a lie told once)


def _cues(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(*items: str) -> frozenset[str]:
    return frozenset(items)


@dataclass(frozen=True, slots=True)
class FactVocabulary:
    """The labels of one language, and the cues offline extraction reads titles by."""

    code: str  # a language profile's code
    attributes: Mapping[Attribute, str]
    types: Mapping[FactType, str]
    # Head nouns of a title that tell its attribute (occupation, social standing, family).
    cues: Mapping[Attribute, frozenset[str]]
    # A speaker introducing themselves: a regex of "I am" (never "I am not").
    introduction: str
    # Words of a title that come before its head ("a", "the"; a Chinese measure word).
    leading_words: frozenset[str] = frozenset()
    # Words after a title's head (its complement starts): "of", "at"; none in Chinese.
    prepositions: frozenset[str] = frozenset()
    # Words that make a title someone else's ("your boss", "你老板"): not the speaker's own.
    possessives: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.code not in LANGUAGES:
            raise ValueError(f"{self.code}: no language profile has this code")
        if set(self.attributes) != set(Attribute) or set(self.types) != set(FactType):
            raise ValueError(f"{self.code}: every attribute and type needs a label")
        labels = [*self.attributes.values(), *self.types.values()]
        if len(set(self.attributes.values())) != len(Attribute) or not all(labels):
            raise ValueError(f"{self.code}: attribute labels must be distinct and non-empty")
        if len(set(self.types.values())) != len(FactType):
            raise ValueError(f"{self.code}: type labels must be distinct")

    @property
    def attribute_labels(self) -> tuple[str, ...]:
        return tuple(self.attributes[a] for a in Attribute)

    @property
    def type_labels(self) -> tuple[str, ...]:
        return tuple(self.types[t] for t in FactType)

    def attribute_of(self, label: str) -> Attribute | None:
        return next((a for a, text in self.attributes.items() if text == label), None)


CHINESE_FACTS: Final = FactVocabulary(
    code="zh",
    attributes=MappingProxyType({
        Attribute.OCCUPATION: "职业", Attribute.PERSONALITY: "性格特征",
        Attribute.ASSUMED_IDENTITY: "扮演身份", Attribute.SKILL: "技能",
        Attribute.FAMILY: "家庭状态", Attribute.SOCIAL_STANDING: "社会属性",
        Attribute.STATE_OF_MIND: "心理状态", Attribute.HEALTH: "健康状态",
        Attribute.GENDER: "性别", Attribute.OTHER: "其他"}),
    types=MappingProxyType({FactType.PERMANENT: "恒定", FactType.STATEFUL: "状态性",
                            FactType.SITUATIONAL: "情境性"}),
    cues=MappingProxyType({
        Attribute.OCCUPATION: _cues(
            "职员 员工 总裁 经理 董事长 董事 总监 主管 组长 部长 主任 秘书 特助 助理 老板 "
            "医生 护士 律师 老师 教授 警察 警官 演员 明星 歌手 记者 厨师 司机 保镖 管家 "
            "设计师 工程师 学生 实习生 服务员 店员 店长 模特 作家 画家"),
        Attribute.SOCIAL_STANDING: _cues(
            "继承人 千金 大小姐 少爷 公子 少主 首富 富二代 富豪 名媛 太子爷 掌门人 家主"),
        Attribute.FAMILY: _cues(
            "妻子 丈夫 老婆 老公 未婚妻 未婚夫 前妻 前夫 女儿 儿子 爷爷 奶奶 外公 外婆 "
            "父亲 母亲 爸爸 妈妈 哥哥 姐姐 弟弟 妹妹"),
    }),
    introduction=r"我(?:就|才|也)?是",
    leading_words=_cues("一个 一名 一位 个 名 位"),
    possessives=_cues("你 您 他 她 我 咱"),
)
ENGLISH_FACTS: Final = FactVocabulary(
    code="en",
    attributes=MappingProxyType({
        Attribute.OCCUPATION: "occupation", Attribute.PERSONALITY: "personality",
        Attribute.ASSUMED_IDENTITY: "assumed identity", Attribute.SKILL: "skill",
        Attribute.FAMILY: "family", Attribute.SOCIAL_STANDING: "social standing",
        Attribute.STATE_OF_MIND: "state of mind", Attribute.HEALTH: "health",
        Attribute.GENDER: "gender", Attribute.OTHER: "other"}),
    types=MappingProxyType({FactType.PERMANENT: "permanent", FactType.STATEFUL: "stateful",
                            FactType.SITUATIONAL: "situational"}),
    cues=MappingProxyType({
        Attribute.OCCUPATION: _cues(
            "employee clerk ceo president director manager assistant secretary boss doctor "
            "nurse lawyer teacher professor detective actor actress singer reporter "
            "journalist chef driver bodyguard butler designer engineer student intern waiter "
            "waitress model writer painter") | _phrases("police officer"),
        Attribute.SOCIAL_STANDING: _cues("heir heiress tycoon billionaire millionaire "
                                         "socialite") | _phrases("young master"),
        Attribute.FAMILY: _cues(
            "wife husband fiancée fiancé fiancee fiance ex-wife ex-husband daughter son "
            "grandfather grandmother grandpa grandma mother father mom dad brother sister"),
    }),
    introduction=r"\bI(?:'m|’m| am)(?! not\b)",
    leading_words=_cues("a an the"),
    prepositions=_cues("of at for in from with to"),
    possessives=_cues("my your his her our their"),
)
FRENCH_FACTS: Final = FactVocabulary(
    code="fr",
    attributes=MappingProxyType({
        Attribute.OCCUPATION: "profession", Attribute.PERSONALITY: "personnalité",
        Attribute.ASSUMED_IDENTITY: "identité d'emprunt", Attribute.SKILL: "compétence",
        Attribute.FAMILY: "situation familiale", Attribute.SOCIAL_STANDING: "statut social",
        Attribute.STATE_OF_MIND: "état d'esprit", Attribute.HEALTH: "santé",
        Attribute.GENDER: "genre", Attribute.OTHER: "autre"}),
    types=MappingProxyType({FactType.PERMANENT: "permanent", FactType.STATEFUL: "état",
                            FactType.SITUATIONAL: "situationnel"}),
    cues=MappingProxyType({
        Attribute.OCCUPATION: _cues(
            "employé employée salarié salariée pdg directeur directrice président présidente "
            "assistant assistante secrétaire patron patronne médecin docteur infirmier "
            "infirmière avocat avocate professeur professeure enseignant enseignante "
            "policier policière inspecteur inspectrice acteur actrice chanteur chanteuse "
            "journaliste cuisinier cuisinière chauffeur majordome ingénieur ingénieure "
            "étudiant étudiante stagiaire serveur serveuse") | _phrases("garde du corps"),
        Attribute.SOCIAL_STANDING: _cues("héritier héritière milliardaire millionnaire"),
        Attribute.FAMILY: _cues(
            "épouse époux mari fiancé fiancée fils mère père maman papa grand-père "
            "grand-mère frère sœur"),
    }),
    introduction=r"\b(?:[Jj]e suis|[Mm]oi,? c['’]est)(?! pas\b)",
    leading_words=_cues("un une le la les l'"),
    prepositions=_cues("de du des d' chez à au aux pour"),
    possessives=_cues("mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs"),
)

# What a prompt says each label means, whatever the report's language.
GLOSSES: Final[Mapping[Attribute | FactType, str]] = MappingProxyType({
    Attribute.OCCUPATION: "job, position or trade",
    Attribute.PERSONALITY: "a character trait",
    Attribute.ASSUMED_IDENTITY: "an identity or role the character pretends to have",
    Attribute.SKILL: "something the character is good at",
    Attribute.FAMILY: "family situation and family relations",
    Attribute.SOCIAL_STANDING: "wealth, class, status, social role",
    Attribute.STATE_OF_MIND: "what the character feels or intends",
    Attribute.HEALTH: "physical condition, illness, injury",
    Attribute.GENDER: "gender",
    Attribute.OTHER: "none of these (then suggest an attribute name)",
    FactType.PERMANENT: "true for the whole story",
    FactType.STATEFUL: "true for a stretch of the story, may change",
    FactType.SITUATIONAL: "true in this situation only",
})

FACT_VOCABULARIES: Final[Mapping[str, FactVocabulary]] = MappingProxyType(
    {v.code: v for v in (CHINESE_FACTS, ENGLISH_FACTS, FRENCH_FACTS)})
if set(FACT_VOCABULARIES) != set(LANGUAGES):
    raise ValueError("every language profile needs a fact vocabulary")

# The labels of `Attribute.OTHER` in every language: only such a fact suggests an attribute.
OTHER_LABELS: Final = frozenset(v.attributes[Attribute.OTHER]
                                for v in FACT_VOCABULARIES.values())


def fact_vocabulary(code: str) -> FactVocabulary:
    """The vocabulary of a language; KeyError naming the known codes if it has none."""
    try:
        return FACT_VOCABULARIES[code]
    except KeyError:
        known = ", ".join(sorted(FACT_VOCABULARIES))
        raise KeyError(f"no fact vocabulary for {code!r}; known: {known}") from None
