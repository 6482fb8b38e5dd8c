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

__all__ = ["identify_facts"]
