"""Wires the real adapters for a process; tests pass their own (fakes or emulator-backed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pydantic import BaseModel

from vss.config import Settings, get_settings
from vss.deps import Deps
from vss.domain.tasks import Stage, TaskType
from vss.ports import StructuredLlm
from vss.stage_handler import SegmentHandler, StageHandler


def gemini_from_settings(settings: Settings, model: str | None = None) -> StructuredLlm | None:
    """The Gemini writer when credentials are configured, else None (the offline writer)."""
    if settings.gemini_api_key is None and settings.gemini_vertex_project is None:
        return None
    from vss.adapters.gemini import GeminiWriter

    model = model or settings.gemini_model
    return GeminiWriter(
        model=model,
        api_key=settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else None,
        vertex_project=settings.gemini_vertex_project, vertex_location=settings.gemini_location,
        base_url=settings.gemini_base_url,
        price_per_million=settings.gemini_prices[model],
        attempts=settings.gemini_attempts,
    )


def payload_checks() -> dict[TaskType, Callable[[BaseModel], None]]:
    """The checks of payloads that read the voice templates (data files, no engines)."""
    from vss.domain.payloads import GenerateCommentaryPayload, GenerateDubbingPayload
    from vss.dubbing.templates import check_dubbing_params
    from vss.errors import BadRequest

    def dubbing(payload: BaseModel) -> None:
        if isinstance(payload, GenerateDubbingPayload):
            check_dubbing_params(payload.service_params)

    def commentary(payload: BaseModel) -> None:
        if not isinstance(payload, GenerateCommentaryPayload):
            return
        try:
            check_dubbing_params(payload.dubbing)
        except BadRequest as exc:  # point where the caller wrote it
            for error in exc.details.get("errors", []):
                error["pointer"] = error["pointer"].replace("/service_params/", "/dubbing/", 1)
            raise

    return {TaskType.GENERATE_DUBBING: dubbing, TaskType.GENERATE_COMMENTARY: commentary}


def bootstrap(
    settings: Settings | None = None, *, handlers: Mapping[Stage, StageHandler] | None = None,
    segment_handler: SegmentHandler | None = None,
) -> Deps:
    """Real adapters against Google Cloud (or the emulators named in the environment).

    `handlers` (the stage worker) and `segment_handler` (the TTS worker) come from
    `vss.workers`; only those workers pass them, so the other functions never import the
    engines, the speech engines or the audio libraries.
    """
    from google.cloud import firestore

    from vss.adapters.cloud_tasks import CloudTasksDeadlineScheduler
    from vss.adapters.firestore_repos import (
        FirestoreFileRepository,
        FirestoreIdempotencyRepository,
        FirestoreTaskRepository,
        FirestoreTenantRepository,
    )
    from vss.adapters.firestore_segments import FirestoreSegmentRepository
    from vss.adapters.gcs import GcsBlobStore
    from vss.adapters.pubsub import PubSubPublisher

    s = settings or get_settings()
    db = firestore.Client(project=s.project_id)
    return Deps(
        settings=s,
        tasks=FirestoreTaskRepository(db),
        files=FirestoreFileRepository(db),
        tenants=FirestoreTenantRepository(db),
        segments=FirestoreSegmentRepository(db),
        idempotency=FirestoreIdempotencyRepository(db),
        blobs=GcsBlobStore.connect(
            s.project_id, s.storage_emulator_host, s.storage_public_url, s.signer_key_file
        ),
        publisher=PubSubPublisher(s.project_id),
        deadlines=CloudTasksDeadlineScheduler.connect(
            s.project_id, s.region, s.deadline_queue, s.deadline_url, s.tasks_emulator_host,
            service_account=s.deadline_service_account,
        ),
        llm_for=gemini_from_settings,
        handlers=handlers or {},
        segment_handler=segment_handler,
        payload_checks=payload_checks(),
    )
