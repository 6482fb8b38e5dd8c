"""The composition root: one function per deployed function builds what it runs with.

    for_on_upload, for_deadline, for_dead_letter,
    for_console                                       here: the ports alone
    for_api (`vss.bootstrap.api`)                     + the embedding models' factory (a
                                                        search of an embeddings story index)
    for_stage_worker (`vss.bootstrap.stage_worker`)   + the model factories and the stage
                                                        handlers, bound to their configs
    for_tts_worker (`vss.bootstrap.tts_worker`)       + the model factory and the segment
                                                        handler with its speech engines

Each takes the settings and, for tests, `base`: the ports to build on (fakes, or adapters
against the emulators); without it the real adapters are connected. The workers' roots live
in modules of their own because a function's package holds what its entry point imports, lazy
imports included (`scripts/package_functions.py`): the API never ships the handlers, the
speech engines or the audio libraries, and the functions with the ports alone no model
client.
"""

from __future__ import annotations

from vss.config import Settings
from vss.deps import Deps


def cloud_ports(settings: Settings) -> Deps:
    """The real adapters against Google Cloud (or the emulators named in the settings)."""
    from google.cloud import firestore

    from vss.adapters.cloud_tasks import CloudTasksDeadlineScheduler
    from vss.adapters.firestore_operations import FirestoreDeadLetterLog, FirestoreFunctionStarts
    from vss.adapters.firestore_repos import (
        FirestoreAssetRepository,
        FirestoreAuditLog,
        FirestoreFileRepository,
        FirestoreIdempotencyRepository,
        FirestoreTaskRepository,
        FirestoreTenantRepository,
    )
    from vss.adapters.firestore_segments import FirestoreSegmentRepository
    from vss.adapters.firestore_usage import FirestoreUsageLedger
    from vss.adapters.firestore_vectors import FirestoreSceneVectors
    from vss.adapters.gcs import GcsBlobStore
    from vss.adapters.pubsub import PubSubPublisher

    s = settings
    db = firestore.Client(project=s.project_id)
    return Deps(
        settings=s,
        tasks=FirestoreTaskRepository(db),
        files=FirestoreFileRepository(db),
        tenants=FirestoreTenantRepository(db),
        segments=FirestoreSegmentRepository(db),
        usage=FirestoreUsageLedger(db),
        idempotency=FirestoreIdempotencyRepository(db),
        assets=FirestoreAssetRepository(db),
        vectors=FirestoreSceneVectors(db),
        audit=FirestoreAuditLog(db),
        dead_letters=FirestoreDeadLetterLog(db),
        starts=FirestoreFunctionStarts(db),
        blobs=GcsBlobStore.connect(
            s.project_id, s.storage_emulator_host, s.storage_public_url, s.signer_key_file
        ),
        publisher=PubSubPublisher(s.project_id),
        deadlines=CloudTasksDeadlineScheduler.connect(
            s.project_id, s.region, s.deadline_queue, s.deadline_url, s.tasks_emulator_host,
            service_account=s.deadline_service_account,
        ),
    )


def ports_alone(settings: Settings, base: Deps | None = None) -> Deps:
    return base or cloud_ports(settings)


# The functions that only read and write through the ports.
for_on_upload = for_deadline = for_dead_letter = for_console = ports_alone
