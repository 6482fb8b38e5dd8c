"""Generated datasets of any size, for long-series tests and the narration benchmark."""

from __future__ import annotations

import json
from typing import Any


def _tc(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def synthetic_blueprint(scenes: int, per_episode: int = 20) -> bytes:
    """A blueprint v2 with realistic text volume: 30 s scenes, 8 lines of dialogue each."""
    chapters: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for sid in range(1, scenes + 1):
        chapter = (sid - 1) // per_episode + 1
        start = ((sid - 1) % per_episode) * 30.0
        chapters.setdefault(str(chapter), {"id": chapter, "name": f"第{chapter}集",
                                           "source_file": f"ep{chapter:03d}.mp4",
                                           "scene_ids": []})["scene_ids"].append(sid)
        body[str(sid)] = {
            "id": sid, "chapter_id": chapter, "start_time": _tc(start),
            "end_time": _tc(start + 30.0),
            "character_dynamics": f"第{sid}场，林夏发现了陈默隐瞒的秘密。两人在雨夜里争吵，"
                                  f"最后林夏决定独自离开这座城市。",
            "dialogues": [{"content": f"这是第{sid}场的第{k}句台词，你到底在瞒着我什么",
                           "speaker": "林夏" if k % 2 else "陈默",
                           "start_time": _tc(start + k * 3), "end_time": _tc(start + k * 3 + 2)}
                          for k in range(8)],
            "captions": [], "highlights": [], "mood_and_atmosphere": "Tense",
            "scene_content_type": "Dialogue_Heavy",
        }
    sequence = {str(i): {"narrative_index": i} for i in range(1, scenes + 1)}
    return json.dumps({"project_metadata": {"project_name": "bench"}, "chapters": chapters,
                       "scenes": body, "narrative_timeline": {"type": "linear",
                                                              "sequence": sequence}},
                      ensure_ascii=False).encode()


def story(*scenes: dict[str, Any], per_episode: int = 2) -> dict[str, Any]:
    """A NarrativeDataset of the scenes given, each `{"lines": [(speaker, content), ...],
    "captions": [...], "summary": ..., "dynamics": ..., "seconds": ...}` (all optional): scene
    ids from 1, `per_episode` scenes to an episode, played back to back."""
    chapters: dict[str, Any] = {}
    body: dict[str, Any] = {}
    start = 0.0
    for sid, spec in enumerate(scenes, start=1):
        chapter = (sid - 1) // per_episode + 1
        if (sid - 1) % per_episode == 0:
            start = 0.0
        seconds = float(spec.get("seconds", 20.0))
        chapters.setdefault(str(chapter), {"local_id": chapter, "name": f"Episode {chapter}",
                                           "scene_ids": []})["scene_ids"].append(sid)
        body[str(sid)] = {
            "id": sid, "start_time": _tc(start), "end_time": _tc(start + seconds),
            "dialogues": [{"speaker": speaker, "content": content,
                           "start_time": _tc(start + k), "end_time": _tc(start + k + 0.5)}
                          for k, (speaker, content) in enumerate(spec.get("lines", []))],
            "captions": [{"content": text, "start_time": _tc(start), "end_time": _tc(start + 1)}
                         for text in spec.get("captions", [])],
            "highlights": [],
            "narrative_summary": spec.get("summary"),
            "character_dynamics": spec.get("dynamics"),
        }
        start += seconds
    return {"asset_uuid": "story", "project_metadata": {"asset_name": "Story"},
            "chapters": chapters, "scenes": body,
            "narrative_storyline": {"root_branch_id": "main", "branches": {"main": {
                "branch_id": "main", "name": "main",
                "nodes": [{"local_id": i, "narrative_index": i, "ref_scene_id": i}
                          for i in range(1, len(scenes) + 1)]}}}}


def tiled_blueprint(source: bytes, scenes: int, per_episode: int = 20) -> bytes:
    """A blueprint v2 of `scenes` scenes whose words are `source`'s scenes' in turn (scene n
    says what source scene n mod N says): a real vocabulary and real term frequencies at any
    size, for the story index benchmark."""
    raw = json.loads(source)
    originals = sorted(raw["scenes"].values(), key=lambda s: s["id"])
    chapters: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for sid in range(1, scenes + 1):
        chapter = (sid - 1) // per_episode + 1
        chapters.setdefault(str(chapter), {"id": chapter, "name": f"第{chapter}集",
                                           "scene_ids": []})["scene_ids"].append(sid)
        original = originals[(sid - 1) % len(originals)]
        body[str(sid)] = {**{k: v for k, v in original.items()
                             if k not in ("branch", "timeline_marker", "information_marker")},
                          "id": sid, "chapter_id": chapter}
    sequence = {str(i): {"narrative_index": i} for i in range(1, scenes + 1)}
    return json.dumps({"project_metadata": {"project_name": "bench"}, "chapters": chapters,
                       "scenes": body, "narrative_timeline": {"type": "linear",
                                                              "sequence": sequence}},
                      ensure_ascii=False).encode()
