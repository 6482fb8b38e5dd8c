"""`vss demo-media --editing-script`: the ranges a cut reads, with handles, and what a file of
them holds at a frame rate (tests/integration/test_demo_media.py writes the files)."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from tests.support.render import blueprint, editing_script
from vss.domain.dataset import parse_dataset
from vss.edge.media import AUDIO_BLOCK, SAMPLE_RATE, cut_ranges, episodes, layout, merged
from vss.edge.render.plan import Timeline, build_timeline, load_script

F = Fraction


def _timeline(script: dict[str, Any]) -> Timeline:
    return build_timeline(load_script(json.dumps(script)))



def test_spans_that_overlap_or_touch_are_merged_and_empty_ones_dropped():
    assert merged([(5, 9), (0, 2), (2, 3), (8, 12), (20, 20)]) == ((0, 3), (5, 12))
    assert merged([]) == ()


def test_each_clip_with_a_second_either_side_merged_where_they_overlap():
    # The render case: episode 1 reads frames 13-42, 170-194 and (a key line) 200-219;
    # episode 2 frames 7-26 and, frozen, frame 140 alone.
    ranges = cut_ranges(_timeline(editing_script()))
    assert ranges == {1: ((F(0), F(68, 25)), (F(29, 5), F(49, 5))),
                      2: ((F(0), F(52, 25)), (F(23, 5), F(166, 25)))}
    assert cut_ranges(_timeline(editing_script()), F(0))[2] == (
        (F(7, 25), F(27, 25)), (F(140, 25), F(141, 25)))


def test_the_layout_holds_the_ranges_a_black_frame_per_gap_and_whole_audio_blocks():
    ranges = cut_ranges(_timeline(editing_script()))[1]
    kept = layout(ranges, 14.0, F(25))  # 350 frames; 48000 / 25 = 1920 samples a frame
    assert kept.frames == ((0, 68), (145, 245))
    assert kept.black == (68, 245, 349)  # each gap's first frame, and the episode's last
    assert kept.blocks == ((0, 128), (271, 460))  # 68 x 1920 / 1024 = 127.5: block 127 kept
    assert kept.silent == (654, 656)  # under the last frame; the partial last block


def test_a_range_past_the_episode_is_cut_to_it_and_an_ntsc_layout_covers_every_range():
    dataset = parse_dataset(json.dumps(blueprint()))
    (episode,) = episodes(dataset, ranges={1: ((F(13), F(20)),)})
    assert episode.ranges == ((F(13), F(14)),) and episode.written_seconds == 1.0
    ntsc = F(30000, 1001)
    for start, end in cut_ranges(_timeline(editing_script(fps=29.97)))[1]:
        kept = layout(((start, end),), 14.0, ntsc)
        (first, stop), = kept.frames
        assert first / ntsc <= start < (first + 1) / ntsc and (stop - 1) / ntsc < end
        (block_first, block_end), = kept.blocks
        assert block_first * AUDIO_BLOCK <= first * SAMPLE_RATE / ntsc
        assert block_end * AUDIO_BLOCK >= stop * SAMPLE_RATE / ntsc
