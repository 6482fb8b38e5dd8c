"""Which offline voice is understood best, per narration language: every offline voice (each
Kokoro voice that ships, and espeak-ng) speaks the same sentences, a speech recogniser
(Whisper base, tests.support.recogniser) writes down what it hears, and the transcript is
scored against the text (tests.support.intelligibility). Measures, never asserts.

Each voice is heard at two paces. Natural: the engine at rate 1.0. The product's: a voice
slower than the pacing model the narration was written to (4.5 hanzi/s, 2.5 English and 2.6
French words/s) sped up to it, as the dubbing stage must to fit its slots (a voice that is
only easy to follow because it is slow does not get that time in the product).

Named figures go to build/bench.json (`tests.support.bench_figures`), each with the load
average: `voices.<lang>.<voice>.cer` (character error rate, all sentences together) and, for
Chinese, `voices.zh.<voice>.syllable_error_rate` and `.toneless_syllable_error_rate` (pinyin
syllables with and without tones: a homophone is no error of the voice), at the natural pace,
with `voices.<lang>.<voice>.units_per_second` (hanzi or words); the same under
`voices.<lang>.<voice>.paced.*` at the product's pace. The best voice of a language has the
lowest syllable error rate in Chinese and the lowest CER elsewhere, at the product's pace; it
is what `local_<lang>` narrates with (shared/vss/dubbing/voices/templates.json).
Run: `python -m tests.bench.voices` (no emulator needed; one to two hours on 2 cores);
`--help` to take fewer sentences, voices or paces.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tests.support.bench_figures import OUTPUT, figure, record
from tests.support.intelligibility import Tally, character_tally, syllable_tally
from tests.support.recogniser import Recogniser
from vss.adapters.espeak import EspeakSpeechEngine
from vss.adapters.kokoro import KokoroSpeechEngine
from vss.config import Settings
from vss.domain.language import language_profile, speech_units
from vss.ports import SpeechAudio, SpeechRequest

ESPEAK = "espeak-ng"

# The product's example narration (tests/data/upstream_dubbing_script_example.json), sentence
# by sentence: the names (车小小, 楚昊轩) and idioms a narrator must get across.
ZH = (
    "这一次，她再次浓妆艳抹，假扮成和风集团继承人宋安娜，准备故技重施。",
    "在咖啡厅，车小小见到了新的相亲对象楚昊轩，被他的帅气所吸引。",
    "然而，当她看到楚昊轩的名片时，震惊地发现他竟是自己公司新上任的总裁。",
    "面对可能失去工作或姐妹的困境，她无奈选择回到相亲桌。",
    "绝望之下，车小小放大招，提议直接去开房，本以为能吓退对方。",
    "楚昊轩的婚讯让宋安娜和车小小都大为震惊。",
    "宋安娜为躲避父亲，跑到车小小家，两人为此犯愁。",
    "一次，她在电梯里偶遇楚昊轩和他的爷爷，惊慌失措下掉了工牌。",
    "深夜，楚昊轩仍在为“始祖鸟”一事纠结，甚至打电话给“车星星”质问。",
    "尽管如此，他仍被安排了多场相亲，但他心不在焉，对其他女孩毫无兴趣。",
)
# The same story told in English and French, in words a recogniser spells one way only (no
# numbers, no British or American spellings).
EN = (
    "She walks into the cafe and sees him by the window.",
    "To help her best friend escape a blind date, she pretends to be the heiress of a rich "
    "family.",
    "When she reads his business card, she finds out that he is the new president of her own "
    "company.",
    "She makes an excuse to leave the table and tries to call her friend, but nobody answers.",
    "He smiles, agrees to everything she says, and takes her to a hotel downtown.",
    "The next morning, the whole office is talking about the new president.",
    "In the elevator, she runs into him and his grandfather and drops her badge.",
    "Late at night, he calls her again to ask why she said he looks like an ancient bird.",
    "His grandfather is already planning the wedding, so he tells him he has a girlfriend.",
    "She refuses to marry him, jumps out of the car and runs home to her parents' bakery.",
)
FR = (
    "Elle entre dans le café et le voit près de la fenêtre.",
    "Pour aider sa meilleure amie à éviter un rendez-vous arrangé, elle se fait passer pour une "
    "riche héritière.",
    "En lisant sa carte de visite, elle découvre qu'il est le nouveau directeur de sa propre "
    "entreprise.",
    "Elle s'excuse, quitte la table et essaie d'appeler son amie, mais personne ne répond.",
    "Il sourit, accepte tout ce qu'elle propose et l'emmène dans un hôtel du centre-ville.",
    "Le lendemain matin, tout le bureau ne parle que du nouveau président.",
    "Dans l'ascenseur, elle tombe sur lui et son grand-père, et laisse tomber son badge.",
    "Tard dans la nuit, il l'appelle encore pour lui demander pourquoi elle le compare à un "
    "oiseau préhistorique.",
    "Son grand-père prépare déjà le mariage, alors il prétend avoir une petite amie.",
    "Elle refuse de l'épouser, saute de la voiture et rentre à la pâtisserie de ses parents.",
)
SENTENCES: dict[str, tuple[str, ...]] = {"zh": ZH, "en": EN, "fr": FR}


PACES = ("natural", "product")
# The engines' own bounds on `rate` (Kokoro's speed; espeak-ng's is wider).
MAX_RATE = 2.0
# Sentences a rate is tried on before a voice speaks them all at it.
CALIBRATION = 2


@dataclass
class Score:
    """One voice in one language at one pace, over all its sentences."""

    lang: str
    voice: str
    pace: str
    rate: float = 1.0
    cer: Tally = field(default_factory=Tally)
    syllables: Tally = field(default_factory=Tally)
    toneless: Tally = field(default_factory=Tally)
    speech_seconds: float = 0.0
    units: int = 0
    transcripts: list[str] = field(default_factory=list)

    @property
    def units_per_second(self) -> float:
        return self.units / self.speech_seconds if self.speech_seconds else 0.0

    @property
    def rank_key(self) -> tuple[float, ...]:
        """Lower is better. In Chinese the syllables decide (a homophone is the recogniser's
        spelling, not the voice; a wrong tone is the voice), then the CER."""
        if self.lang == "zh":
            return (self.syllables.rate, self.toneless.rate, self.cer.rate)
        return (self.cer.rate,)


def offline_voices(kokoro: KokoroSpeechEngine, only: Sequence[str] = ()) -> list[str]:
    """Every Kokoro voice that ships, then espeak-ng (which has one voice per language); or
    `only` those, when asked (Kokoro is loaded only to check a Kokoro voice's name: Kokoro
    would speak an unknown one in its default voice)."""
    if not only:
        return [*kokoro.voices, ESPEAK]
    unknown = [v for v in only if v != ESPEAK and v not in kokoro.voices]
    if unknown:
        raise SystemExit(f"not an offline voice: {', '.join(unknown)}")
    return list(only)


@dataclass(frozen=True)
class Voices:
    kokoro: KokoroSpeechEngine
    espeak: EspeakSpeechEngine

    def speak(self, voice: str, texts: Sequence[str], lang: str, rate: float = 1.0
              ) -> list[SpeechAudio]:
        if voice == ESPEAK:
            return [self.espeak.speak(SpeechRequest(text=t, lang=lang, rate=rate)) for t in texts]
        return [self.kokoro.speak(SpeechRequest(text=t, lang=lang, voice=voice, rate=rate))
                for t in texts]


def seconds(speeches: Sequence[SpeechAudio]) -> float:
    return sum(s.duration_seconds for s in speeches)


def slowness(texts: Sequence[str], speeches: Sequence[SpeechAudio], lang: str) -> float:
    """Seconds spoken over the seconds the pacing model gives the texts (over 1: slower)."""
    budget = sum(speech_units(t, lang) for t in texts) / language_profile(lang).units_per_second
    return seconds(speeches) / budget


def product_rate(voice: str, texts: Sequence[str], natural: Sequence[SpeechAudio], lang: str,
                 voices: Voices) -> float:
    """The rate that brings a voice slower than the pacing model down to its seconds, as the
    dubbing stage must (a tempo change, else a shorter text) to fit the slots the narration
    was written for; a voice at or above that pace is left as it is, as the stage leaves it.
    Kokoro's speed shortens speech more than in proportion (x1.5 gave about x1.65), so the rate
    is tried on the first sentences and scaled by what it did there against what it should."""
    rate = slowness(texts, natural, lang)
    if rate <= 1.0:
        return 1.0
    probe = texts[:CALIBRATION]
    tried = voices.speak(voice, probe, lang, min(rate, MAX_RATE))
    shortened = seconds(tried) / seconds(natural[:len(probe)])  # 1 / rate if proportional
    return min(max(1.0, rate * rate * shortened), MAX_RATE)


def score_speech(lang: str, voice: str, pace: str, rate: float, texts: Sequence[str],
                 speeches: Sequence[SpeechAudio], recogniser: Recogniser) -> Score:
    score = Score(lang, voice, pace, rate=rate)
    for text, speech in zip(texts, speeches, strict=True):
        heard = recogniser.transcribe(speech.wav, lang)
        score.speech_seconds += speech.duration_seconds
        score.units += speech_units(text, lang)
        score.transcripts.append(heard)
        score.cer += character_tally(text, heard, lang)
        if lang == "zh":
            score.syllables += syllable_tally(text, heard, tones=True)
            score.toneless += syllable_tally(text, heard, tones=False)
    return score


def score_voice(lang: str, voice: str, texts: Sequence[str], paces: Sequence[str],
                voices: Voices, recogniser: Recogniser) -> list[Score]:
    """The voice at each pace asked for. The product's pace is found from the voice's natural
    one on all the sentences (a voice's pace differs from sentence to sentence)."""
    scores: list[Score] = []
    natural = voices.speak(voice, texts, lang)
    if "natural" in paces:
        scores.append(score_speech(lang, voice, "natural", 1.0, texts, natural, recogniser))
    if "product" in paces:
        rate = round(product_rate(voice, texts, natural, lang, voices), 3)
        if rate == 1.0 and scores:  # the same speech: heard the same
            scores.append(replace(scores[0], pace="product"))
        else:
            paced = natural if rate == 1.0 else voices.speak(voice, texts, lang, rate)
            scores.append(score_speech(lang, voice, "product", rate, texts, paced, recogniser))
    return scores


def figures_of(score: Score, sentences: int) -> dict[str, dict[str, Any]]:
    """The voice's named figures, each with the size of the sample it was measured on and the
    pace it spoke at: `voices.<lang>.<voice>.*` at its natural pace (what the engine does at
    rate 1.0), `voices.<lang>.<voice>.paced.*` at the product's."""
    prefix = f"voices.{score.lang}.{score.voice}" + (".paced" if score.pace == "product" else "")
    pace = {"sentences": sentences, "rate": score.rate,
            "units_per_second": round(score.units_per_second, 2)}
    named = {f"{prefix}.cer": figure(round(score.cer.rate, 4), "ratio", **pace,
                                     characters=score.cer.units)}
    if score.lang == "zh":
        for name, tally in (("syllable_error_rate", score.syllables),
                            ("toneless_syllable_error_rate", score.toneless)):
            named[f"{prefix}.{name}"] = figure(round(tally.rate, 4), "ratio", **pace,
                                               syllables=tally.units)
    if score.pace == "natural":
        unit = "chars/s" if score.lang == "zh" else "words/s"
        named[f"{prefix}.units_per_second"] = figure(round(score.units_per_second, 2), unit,
                                                     sentences=sentences)
    return named


def run(langs: Sequence[str], sentences: int, only: Sequence[str] = (),
        paces: Sequence[str] = PACES, output: Path | None = None
        ) -> tuple[list[Score], dict[str, dict[str, Any]]]:
    """Every voice's scores and named figures; each voice's figures are added to `output` as
    soon as they are measured, so a long run that is stopped keeps what it measured."""
    kokoro = KokoroSpeechEngine(Settings().kokoro_model_dir)
    voices, recogniser = Voices(kokoro, EspeakSpeechEngine()), Recogniser()
    scores: list[Score] = []
    figures: dict[str, dict[str, Any]] = {}
    for lang in langs:
        texts = SENTENCES[lang][:sentences]
        for voice in offline_voices(kokoro, only):
            started = time.perf_counter()
            measured: dict[str, dict[str, Any]] = {}
            for score in score_voice(lang, voice, texts, paces, voices, recogniser):
                measured.update(figures_of(score, len(texts)))
                scores.append(score)
                print(f"{lang} {voice:<14} {score.pace:<8} rate {score.rate:4.2f}  "
                      f"CER {score.cer.rate:6.1%}"
                      + (f"  syllables {score.syllables.rate:6.1%}  toneless "
                         f"{score.toneless.rate:6.1%}" if lang == "zh" else "")
                      + f"  ({score.speech_seconds:.0f} s of speech, "
                        f"{score.units_per_second:.2f} units/s; "
                        f"{time.perf_counter() - started:.0f} s)", flush=True)
            figures.update(measured)
            if output is not None:
                record(measured, output)
    return scores, figures


def best_voices(scores: Sequence[Score]) -> dict[str, Score]:
    """Per language, the best voice at the product's pace when it was measured (what the
    listener gets), else at the natural one."""
    best: dict[str, Score] = {}
    for score in sorted(scores, key=lambda s: s.pace != "product"):
        held = best.get(score.lang)
        if held is None or (held.pace == score.pace and score.rank_key < held.rank_key):
            best[score.lang] = score
    return best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.voices",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--langs", nargs="+", choices=sorted(SENTENCES),
                        default=list(SENTENCES), help="(default: all)")
    parser.add_argument("--sentences", type=int, default=len(ZH),
                        help="the first N sentences of each language (default: %(default)s)")
    parser.add_argument("--voices", nargs="+", default=[],
                        help=f"only these voices (Kokoro voice ids, {ESPEAK}; default: all)")
    parser.add_argument("--paces", nargs="+", choices=PACES, default=list(PACES),
                        help="natural: rate 1.0; product: a voice slower than the pacing model "
                             "sped up to it (default: both)")
    parser.add_argument("--transcripts", action="store_true",
                        help="print what the recogniser heard, sentence by sentence")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="the bench file the named figures go to (default: build/bench.json)")
    args = parser.parse_args(argv)
    scores, figures = run(args.langs, args.sentences, args.voices, args.paces, args.output)
    if args.transcripts:
        for score in scores:
            for text, heard in zip(SENTENCES[score.lang], score.transcripts, strict=False):
                print(f"{score.lang} {score.voice} {score.pace}: {text}\n    heard: {heard}")
    for lang, score in best_voices(scores).items():
        print(f"best {lang}: {score.voice} (at the {score.pace} pace)")
    for name, value in figures.items():
        print(f"{name} = {value['value']} (load average "
              f"{', '.join(f'{x:.2f}' for x in value['load_average'])} on {value['cores']} cores)")
    print(f"figures written to {args.output}")


if __name__ == "__main__":
    main()
