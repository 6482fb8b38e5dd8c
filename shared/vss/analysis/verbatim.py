"""Whether a fact's quote is really in its scene.

A quote is verbatim when, once both are normalised, it occurs in one of the scene's texts:
a dialogue line, the dialogue as one transcript (lines in order, so a sentence a subtitle
split over two lines is still found), a caption, a highlight, the summary, the dynamics or the
location. Normalising touches only

- whitespace: runs become one space, and a space next to a CJK character or a punctuation
  mark goes ("车小小 海晏集团职员" and "车小小海晏集团职员" are the same words), and
- the width of punctuation: full-width marks become their ASCII forms (，→, ！→! ：→:),
  half-width CJK marks their full forms (｡→。), and curly quotes straight ones (“”→", ‘’→').

Letters, digits and words are compared as written: a paraphrase is not a quote. A quote of
nothing but names (says_more_than_names) is no quote either: it states no fact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from vss.domain.dataset import Scene
from vss.domain.language import CJK_CLASS, unquoted

_FULL_WIDTH_ASCII = range(0xFF01, 0xFF5F)  # ！ to ～, the full-width forms of ! to ~
_WIDTH = {
    **{code: chr(code - 0xFEE0) for code in _FULL_WIDTH_ASCII
       if not chr(code - 0xFEE0).isalnum()},
    ord("｡"): "。", ord("｢"): "「", ord("｣"): "」", ord("､"): "、",
    ord("“"): '"', ord("”"): '"', ord("‘"): "'", ord("’"): "'",
}
_SPACES = re.compile(r"\s+")
_NOT_A_WORD = re.compile(r"[\W_]+")
# A space goes when a CJK character or a mark (anything neither a word character nor a
# space) is on either side of it.
_LOOSE_SPACE = re.compile(rf"(?<={CJK_CLASS}|[^\w\s]) | (?={CJK_CLASS}|[^\w\s])")


def normalise(text: str) -> str:
    """`text` with its whitespace and the width of its punctuation normalised."""
    collapsed = _SPACES.sub(" ", text.translate(_WIDTH)).strip()
    return _LOOSE_SPACE.sub("", collapsed)


def scene_texts(scene: Scene) -> list[str]:
    """The scene's texts a quote may come from, as written."""
    lines = [d.content for d in scene.dialogues]
    texts = [*lines, " ".join(lines), *(c.content for c in scene.captions), *scene.highlights,
             scene.narrative_summary, scene.character_dynamics, scene.location]
    return [t for t in texts if t]


def says_more_than_names(quote: str, names: Iterable[str]) -> bool:
    """Whether `quote` holds words besides `names` and punctuation: a bare name is in many
    scenes and states no fact."""
    rest = normalise(quote)
    for name in sorted(filter(None, map(normalise, names)), key=len, reverse=True):
        rest = rest.replace(name, "")
    return bool(_NOT_A_WORD.sub("", rest))


def quoted_in(quote: str, scene: Scene) -> str | None:
    """The quote as stored (without quote marks wrapping all of it) when it is verbatim in
    the scene; None when it is not."""
    kept = unquoted(quote)
    wanted = normalise(kept)
    if not wanted:
        return None
    return kept if any(wanted in normalise(text) for text in scene_texts(scene)) else None
