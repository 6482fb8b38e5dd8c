"""Every composite index the Firestore queries need is declared, and nothing else; so is every
vector index the vector searches need.

The emulator does not enforce composite indexes, so the queries are read from the adapters'
source (`QUERY_MODULES`): each chain of `.where(filter=FieldFilter(field, op, ...))` and
`.order_by(field, direction=...)` on a collection, following `query = ...` reassignments.
A query needs a composite index when it involves two or more fields, unless all of them are
equality filters with no ordering (Firestore merges single-field indexes for those). A query
of equality filters and an ordering is also served by merging composite indexes that each
hold some of its equality fields followed by that same ordering ("index merging" in
Firestore's documentation), so filters that combine freely need one index per field.

Nor does it enforce vector indexes (it answers `find_nearest` without one): in production each
vector search needs an index of exactly its equality pre-filter fields, in order, then its
vector field, built for the length of the vectors stored. The searches are read from
`firestore_vectors.py` (each `.where(...)...find_nearest(vector_field=...)` chain) and the
length from the settings Terraform wires.
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.terraform import optional_defaults, root, string_constants
from vss.config import EMBEDDING_DIMENSIONS, FIRESTORE_MAX_DIMENSIONS, Settings
from vss.domain.dead_letters import DeadLetter
from vss.domain.files import FileRecord
from vss.domain.idempotency import IdempotencyRecord
from vss.domain.segments import Segment
from vss.domain.tasks import Task

REPOS = ROOT / "shared" / "vss" / "adapters" / "firestore_repos.py"
SEGMENTS_REPO = ROOT / "shared" / "vss" / "adapters" / "firestore_segments.py"
VECTORS = ROOT / "shared" / "vss" / "adapters" / "firestore_vectors.py"
USAGE = ROOT / "shared" / "vss" / "adapters" / "firestore_usage.py"
OPERATIONS = ROOT / "shared" / "vss" / "adapters" / "firestore_operations.py"
# The adapters whose queries are checked (the vector searches are checked on their own below).
QUERY_MODULES = (REPOS, USAGE, OPERATIONS)


@dataclass
class Query:
    where: str  # Class.method
    collection: str
    filters: list[tuple[str, str]] = field(default_factory=list)  # (field, op)
    orders: list[tuple[str, str]] = field(default_factory=list)  # (field, ASCENDING|DESCENDING)

    def index(self) -> tuple[frozenset[tuple[str, str]], tuple[tuple[str, str], ...]] | None:
        """(filter fields with their index mode, ordered fields), or None if automatic."""
        fields = {f for f, _ in self.filters} | {f for f, _ in self.orders if f != "__name__"}
        only_equalities = all(op == "==" for _, op in self.filters) and not self.orders
        if len(fields) < 2 or only_equalities:
            return None
        modes = frozenset(
            (f, "CONTAINS" if op == "array_contains" else "ASCENDING") for f, op in self.filters
        )
        return modes, _normalised(tuple(self.orders))


def _normalised(orders: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Firestore appends __name__ in the direction of the last field: drop it when implied."""
    if len(orders) >= 2 and orders[-1][0] == "__name__" and orders[-1][1] == orders[-2][1]:
        return orders[:-1]
    return orders


def _collections(tree: ast.Module, constants: dict[str, str]) -> dict[str, str]:
    """`self._x = client.collection(CONST)` -> {"_x": "value of CONST"}."""
    found = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Attribute)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "attr", "") == "collection"
        ):
            arg = node.value.args[0]
            found[node.targets[0].attr] = (
                constants[arg.id] if isinstance(arg, ast.Name) else arg.value
            )
    return found


def _chain(node: ast.expr) -> tuple[ast.expr, list[ast.Call]]:
    """(root expression, calls from the root outwards) of a method-call chain."""
    calls = []
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        calls.append(node)
        node = node.func.value
    return node, calls[::-1]


def _apply(query: Query, calls: list[ast.Call]) -> None:
    for call in calls:
        method = call.func.attr
        if method == "where":
            (keyword,) = [k for k in call.keywords if k.arg == "filter"]
            name, op = (a.value for a in keyword.value.args[:2])
            query.filters.append((name, op))
        elif method == "order_by":
            direction = "ASCENDING"
            for k in call.keywords:
                if k.arg == "direction":
                    direction = k.value.attr
            query.orders.append((call.args[0].value, direction))


def code_queries() -> list[Query]:
    return [q for module in QUERY_MODULES for q in _module_queries(module)]


def _module_queries(module: Path) -> list[Query]:
    tree = ast.parse(module.read_text())
    # A module's collection names are its own constants or those of firestore_repos.
    collections = _collections(tree, {**string_constants(REPOS), **string_constants(module)})
    queries = []
    for cls in [n for n in tree.body if isinstance(n, ast.ClassDef)]:
        for method in [n for n in cls.body if isinstance(n, ast.FunctionDef)]:
            # Every `name = <chain>` and the query chains rooted at `self._collection`.
            by_name: dict[str, Query] = {}
            for node in ast.walk(method):
                if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
                    continue
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                if not isinstance(target, ast.Name):
                    continue
                base, calls = _chain(node.value)
                if isinstance(base, ast.Attribute) and base.attr in collections:
                    query = by_name.setdefault(
                        target.id, Query(f"{cls.name}.{method.name}", collections[base.attr])
                    )
                elif isinstance(base, ast.Name) and base.id in by_name:
                    query = by_name[base.id]
                else:
                    continue
                _apply(query, calls)
            queries += [q for q in by_name.values() if q.filters or q.orders]
            # Chains used directly, without assignment.
            for node in ast.walk(method):
                if isinstance(node, ast.Return) and isinstance(node.value, ast.ListComp):
                    base, calls = _chain(node.value.generators[0].iter)
                    if isinstance(base, ast.Attribute) and base.attr in collections:
                        query = Query(f"{cls.name}.{method.name}", collections[base.attr])
                        _apply(query, calls)
                        if query.filters or query.orders:
                            queries.append(query)
    return queries


def declared_indexes() -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """key -> (collection, [(field, ASCENDING|DESCENDING|CONTAINS)]) from main.tf."""
    return {
        key: (
            index["collection"],
            [(f["path"], f.get("array_config") or f["order"]) for f in index["fields"]],
        )
        for key, index in root().locals["firestore_indexes"].items()
    }


def _matches(query: Query, collection: str, fields: list[tuple[str, str]]) -> bool:
    """Does a declared index (ordered fields) serve this query?"""
    needed = query.index()
    if needed is None or collection != query.collection:
        return False
    filters, orders = needed
    head, tail = fields[: len(filters)], tuple(fields[len(filters) :])
    return frozenset(head) == filters and _normalised(tail) == orders


def _merge_part(query: Query, collection: str, fields: list[tuple[str, str]]) -> frozenset[str]:
    """The equality fields this declared index serves when merged with others for `query`
    (empty when it cannot take part in a merge)."""
    needed = query.index()
    if needed is None or collection != query.collection or not query.orders:
        return frozenset()
    if any(op != "==" for _, op in query.filters):
        return frozenset()
    filters, orders = needed
    head = list(itertools.takewhile(lambda f: f[1] == "ASCENDING" and f in filters, fields))
    if not head or _normalised(tuple(fields[len(head):])) != orders:
        return frozenset()
    return frozenset(f for f, _ in head)


def _served(query: Query, declared: dict[str, tuple[str, list[tuple[str, str]]]]) -> bool:
    if any(_matches(query, c, f) for c, f in declared.values()):
        return True
    merged = set().union(*(_merge_part(query, c, f) for c, f in declared.values()))
    return merged == {f for f, _ in query.filters}


def test_the_query_reader_finds_the_queries():
    found = {(q.where, q.collection) for q in code_queries()}
    assert ("FirestoreTaskRepository.list_for_tenant", "tasks") in found
    assert ("FirestoreTaskRepository.waiting_on", "tasks") in found
    assert ("FirestoreTaskRepository.list_all", "tasks") in found
    assert ("FirestoreTenantRepository.list_instances", "instances") in found
    assert ("FirestoreUsageLedger.days", "usage_days") in found
    assert ("FirestoreDeadLetterLog.since", "dead_letters") in found


def test_every_query_that_needs_a_composite_index_has_one():
    declared = declared_indexes()
    for query in code_queries():
        if query.index() is None:
            continue
        assert _served(query, declared), (
            f"{query.where}: no composite index for filters {query.filters}, order {query.orders}"
        )


def test_every_declared_index_serves_a_query():
    queries = [q for q in code_queries() if q.index() is not None]
    for key, (collection, fields) in declared_indexes().items():
        assert any(_matches(q, collection, fields) or _merge_part(q, collection, fields)
                   for q in queries), f"{key} is not used"


def test_single_field_queries_need_no_composite_index():
    (instances,) = [q for q in code_queries() if q.collection == "instances"]
    assert instances.filters == [("tenant_id", "==")]
    assert instances.index() is None


def test_ttl_policies_are_on_code_collections():
    constants = string_constants(REPOS)
    ttl = root().locals["firestore_ttl"]
    assert {(t["collection"], t["field"]) for t in ttl.values()} == {
        (constants["TASKS"], "expire_at"),
        (constants["FILES"], "expire_at"),
        (string_constants(SEGMENTS_REPO)["SEGMENTS"], "expire_at"),
        (constants["IDEMPOTENCY_KEYS"], "expire_at"),
        (constants["ASSETS"], "expire_at"),
        (string_constants(VECTORS)["SCENE_VECTORS"], "expire_at"),
        (string_constants(USAGE)["USAGE_DAYS"], "expire_at"),
        (string_constants(OPERATIONS)["DEAD_LETTERS"], "expire_at"),
    }
    assert root().calls["firestore"]["ttl_fields"] == "${local.firestore_ttl}"
    assert root().calls["firestore"]["composite_indexes"] == "${local.firestore_indexes}"


def test_ttl_fields_are_written_by_the_models():
    assert "expire_at" in Task.model_fields
    assert "expire_at" in FileRecord.model_fields
    assert "expire_at" in Segment.model_fields
    assert IdempotencyRecord.model_fields["expire_at"].is_required()
    assert DeadLetter.model_fields["expire_at"].is_required()


# --- vector searches ---------------------------------------------------------------------


@dataclass
class VectorSearch:
    where: str  # Class.method
    collection: str
    prefilter: list[str]  # equality filters, in order
    vector_field: str


def vector_searches() -> list[VectorSearch]:
    """Each `find_nearest` chain of the vectors adapter: its collection (`self._x`), its
    `.where` filters (equality only: a vector search takes no other pre-filter) and its vector
    field, module constants resolved."""
    tree = ast.parse(VECTORS.read_text())
    constants = string_constants(VECTORS)

    def value(node: ast.expr) -> str:
        return constants[node.id] if isinstance(node, ast.Name) else node.value

    collections = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute)
                and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "attr", "") == "collection"):
            collections[node.targets[0].attr] = value(node.value.args[0])
    found = []
    for cls in [n for n in tree.body if isinstance(n, ast.ClassDef)]:
        for method in [n for n in cls.body if isinstance(n, ast.FunctionDef)]:
            for node in ast.walk(method):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "find_nearest"):
                    continue
                base, calls = _chain(node)
                assert isinstance(base, ast.Attribute) and base.attr in collections
                prefilter = []
                for call in calls:
                    if call.func.attr == "where":
                        (keyword,) = [k for k in call.keywords if k.arg == "filter"]
                        field_node, op_node = keyword.value.args[:2]
                        assert value(op_node) == "==", "a vector search pre-filters on equality"
                        prefilter.append(value(field_node))
                (vector_field,) = [value(k.value) for k in node.keywords
                                   if k.arg == "vector_field"]
                found.append(VectorSearch(f"{cls.name}.{method.name}",
                                          collections[base.attr], prefilter, vector_field))
    return found


def test_the_vector_search_reader_finds_the_search():
    (search,) = vector_searches()
    assert (search.where, search.collection, search.prefilter, search.vector_field) == (
        "FirestoreSceneVectors.nearest", "scene_vectors", ["scope"], "embedding")


def test_every_vector_search_has_its_vector_index_and_every_index_a_search():
    declared = root().locals["firestore_vector_indexes"]
    served = {(s.collection, tuple(s.prefilter), s.vector_field) for s in vector_searches()}
    indexes = {(i["collection"], tuple(i.get("prefilter", [])), i["field"])
               for i in declared.values()}
    assert served == indexes


def test_vector_indexes_are_built_for_the_vectors_the_code_stores():
    """The index and VSS_EMBEDDING_DIMENSIONS come from one variable, whose default is the
    code's default; a vector longer than Firestore takes is refused at plan and at start."""
    wired = root().locals["wired_environment"]
    for index in root().locals["firestore_vector_indexes"].values():
        assert index["dimension"] == "${var.embeddings.dimensions}"
    assert wired["VSS_EMBEDDING_DIMENSIONS"] == "${tostring(var.embeddings.dimensions)}"
    assert optional_defaults("embeddings")["dimensions"] == EMBEDDING_DIMENSIONS == \
        Settings.model_fields["embedding_dimensions"].default
    assert "2048" in str(root().variables["embeddings"]["validation"])
    assert FIRESTORE_MAX_DIMENSIONS == 2048
    assert root().calls["firestore"]["vector_indexes"] == "${local.firestore_vector_indexes}"


def test_one_tenants_usage_days_need_their_index_and_every_tenants_none():
    """The ledger's range on `day`, with the tenant's equality or without it."""
    (days,) = [q for q in code_queries() if q.where == "FirestoreUsageLedger.days"]
    assert days.filters == [("day", ">="), ("day", "<="), ("tenant_id", "==")]
    assert days.index() is not None and _served(days, declared_indexes())
    every_tenant = Query(days.where, days.collection, filters=days.filters[:2])
    assert every_tenant.index() is None


def test_a_list_filtered_on_any_fields_is_served_by_merged_indexes():
    (tasks,) = [q for q in code_queries() if q.where == "FirestoreTaskRepository.list_all"]
    assert {f for f, _ in tasks.filters} == {"status", "task_type", "tenant_id"}
    assert not any(_matches(tasks, c, f) for c, f in declared_indexes().values())
    assert _served(tasks, declared_indexes())
    without_status = [(c, f) for c, f in declared_indexes().values() if f[0][0] != "status"]
    assert not _served(tasks, {str(i): cf for i, cf in enumerate(without_status)})


def test_production_story_indexes_are_embedded_with_a_priced_model():
    """Production searches story indexes by meaning (the issue's production design); local
    runs stay lexical, as Settings has no model by default. The default model must be one the
    code prices, or its deploys would cost nothing in the usage ledger."""
    model = optional_defaults("embeddings")["model"]
    assert model == "gemini-embedding-001"
    assert model in Settings.model_fields["embedding_prices"].default_factory()
    assert Settings.model_fields["embedding_model"].default is None
