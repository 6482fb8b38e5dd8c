"""GENERATE_NARRATION: the dataset and control parameters in, narration.json out; with a
story index (`story_index_path`, pinned at creation from the payload's `asset_id`), the scenes
it retrieves for the narration's focus and its characters' facts go to the writer."""

from __future__ import annotations

from vss.domain.assets import IndexManifest
from vss.domain.dataset import Dataset
from vss.domain.payloads import DEFAULT_RAG_TOP_K, MAX_RAG_TOP_K, GenerateNarrationPayload
from vss.domain.results import NarrationResult, RetrievalSummary
from vss.handler_config import NarrationConfig
from vss.handlers._io import read_dataset, read_facts, read_model, write_json
from vss.narration.compose import narrate
from vss.narration.retrieval import Retrieved, retrieved_facts
from vss.retrieval.documents import parse_facts
from vss.retrieval.index import StoryIndex
from vss.retrieval.kinds import search_index
from vss.retrieval.query import narration_query
from vss.stage_handler import StageContext, StageOutput


def run(ctx: StageContext, *, config: NarrationConfig) -> StageOutput:
    payload = ctx.inputs_as(GenerateNarrationPayload)
    params = payload.service_params
    dataset = read_dataset(ctx.files, payload.blueprint_path)
    retrieved = retrieve(ctx, payload, dataset) if payload.story_index_path else None
    # The request's speaking_rate, if any, replaces its language's configured rate in narrate.
    script = narrate(dataset, params, ctx.llm(params.model), config, retrieved)
    path = write_json(ctx.files, "narration.json", script)
    summary = RetrievalSummary(
        index=payload.story_index_path or "", query=retrieved.query,
        scene_ids=list(retrieved.scene_ids), facts_about=list(retrieved.facts),
        index_kind=retrieved.index_kind, fallback=retrieved.fallback,
    ) if retrieved is not None else None
    return StageOutput(result=NarrationResult(
        output_file_path=path, snippets=len(script.narration_script),
        engine=script.engine or "offline",
        estimated_duration_seconds=script.estimated_duration_seconds, notes=script.notes,
        retrieval=summary,
    ))


def retrieve(ctx: StageContext, payload: GenerateNarrationPayload, dataset: Dataset
             ) -> Retrieved:
    """The `rag_top_k` scenes of the pinned index that best match the narration's query, and
    the facts about its characters."""
    assert payload.story_index_path is not None
    params = payload.service_params
    manifest = read_model(ctx.files, payload.story_index_path, IndexManifest)
    query = narration_query(params, dataset)
    k = min(params.rag_top_k or DEFAULT_RAG_TOP_K, MAX_RAG_TOP_K)
    answer = search_index(
        manifest, query, k, embedder_for=ctx.embedder, vectors=ctx.vectors,
        lexical=lambda: StoryIndex.from_bytes(ctx.files.read(manifest.index_path)))
    scene_ids = tuple(hit.scene_id for hit in answer.hits)
    facts = parse_facts(read_facts(ctx.files, manifest.facts_path, "/payload/story_index_path")) \
        if manifest.facts_path else {}
    control = params.control_params
    names = [*control.character_focus.characters, control.perspective_character or ""]
    return Retrieved(query, scene_ids,
                     retrieved_facts(facts, [n for n in names if n], scene_ids),
                     index_kind=answer.kind, fallback=answer.fallback)
