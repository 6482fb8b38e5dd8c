"""The analysis core (CHARACTER_IDENTIFIER): from a dataset to its character facts report.
Pure: no Google, no subprocess, no adapter or service import (a model comes in through the
StructuredLlm port).

    cast        who the dataset's characters are and which scenes each appears in
    metrics     scenes, lines, screen time, co-appearances, importance per character
    verbatim    whether a quote is really in its scene
    offline     facts caption cards and self-introductions state, without a model
    llm_facts   facts a model finds, chunked under a prompt budget, checked and merged
    identify    the report: model or offline facts, and metrics
"""

from vss.analysis.identify import identify_facts
from vss.analysis.llm_facts import ModelFacts, answer_schema, extract_with_model
from vss.analysis.metrics import metrics
from vss.analysis.offline import offline_facts, read_title
from vss.analysis.verbatim import normalise, quoted_in
from vss.domain.cast import CHARACTERS_POINTER, appearances, cast_of, speakers

__all__ = [
    "CHARACTERS_POINTER",
    "ModelFacts",
    "answer_schema",
    "appearances",
    "cast_of",
    "extract_with_model",
    "identify_facts",
    "metrics",
    "normalise",
    "offline_facts",
    "quoted_in",
    "read_title",
    "speakers",
]
