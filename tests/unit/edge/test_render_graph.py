"""The FFmpeg command built as data, the subtitles, the check maths and the review page's
content: no FFmpeg runs here."""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pysubs2
import pytest

from tests.support.render import editing_script, speech_wav
from vss.domain.artifacts import EditingScript
from vss.edge.render.captions import pieces, subtitles
from vss.edge.render.check import _output_take, _reference_take, _takes
from vss.edge.render.ffmpeg import audio_seconds
from vss.edge.render.graph import (
    OutputFormat,
    Piece,
    bed_graph,
    escape,
    final_audio,
    loudness_gain,
    mix_graph,
    picture_graph,
)
from vss.edge.render.plan import build_timeline
from vss.edge.render.report import (
    RenderReport,
    report_clips,
    report_cues,
    summary_lines,
)
from vss.edge.render.verify import (
    CutCheck,
    cuts_summary,
    duration_check,
    edges,
    locate,
    loudness_check,
)
from vss.edge.review import review_context

FMT = OutputFormat(320, 180, Fraction(25))


def _timeline():
    return build_timeline(EditingScript.model_validate(editing_script()))


def _pieces(timeline, has_audio: bool = True):
    return [Piece(path=f"/m/{c.chapter_id}.mp4", source_in=c.source_in, frames=c.frames,
                  start=c.start, source_frames=c.source_frames_needed, freeze=c.freeze,
                  gain_db=c.gain_db if has_audio else None)
            for c in timeline.clips]


def test_each_clip_is_read_from_its_seek_point_and_trimmed_to_its_frames():
    timeline = _timeline()
    graph = picture_graph(timeline, _pieces(timeline), FMT, subtitles="/tmp/x/narration.ass")
    assert [group[:2] for group in graph.inputs] == [["-ss", "0.520000"], ["-ss", "0.280000"],
                                                     ["-ss", "6.800000"], ["-ss", "5.600000"],
                                                     ["-ss", "8.000000"]]
    text = graph.graph
    assert text.count("trim=end_frame=30,") == 1 and "trim=end_frame=20," in text
    assert "trim=end_frame=1,tpad=stop=15:stop_mode=clone" in text  # the freeze-frame
    assert "scale=320:180:force_original_aspect_ratio=decrease,pad=320:180" in text
    assert "[v0][v1][v2][v3][v4]concat=n=5:v=1:a=0[vcat]" in text and ":a:0]" not in text
    # the subtitles see the timeline's time, the file's frames count from 0
    assert ("[vcat]setpts=(N+0)*1/25/TB,subtitles=filename=/tmp/x/narration.ass,"
            "setpts=N*1/25/TB[vout]") in text
    assert graph.maps == ["[vout]"] and graph.options == ()


def test_a_clip_read_from_before_its_first_frame_also_gives_the_cut_checks_reference():
    timeline = _timeline()  # its first clip: source frames 13-42
    piece = replace(_pieces(timeline)[0], lead=3, reference=(11, 12, 13, 14, 15, 40, 41))
    graph = picture_graph(timeline, [piece], FMT)
    assert graph.inputs == [["-ss", "0.400000", "-t", "1.400000", "-i", "/m/1.mp4"]]  # from 10
    assert graph.options == ("-copyts",) and graph.maps == ["[vout]", "[r0]"]
    text = graph.graph
    # the picture: the clip's 30 frames after the 3 read before it, timed from 0
    assert text.startswith("[0:v:0]split[c0][s0];")
    assert "[c0]setpts=PTS-STARTPTS,trim=start_frame=3:end_frame=33,setpts=PTS-STARTPTS," in text
    # the reference: source frames by their own time, shaped like the output, then shrunk
    assert "[s0]select='between(t\\,0.420000\\,0.460000)+" in text
    assert "between(t\\,1.620000\\,1.660000)',scale=320:180" in text
    assert "format=yuv420p,scale=96:54:flags=area,format=gray[r0]" in text


def test_a_later_run_of_clips_has_its_subtitles_at_its_place_on_the_timeline():
    timeline = _timeline()
    text = picture_graph(timeline, _pieces(timeline)[2:], FMT, subtitles="/s.ass").graph
    assert "[vcat]setpts=(N+50)*1/25/TB,subtitles=filename=/s.ass,setpts=N*1/25/TB[vout]" in text
    assert picture_graph(timeline, _pieces(timeline), FMT).graph.endswith(
        "[vcat]setpts=N*1/25/TB[vout]")  # no subtitles


def test_the_bed_reads_only_the_clips_with_sound_each_from_its_first_frame():
    timeline = _timeline()
    graph = bed_graph(timeline, _pieces(timeline))
    assert graph.inputs == [["-ss", "0.520000", "-t", "1.280000", "-i", "/m/1.mp4"],
                            ["-ss", "6.800000", "-t", "1.080000", "-i", "/m/1.mp4"],
                            ["-ss", "8.000000", "-t", "0.880000", "-i", "/m/1.mp4"]]
    text = graph.graph
    assert ":v:" not in text and graph.maps == ["[bed]"]
    assert text.count("anullsrc") == 2  # the muted clips
    assert "volume=-18.00dB" in text and "volume=-12.00dB" in text and "volume=0.00dB" in text
    assert text.endswith("[a0][a1][a2][a3][a4]concat=n=5:v=0:a=1[bed]")


def test_audio_lengths_add_up_to_the_timeline_exactly():
    timeline = _timeline()
    text = bed_graph(timeline, _pieces(timeline)).graph
    total = timeline.sample(timeline.total_frames)
    bed = sum(int(n) for n in re.findall(r"atrim=end_sample=(\d+),apad=whole_len=\1,volume",
                                         text))
    silent = sum(int(n) for n in re.findall(r"anullsrc=r=48000:cl=stereo,atrim=end_sample="
                                            r"(\d+)\[a", text))
    assert bed + silent == total == 111 * 1920
    mixed = mix_graph(timeline, ["bed0.wav"], ["a.wav", "b.wav"]).graph
    narration = sum(int(n) for n in re.findall(r"atrim=end_sample=(\d+),apad=whole_len=\1\[n",
                                               mixed))
    assert narration == total
    assert final_audio(timeline, -20.0, -9.0).endswith(
        f"apad=whole_len={total},atrim=end_sample={total}")


def test_the_mix_pass_reads_the_beds_and_the_narration_and_no_picture():
    timeline = _timeline()
    graph = mix_graph(timeline, ["bed0.wav", "bed3.wav"], ["a.wav", "b.wav"])
    assert graph.inputs == [["-i", "bed0.wav"], ["-i", "bed3.wav"], ["-i", "a.wav"],
                            ["-i", "b.wav"]]
    assert ":v:" not in graph.graph and graph.maps == ["[mix]", "[measure]"]
    assert graph.graph.startswith("[0:a:0][1:a:0]concat=n=2:v=0:a=1[bed]")
    assert "asplit[mix][tomeasure];[tomeasure]ebur128=peak=true" in graph.graph


def test_a_source_without_sound_is_silence():
    timeline = _timeline()
    graph = bed_graph(timeline, _pieces(timeline, has_audio=False))
    assert graph.inputs == [] and graph.graph.count("anullsrc") == 5


def test_the_loudness_gain_is_linear_unless_it_would_lift_the_peak_over_the_ceiling():
    assert loudness_gain(-23.1, -9.0) == "volume=7.10dB"
    assert loudness_gain(-12.0, -0.5) == "volume=-4.00dB"
    # +7.1 dB would put a -4.2 dBTP peak at +2.9: loudnorm's dynamic mode, as its linear
    # mode would fall back to
    assert loudness_gain(-23.1, -4.2) == "loudnorm=I=-16.0:TP=-1.5:LRA=11.0"


def test_file_names_are_escaped_for_the_filtergraph():
    assert escape("/tmp/a b/x.ass") == "/tmp/a b/x.ass"
    assert escape("C:/it's[1],x;y.ass") == "C\\\\:/it\\\\\\'s\\[1\\]\\,x\\;y.ass"


def test_subtitles_follow_the_narration_in_sentences_and_lines():
    assert pieces("她终于走进了那家咖啡店。命运的齿轮开始转动。", 30) == [
        "她终于走进了那家咖啡店。", "命运的齿轮开始转动。"]
    long = "这是一个非常长的句子，它有很多很多的字，必须在逗号处分成两行才能放得下。"
    assert all(len(line) <= 16 for line in pieces(long, 16))
    assert "".join(pieces(long, 16)) == long
    assert pieces("A long English sentence that needs two lines here.", 24) == [
        "A long English sentence", "that needs two lines", "here."]
    timeline = _timeline()
    subs = pysubs2.SSAFile.from_string(subtitles(timeline, FMT))
    assert subs.info["PlayResX"] == "320" and subs.info["PlayResY"] == "180"
    first = [e for e in subs if e.start < 2000]
    assert [e.text for e in first] == ["她终于走进了那家咖啡店。", "命运的齿轮开始转动。"]
    assert first[0].start == 0 and first[-1].end == 2000  # spoken time shared by characters
    assert min(e.start for e in subs if e not in first) == 2000


def test_edges_are_every_clips_first_and_last_frame():
    found = edges(_timeline())
    assert [(e.at, e.source) for e in found[:2]] == [(0, 13), (29, 42)]
    frozen = [e for e in found if e.clip == 3]
    assert [(e.side, e.at, e.source) for e in frozen] == [("in", 75, 140)]
    assert len(found) == 9


def test_the_cut_check_decodes_each_clips_edges_together_only_when_they_are_close():
    timeline = _timeline()
    first = timeline.clips[0]  # source frames 13-42: edges 25 frames (1 s) apart
    assert _takes(timeline, first) == [[11, 12, 13, 14, 15, 40, 41, 42, 43, 44]]
    longer = replace(first, frames=60)  # 13-72
    assert _takes(timeline, longer) == [[11, 12, 13, 14, 15], [70, 71, 72, 73, 74]]
    assert _takes(timeline, timeline.clips[3]) == [[138, 139, 140, 141, 142]]  # frozen
    take = _reference_take(timeline, [70, 71, 72, 73, 74], Path("/m/ep.mp4"), FMT, False)
    # a few frames early, as far as two past the last: each frame picked by its own time
    assert take.input_args == ["-ss", "2.680000", "-t", "0.360000", "-i", "/m/ep.mp4"]
    assert take.video_filter.startswith("select='between(t\\,2.780000\\,2.820000)+")


def test_the_cut_check_picks_the_outputs_frames_at_their_times_before_scaling_them():
    take = _output_take(Path("/o.mp4"), [0, 29, 30], FMT)
    assert take.video_filter == ("fps=25/1:start_time=0,"
                                 "select='eq(n\\,0)+eq(n\\,29)+eq(n\\,30)'")


def test_a_cut_is_located_among_its_neighbours():
    rng = np.random.default_rng(1)
    frames = {f: rng.integers(0, 255, (18, 32)).astype(np.int16) for f in range(8, 13)}
    assert locate(frames[10] + 1, frames, 10) == ("on_frame", 0, 1.0)
    status, offset, _ = locate(frames[11], frames, 10)
    assert (status, offset) == ("off", 1)
    still = {f: np.full((18, 32), 80, np.int16) for f in range(8, 13)}
    assert locate(still[10], still, 10)[0] == "on_frame"  # a tie goes to the expected frame
    still[11] = still[11].copy()
    still[11][0, 0] = 90  # frame 11 differs from 10 by one pixel: a still picture
    assert locate(still[11].copy(), still, 10)[:2] == ("indistinguishable", 1)


def test_duration_and_loudness_tolerances():
    timeline = _timeline()
    assert duration_check(timeline, 111, 4.44, 4.45).ok
    assert duration_check(timeline, 112, 4.48, 4.44).ok
    assert not duration_check(timeline, 113, 4.52, 4.44).ok
    assert not duration_check(timeline, 111, 4.44, 4.50).ok
    assert loudness_check(-16.8, -1.2, 4.0).ok
    assert not loudness_check(-17.2, -3.0, None).ok
    assert not loudness_check(-16.0, -0.8, None).ok


def _report(off: bool = False) -> RenderReport:
    timeline = _timeline()
    files = ["11_ep01_l1.mp4", "13_ep02_l1.mp4", "11_ep01_l1.mp4", "13_ep02_l1.mp4",
             "11_ep01_l1.mp4"]
    checks = [CutCheck(clip=e.clip, label=timeline.clips[e.clip].label, side=e.side,
                       timeline_frame=e.at, source_frame=e.source,
                       status="off" if off and e.clip == 2 else "on_frame",
                       offset=1 if off and e.clip == 2 else 0, difference=0.4)
              for e in edges(timeline)]
    return RenderReport(
        output="demo.mp4", fps=25.0, frame_rate="25/1", width=320, height=180,
        total_frames=111, duration=4.44, subtitles=True, passes=2, render_seconds=1.0,
        speed_x_realtime=4.44, verify_seconds=1.0, notes=[],
        duration_check=duration_check(timeline, 111, 4.44, 4.44), cuts=cuts_summary(checks),
        cut_checks=checks, loudness=loudness_check(-16.1, -1.7, 2.0),
        clips=report_clips(timeline, files), cues=report_cues(timeline))


def test_the_printed_checks_say_what_failed():
    assert _report().ok
    failed = _report(off=True)
    assert not failed.ok
    lines = summary_lines(failed)
    assert lines[1].startswith("check cuts: 7 of 9 clip edges on their frame, 2 off FAILED")
    assert "segment 2 clip 1 (scene 2, episode 1) in at timeline frame 50: shows source " \
           "frame 171, not 170" in lines[3]


def test_the_review_page_content():
    script = editing_script()
    dubbing = {"dubbing_script": [{"duration_seconds": 2.0, "fit": {"action": "tempo",
                                                                     "slot_seconds": 2.0,
                                                                     "tempo": 1.06},
                                   "loudness": {"lufs": -16.2, "true_peak_dbtp": -1.4}}],
               "total_duration": 3.64, "engines": ["kokoro"]}
    context = review_context(_report(off=True), script, dubbing)
    first, second = context["segments"]
    assert (first["start"], first["end"], first["clock"]) == (0.0, 2.0, "00:00.000")
    assert second["clock"] == "00:02.000" and second["figures"] == []
    assert first["figures"][:2] == ["fit: tempo, slot 2.00 s, tempo x1.060",
                                    "-16.2 LUFS, true peak -1.4 dBTP"]
    assert [c["scene_id"] for c in second["clips"]] == [2, 4, 2]
    assert second["clips"][0]["off"] and second["clips"][0]["cut"] == "in off +1, out off +1"
    assert second["clips"][2]["reason"] == "scene 2 for the test"  # from the key line itself
    assert first["clips"][0]["width"] == pytest.approx(100 * 30 / 25 / 4.44, abs=1e-3)
    assert context["lang"] == "zh" and context["dubbing_engine"] == "kokoro"


def test_a_pcm_wavs_length_is_read_from_its_header(tmp_path: Path):
    path = tmp_path / "seg.wav"
    speech_wav(path, 2.5)
    assert audio_seconds(path) == 2.5  # no ffprobe: unit tests refuse to start a process
