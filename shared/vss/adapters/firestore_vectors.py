"""Scene vectors in Firestore, searched with its vector search (`find_nearest`).

One document per (deploy scope, scene) in `scene_vectors`: the scope's key, tenant, asset,
scene, episode, the vector (a Firestore `Vector`) and `expire_at` (the deploy's files' expiry,
a TTL policy). A search is an equality pre-filter on the scope followed by a nearest-neighbour
query by COSINE distance, so it never sees another deploy's vectors, or another tenant's.

In production every vector query needs a vector index that matches it exactly: the pre-filter
field, then the vector field with its dimension (`firestore_vector_indexes` in
infra/terraform/main.tf; tests/infra/test_firestore.py reads the query below and checks it).
The emulator of google-cloud-cli (528) needs no index and answers `find_nearest` with
pre-filters, COSINE distances and `distance_result_field` as production does (tried with
google-cloud-firestore 2.34); it refuses vectors longer than 2048 and limits over 1000, as
production does, but it does not refuse a query that no index serves, and a query vector of
another length than the stored ones finds nothing instead of failing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_vector_query import DistanceMeasure
from google.cloud.firestore_v1.vector import Vector
from google.cloud.firestore_v1.vector_query import VectorQuery

from vss.adapters import permissions
from vss.domain.assets import VectorScope
from vss.errors import RetryableError
from vss.ports import Nearest, SceneVector

SCENE_VECTORS = "scene_vectors"
SCOPE_FIELD = "scope"
EMBEDDING_FIELD = "embedding"
DISTANCE_FIELD = "distance"  # only in the results: where Firestore puts each one's distance
MAX_NEIGHBOURS = 1000  # Firestore's largest find_nearest limit
# Documents per batched write (Firestore takes 500; a 768-float vector is about 7 KiB, so a
# batch stays well under the 10 MiB request limit).
WRITE_BATCH = 200
_TRANSIENT = (gexc.Aborted, gexc.ServiceUnavailable, gexc.DeadlineExceeded,
              gexc.InternalServerError, gexc.TooManyRequests)


class FirestoreSceneVectors:
    """The `SceneVectorStore` port on Firestore."""

    def __init__(self, client: firestore.Client) -> None:
        self._db = client
        self._vectors = client.collection(SCENE_VECTORS)

    def put(self, scope: VectorScope, vectors: Sequence[SceneVector]) -> None:
        permissions.datastore("create", "update")
        for start in range(0, len(vectors), WRITE_BATCH):
            batch = self._db.batch()
            for item in vectors[start:start + WRITE_BATCH]:
                batch.set(self._vectors.document(f"{scope.key}-{item.scene_id}"),
                          _document(scope, item))
            try:
                batch.commit()
            except _TRANSIENT as exc:
                raise RetryableError("The scene vectors could not be stored now; try again.",
                                     details={"cause": type(exc).__name__}) from exc

    def nearest(self, scope: str, query: Sequence[float], k: int) -> list[Nearest]:
        permissions.datastore("list", "get")
        if k <= 0:
            return []
        # The client annotates find_nearest as returning the class, not an instance.
        search = cast(VectorQuery, self._vectors.where(
            filter=firestore.FieldFilter(SCOPE_FIELD, "==", scope)
        ).find_nearest(
            vector_field=EMBEDDING_FIELD, query_vector=Vector(list(query)),
            distance_measure=DistanceMeasure.COSINE, limit=min(k, MAX_NEIGHBOURS),
            distance_result_field=DISTANCE_FIELD,
        ))
        try:
            found = [(s.get("scene_id"), s.get(DISTANCE_FIELD)) for s in search.stream()]
        except gexc.FailedPrecondition as exc:  # no vector index serves it (yet)
            raise RetryableError(
                "Firestore has no vector index for the scene vectors' search, or it is still "
                "being built (infra/terraform: firestore_vector_indexes).",
                details={"cause": str(exc)[:300]}) from exc
        except _TRANSIENT as exc:
            raise RetryableError("The scene vectors could not be searched now; try again.",
                                 details={"cause": type(exc).__name__}) from exc
        return [Nearest(scene_id=int(scene), distance=float(distance))
                for scene, distance in found
                if distance is not None and not math.isnan(distance)]  # a zero vector


def _document(scope: VectorScope, item: SceneVector) -> dict[str, Any]:
    return {
        SCOPE_FIELD: scope.key,
        "tenant_id": scope.tenant_id,
        "asset_id": scope.asset_id,
        "scene_id": item.scene_id,
        "episode": item.episode,
        EMBEDDING_FIELD: Vector([float(x) for x in item.vector]),
        "expire_at": scope.expire_at,
    }
