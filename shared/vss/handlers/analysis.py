"""The narrative analysis stages. CHARACTER_IDENTIFIER: the dataset in, the character facts
report out (`character_facts.json`). DEPLOY_RAG_CORPUS: the dataset and the facts in, the
asset's story index out: the index, the scenes' documents, the build report (what the edge
downloads) and the manifest a narration is pinned to (`vss.domain.assets`); with an embedding
model configured, also the scenes' vectors under the deploy's scope (`vss.retrieval.report`
chooses)."""

from __future__ import annotations

from pathlib import PurePosixPath

from vss.analysis import identify_facts
from vss.domain.assets import VectorScope
from vss.domain.payloads import CharacterIdentifierPayload, DeployRagCorpusPayload
from vss.domain.results import CharacterFactsResult, StoryIndexResult
from vss.domain.story_index import SceneDocuments
from vss.handler_config import NarrationConfig
from vss.handlers._io import read_dataset, read_facts, write_json
from vss.narration.language import dataset_language
from vss.retrieval.documents import scene_documents
from vss.retrieval.report import index_dataset
from vss.stage_handler import StageContext, StageOutput

FACTS_NAME = "character_facts.json"
INDEX_NAME = "story_index/index.zip"
DOCUMENTS_NAME = "story_index/documents.json"
REPORT_NAME = "story_index/report.json"
MANIFEST_NAME = "story_index/manifest.json"


def identify_characters(ctx: StageContext, *, config: NarrationConfig) -> StageOutput:
    payload = ctx.inputs_as(CharacterIdentifierPayload)
    params = payload.service_params
    dataset = read_dataset(ctx.files, payload.input_file_path)
    report = identify_facts(
        dataset, params.characters_to_analyze,
        params.lang.value if params.lang else dataset_language(dataset), ctx.llm(params.model),
        prompt_budget_tokens=config.prompt_budget_tokens,
        source_file=PurePosixPath(payload.input_file_path).name, temperature=params.temp)
    path = write_json(ctx.files, FACTS_NAME, report)
    facts = report.identified_facts_by_character
    return StageOutput(result=CharacterFactsResult(
        output_file_path=path, characters=len(facts),
        facts=sum(len(found) for found in facts.values()),
        dropped_unquoted=report.dropped_unquoted, engine=report.engine or "offline"))


def deploy_story_index(ctx: StageContext) -> StageOutput:
    payload = ctx.inputs_as(DeployRagCorpusPayload)
    dataset = read_dataset(ctx.files, payload.blueprint_input_path)
    facts = read_facts(ctx.files, payload.facts_input_path, "/payload/facts_input_path") \
        if payload.facts_input_path else None
    documents = scene_documents(dataset, facts)
    documents_path = write_json(ctx.files, DOCUMENTS_NAME, SceneDocuments(documents=documents))
    scope = VectorScope.of_deploy(ctx.task.tenant_id, payload.asset_id, documents_path,
                                  ctx.task.expire_at)
    built = index_dataset(dataset, facts, documents=documents, embedder=ctx.embedder(),
                          vectors=ctx.vectors, scope=scope)
    index_path = ctx.files.write(INDEX_NAME, built.artifact, "application/zip")
    report_path = write_json(ctx.files, REPORT_NAME, built.report)
    manifest = built.manifest(payload.asset_id, index_path=index_path,
                              documents_path=documents_path, facts_path=payload.facts_input_path)
    manifest_path = write_json(ctx.files, MANIFEST_NAME, manifest)
    return StageOutput(result=StoryIndexResult(
        output_file_path=report_path, asset_id=payload.asset_id,
        total_scene_count=built.report.total_scene_count, documents=built.report.documents,
        index_kind=built.report.index_kind, index_path=manifest_path, report=built.report))
