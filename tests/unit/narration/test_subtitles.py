from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import DATA
from vss.cli import main
from vss.domain.dataset import NarrativeFunction, SceneContentType, parse_dataset
from vss.domain.timecode import Timecode
from vss.errors import PayloadInvalid
from vss.narration.subtitles import import_subtitles

SUBS = DATA / "subtitles"
SRT_ZH = SUBS / "ep01_homecoming.srt"
ASS_EN = SUBS / "ep02_the_storm.ass"
VTT_EN = SUBS / "ep03_the_letter.vtt"
EPISODES = [SRT_ZH, ASS_EN, VTT_EN]

_SRT_ZH_TEXT = """1
00:00:01,000 --> 00:00:03,500
林晓：这座灯塔十年没人上来过了。

2
00:00:20,000 --> 00:00:24,000
老周：暴风雨要来了，发电机撑不了多久。
"""


def _spans(document: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(s["chapter_id"], s["start_time"], s["end_time"]) for s in document["scenes"].values()]


def _pointers(exc: pytest.ExceptionInfo[PayloadInvalid]) -> list[str]:
    return [error["pointer"] for error in exc.value.details["errors"]]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return import_subtitles(EPISODES, title="The Keeper's Letter")


def test_output_parses_into_one_chapter_per_file_in_the_given_order(document: dict[str, Any]):
    dataset = parse_dataset(document)

    assert dataset.source_shape == "narrative_dataset"
    assert dataset.title == "The Keeper's Letter"
    assert [(c.id, c.name, c.scene_ids) for c in dataset.chapters] == [
        (1, "ep01_homecoming", [1, 2]),
        (2, "ep02_the_storm", [3, 4]),
        (3, "ep03_the_letter", [5, 6]),
    ]
    assert [n.scene_id for n in dataset.storyline] == [1, 2, 3, 4, 5, 6]
    assert {n.narrative_function for n in dataset.storyline} == {NarrativeFunction.LINEAR}
    assert {s.content_type for s in dataset.scenes.values()} == {SceneContentType.DIALOGUE_HEAVY}
    metadata = document["project_metadata"]
    assert metadata["annotator"] == "vss import-subtitles"
    assert "issue_date" not in metadata  # no clock: the output depends on the input only


def test_the_user_order_is_the_episode_order_not_a_sort():
    document = import_subtitles([VTT_EN, SRT_ZH])

    assert [c["name"] for c in document["chapters"].values()] == [
        "ep03_the_letter",
        "ep01_homecoming",
    ]
    assert document["scenes"]["1"]["dialogues"][0]["content"] == "Grandpa, I read your letter."


def test_scenes_split_at_the_silence_with_boundaries_mid_gap(document: dict[str, Any]):
    # ep01: lines end 13.0 s, next starts 25.0 s; ep03: 14.0 s -> 30.0 s. Ep02 has two gaps
    # (15.5 -> 22.0 and 26.0 -> 40.0); the 4 s scene between them joins the one before it.
    assert _spans(document) == [
        (1, "00:00:01.000", "00:00:19.000"),
        (1, "00:00:19.000", "00:00:36.500"),
        (2, "00:00:02.000", "00:00:33.000"),
        (2, "00:00:33.000", "00:00:52.000"),
        (3, "00:00:03.000", "00:00:22.000"),
        (3, "00:00:22.000", "00:00:38.500"),
    ]
    dataset = parse_dataset(document)
    first_lines = [s.dialogues[0].start for s in dataset.scenes.values()]
    assert first_lines[1] == Timecode.parse("00:00:25.000")
    assert [d.content for d in dataset.scenes[3].dialogues][-2:] == [
        "Look, a boat!",
        "They're signalling.",
    ]


def test_a_gap_shorter_than_the_threshold_does_not_split():
    document = import_subtitles([SRT_ZH], gap_seconds=12.5)

    assert _spans(document) == [(1, "00:00:01.000", "00:00:36.500")]


def test_speakers_from_name_field_voice_tag_and_prefix(document: dict[str, Any]):
    dataset = parse_dataset(document)
    speakers = {
        scene_id: [(d.speaker, d.content) for d in scene.dialogues]
        for scene_id, scene in dataset.scenes.items()
    }

    assert speakers[1][:3] == [
        ("林晓", "这座灯塔十年没人上来过了。"),  # full-width colon prefix
        ("老周", "你爷爷每天晚上都上来。"),
        (None, "一直到最后一天。"),  # no speaker: null, not a guess
    ]
    assert speakers[3][0] == ("Tom", "The generator's gone. We have maybe an hour of battery.")
    assert speakers[4][0] == ("Mara", "The third step. He left it for me.")  # "Mara:" prefix
    assert speakers[5][2] == ("Mara", "Then he knew the boat would come.")  # <v.loud Mara>
    assert speakers[6] == [
        (None, "The light is burning again & the boat is home."),
        ("Tom", "Welcome home, keeper."),
    ]


def test_tags_line_breaks_comments_and_vtt_blocks_are_cleaned(document: dict[str, Any]):
    contents = [d["content"] for s in document["scenes"].values() for d in s["dialogues"]]

    assert "Then we use the old lamp." in contents  # {\i1}...{\i0}
    assert "They're signalling." in contents  # {\pos(960,900)}
    assert "That lamp hasn't been lit since your grandfather died." in contents  # \N
    assert "一直到最后一天。" in contents  # <i>...</i>
    assert "暴风雨要来了，发电机撑不了多久。" in contents  # two CJK rows join without a space
    joined = "\n".join(contents)
    for leftover in ("{", "\\N", "<", "TL note", "NOTE", "intro", "dawn"):
        assert leftover not in joined
    assert len(contents) == 7 + 9 + 5


def test_summaries_quote_the_first_and_last_lines_only(document: dict[str, Any]):
    scenes = document["scenes"]

    assert scenes["1"]["narrative_summary"] == (
        "林晓说：“这座灯塔十年没人上来过了。”……林晓说：“他从来没跟我提过。”"
    )
    assert scenes["4"]["narrative_summary"] == (
        'Mara says, "The third step. He left it for me." … Mara says, "Keep the light burning, '
        'Mara. Someone is always coming home."'
    )
    for scene in scenes.values():
        assert scene["mood_and_atmosphere"] is None
        assert scene["inferred_location"] is None


def test_long_scenes_split_at_their_largest_gap_and_short_ones_merge(tmp_path: Path):
    cues = [(0, 3), (4, 7), (9, 12), (12.5, 15), (17, 20)]  # gaps 1, 2, 0.5, 2 s
    path = tmp_path / "dense.srt"
    path.write_text("\n".join(
        f"{i}\n00:00:{a:06.3f} --> 00:00:{b:06.3f}\nLine {i}.\n".replace(".", ",", 2)
        for i, (a, b) in enumerate(cues, start=1)
    ), encoding="utf-8")

    split = import_subtitles([path], max_scene_seconds=10, min_scene_seconds=0)
    merged = import_subtitles([path], gap_seconds=2, min_scene_seconds=8)

    assert _spans(split) == [  # 0-20 s cut at 7->9 s (the first 2 s gap), then 9-20 s at 15->17 s
        (1, "00:00:00.000", "00:00:08.000"),
        (1, "00:00:08.000", "00:00:16.000"),
        (1, "00:00:16.000", "00:00:20.000"),
    ]
    assert _spans(merged) == [(1, "00:00:00.000", "00:00:20.000")]


def test_same_input_gives_identical_output(tmp_path: Path):
    copies = []
    for source in EPISODES:  # elsewhere on disk: only names and contents count
        copies.append(tmp_path / source.name)
        shutil.copy(source, copies[-1])

    first = json.dumps(import_subtitles(EPISODES), ensure_ascii=False)
    again = json.dumps(import_subtitles(copies), ensure_ascii=False)
    other = import_subtitles([SRT_ZH, ASS_EN])

    assert first == again
    assert other["project_uuid"] != json.loads(first)["project_uuid"]
    uuids = [s["scene_uuid"] for s in json.loads(first)["scenes"].values()]
    assert len(set(uuids)) == len(uuids)


def test_gbk_encoded_chinese_srt_decodes(tmp_path: Path):
    path = tmp_path / "第1集.srt"
    path.write_bytes(_SRT_ZH_TEXT.encode("gb18030"))

    document = import_subtitles([path])

    lines = [d for s in document["scenes"].values() for d in s["dialogues"]]
    assert [(d["speaker"], d["content"]) for d in lines] == [
        ("林晓", "这座灯塔十年没人上来过了。"),
        ("老周", "暴风雨要来了，发电机撑不了多久。"),
    ]
    assert document["project_metadata"]["asset_name"] == "第1集"


def test_crlf_and_bom_are_tolerated(tmp_path: Path):
    path = tmp_path / "ep.srt"
    path.write_bytes(b"\xef\xbb\xbf" + _SRT_ZH_TEXT.replace("\n", "\r\n").encode("utf-8"))

    document = import_subtitles([path])

    assert document["scenes"]["1"]["dialogues"][0]["content"] == "这座灯塔十年没人上来过了。"


def test_empty_and_binary_files_are_reported_with_their_pointers(tmp_path: Path):
    empty = tmp_path / "empty.srt"
    empty.write_bytes(b"")
    binary = tmp_path / "poster.ass"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")

    with pytest.raises(PayloadInvalid) as exc:
        import_subtitles([SRT_ZH, empty, ASS_EN, binary])

    assert exc.value.code == 3004
    assert _pointers(exc) == ["/files/1", "/files/3"]
    reasons = [error["reason"] for error in exc.value.details["errors"]]
    assert "no dialogue events" in reasons[0]
    assert "binary" in reasons[1]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("notes.txt", "Buy milk. Call the harbour master.\n", "no known subtitle format"),
        ("ep.srt", "1\n00:00:01,000 --> 00:00:02,000\n\n", "no dialogue events"),
        ("latin.srt", None, "neither UTF-8 nor GB18030"),
    ],
)
def test_unusable_text_files_are_payload_invalid(tmp_path: Path, name, content, reason):
    path = tmp_path / name
    if content is None:
        path.write_bytes(b"1\n00:00:01,000 --> 00:00:02,000\n\xff\xff\xff\n")
    else:
        path.write_text(content, encoding="utf-8")

    with pytest.raises(PayloadInvalid) as exc:
        import_subtitles([path])

    assert _pointers(exc) == ["/files/0"]
    assert reason in exc.value.details["errors"][0]["reason"]


def test_missing_file_and_no_files(tmp_path: Path):
    with pytest.raises(PayloadInvalid) as missing:
        import_subtitles([SRT_ZH, tmp_path / "nope.srt"])
    with pytest.raises(PayloadInvalid) as none:
        import_subtitles([])

    assert _pointers(missing) == ["/files/1"]
    assert _pointers(none) == ["/files"]


def test_cli_writes_the_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "dataset.json"
    argv = ["import-subtitles", *map(str, EPISODES), "--out", str(out), "--gap", "4"]

    code = main([*argv, "--title", "灯塔"])

    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert "林晓" in text  # ensure_ascii=False
    dataset = parse_dataset(text)
    assert dataset.title == "灯塔"
    assert len(dataset.scenes) == 6
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"vss import-subtitles: 3 episodes, 6 scenes, 21 dialogue lines -> {out}"]


def test_cli_reports_each_bad_file_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    empty = tmp_path / "empty.vtt"
    empty.write_text("WEBVTT\n", encoding="utf-8")
    out = tmp_path / "dataset.json"

    code = main(["import-subtitles", str(empty), str(tmp_path / "gone.srt"), "--out", str(out)])

    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith("vss import-subtitles: empty.vtt: no dialogue events")
    assert err[0].endswith("(/files/0)")
    assert "cannot read" in err[1] and err[1].endswith("(/files/1)")


def test_cues_for_the_hard_of_hearing_are_not_dialogue(tmp_path: Path):
    path = tmp_path / "ep.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:02,000\n（音乐）\n\n"
        "2\n00:00:02,500 --> 00:00:04,000\n林晓：[笑声] 你终于来了。\n\n"
        "3\n00:00:04,500 --> 00:00:06,000\n♪ (soft piano) ♪\n\n", encoding="utf-8")
    lines = [d for s in import_subtitles([path])["scenes"].values() for d in s["dialogues"]]
    assert [(d["speaker"], d["content"]) for d in lines] == [("林晓", "你终于来了。")]


def test_a_line_is_unquoted_only_when_a_quote_pair_wraps_it(tmp_path: Path):
    path = tmp_path / "ep01.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:03,000\n« Bonjour. » dit-il.\n\n"
        "2\n00:00:04,000 --> 00:00:06,000\n« Entrez. »\n", encoding="utf-8")
    scene = import_subtitles([path])["scenes"]["1"]
    # Its own quotes come off a wholly quoted line; a quote inside a line stays whole.
    assert scene["narrative_summary"] == '"« Bonjour. » dit-il." … "Entrez."'
