"""What the handlers and the cores they run are configured with, apart from the settings: the
composition roots (`vss.bootstrap`) build each config from `Settings`, whose defaults are
these configs' defaults, so a handler or a core never reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vss.domain.language import SpeechRate


@dataclass(frozen=True)
class NarrationConfig:
    """What the narration writers (writing and localising) are configured with."""

    rate: SpeechRate = field(default_factory=SpeechRate)
    prompt_budget_tokens: int = 24_000  # the largest scene excerpt per model call
    max_rewrites: int = 2  # rewrite requests per over-budget snippet before a cut
    snippet_seconds: float = 20.0


@dataclass(frozen=True)
class SynthesisConfig:
    """What the synthesis of one dubbing segment is configured with (loudness, fitting its
    slot)."""

    target_lufs: float = -16.0
    tolerance_lu: float = 1.0
    true_peak_dbtp: float = -1.0
    fit_tolerance: float = 0.05
    max_tempo: float = 1.15
    fit_attempts: int = 3
