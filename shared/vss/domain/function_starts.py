"""A function instance's start, as each function records it once when it starts (its cold
start), for the console's health page: which code runs where."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

# Every deployed function: the names of functions/<name>/, of the stack's topology and of
# Terraform's local.functions (tests hold them together).
FUNCTIONS = ("api", "on_upload", "stage_worker", "tts_worker", "deadline", "dead_letter",
             "console")
# The project's distribution (pyproject.toml): its version is the code's version where it is
# installed. The deployed archives carry the `vss` sources without its metadata.
DISTRIBUTION = "visify-story-studio-cloud"


class FunctionStart(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    function: str = Field(description="One of FUNCTIONS.")
    version: str | None = Field(
        None, description="The distribution's version; None where it is not installed.")
    revision: str | None = Field(
        None, description="The Cloud Run revision (K_REVISION); None off Cloud Run.")
    source_sha256: str | None = Field(
        None, description="sha256 of the function's source archive (Terraform sets it).")
    started_at: datetime
