"""Our FCPXML in the shape Final Cut Pro's DTD (FCPXML 1.9) requires of an imported project.

No FCPXML DTD ships in a package we can install, so the parts of the DTD an import depends on
are encoded here: which element may hold which, in what order, with which attributes
required, and the values they take. The checks run on the export of the real blueprint."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

from tests.support.editing import edge_copy, solve
from vss.domain.artifacts import DubbingScript
from vss.domain.dataset import parse_dataset
from vss.domain.payloads import EditingServiceParams
from vss.editing.exports import export_files

TIME = re.compile(r"^(0|-?\d+|-?\d+/\d+)s$")  # FCPXML time: rational seconds
# The DTD's content models we rely on: the children each element may hold, in order.
CHILDREN = {
    "fcpxml": ["import-options", "resources", "library", "event", "project"],
    "resources": ["format", "asset", "effect", "media"],
    "asset": ["media-rep", "metadata"],
    "library": ["event", "smart-collection"],
    "event": ["asset-clip", "project", "clip"],
    "project": ["sequence"],
    "sequence": ["note", "spine", "metadata"],
    "spine": ["asset-clip", "gap", "clip"],
    # note?, timing (conform-rate?, timeMap?), intrinsic video, intrinsic audio
    # (adjust-volume?), then anchored items (connected clips), markers, ...
    "asset-clip": ["note", "conform-rate", "timeMap", "adjust-volume", "asset-clip", "gap",
                   "marker", "metadata"],
    "gap": ["note", "asset-clip", "marker"],
}
REQUIRED = {
    "fcpxml": {"version"},
    "format": {"id", "frameDuration", "width", "height"},
    "asset": {"id", "start", "duration", "hasVideo", "hasAudio"},
    "media-rep": {"kind", "src"},
    "project": {"name"},
    "sequence": {"format", "duration", "tcStart"},
    "asset-clip": {"ref", "offset", "duration"},
    "adjust-volume": {"amount"},
}


@pytest.fixture(scope="module")
def fcpxml(blueprint_bytes: bytes) -> ET.Element:
    dataset = parse_dataset(blueprint_bytes)
    dubbing = DubbingScript.model_validate(edge_copy())
    dubbing.dubbing_script[2].narration += "楚昊轩问：“你不冷吗？”"
    script = solve(dubbing, dataset, EditingServiceParams.model_validate(
        {"audio": {"dialogue_mode": "ducked"}}))
    (data,) = [f.data for f in export_files(script, dataset, "shape") if f.format == "fcpxml"]
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n')
    return ET.fromstring(data)


def _in_order(element: ET.Element) -> None:
    allowed = CHILDREN.get(element.tag)
    if allowed is None:
        assert len(element) == 0, f"{element.tag} holds {[c.tag for c in element]}"
        return
    positions = [allowed.index(child.tag) if child.tag in allowed else -1 for child in element]
    assert -1 not in positions, f"{element.tag} may not hold {[c.tag for c in element]}"
    assert positions == sorted(positions), f"{element.tag}: children out of the DTD's order"


def test_every_element_is_where_the_dtd_allows_it_with_its_required_attributes(fcpxml):
    assert fcpxml.tag == "fcpxml"
    major, minor = map(int, fcpxml.get("version", "0.0").split("."))
    assert (major, minor) >= (1, 9)  # media-rep holds the file from 1.9 on
    for element in fcpxml.iter():
        _in_order(element)
        missing = REQUIRED.get(element.tag, set()) - set(element.attrib)
        assert not missing, f"{element.tag} lacks {missing}"
        for name in ("offset", "start", "duration", "frameDuration", "tcStart"):
            if name in element.attrib:
                assert TIME.match(element.get(name, "")), f"{element.tag} {name}"


def test_a_library_holds_an_event_holding_the_project(fcpxml):
    assert [c.tag for c in fcpxml] == ["resources", "library"]
    events = fcpxml.findall("./library/event")
    assert len(events) == 1 and events[0].get("name")
    assert len(events[0].findall("./project/sequence/spine")) == 1


def test_formats_and_assets_are_complete(fcpxml):
    ids = [e.get("id") for e in fcpxml.iterfind("./resources/*")]
    assert len(ids) == len(set(ids))
    formats = {f.get("id"): f for f in fcpxml.findall("./resources/format")}
    for fmt in formats.values():
        assert int(fmt.get("width", "0")) > 0 and int(fmt.get("height", "0")) > 0
        assert Fraction(fmt.get("frameDuration", "0s")[:-1]) > 0
    sequence = fcpxml.find(".//sequence")
    assert sequence is not None and sequence.get("format") in formats
    assets = fcpxml.findall("./resources/asset")
    assert assets
    for asset in assets:
        assert asset.get("hasVideo") in ("0", "1") and asset.get("hasAudio") in ("0", "1")
        if asset.get("hasVideo") == "1":
            assert asset.get("format") in formats
        reps = asset.findall("media-rep")
        assert len(reps) == 1 and reps[0].get("kind") == "original-media"
        assert "src" not in asset.attrib  # the file is the media-rep's from 1.9 on


def test_clips_refer_to_assets_and_lanes_carry_roles_and_levels(fcpxml):
    assets = {a.get("id"): a for a in fcpxml.findall("./resources/asset")}
    spine = fcpxml.find(".//spine")
    assert spine is not None and len(spine) > 0
    for clip in fcpxml.iter("asset-clip"):
        assert clip.get("ref") in assets
    for clip in spine:
        assert clip.get("lane") is None and clip.get("srcEnable") == "video"
        assert assets[clip.get("ref")].get("hasVideo") == "1"
    connected = [c for parent in spine for c in parent if c.tag == "asset-clip"]
    assert connected and all(int(c.get("lane", "0")) < 0 for c in connected)
    roles = {c.get("audioRole") for c in connected}
    assert roles == {"dialogue", "source"}
    for clip in connected:
        if clip.get("audioRole") == "source":
            assert clip.get("srcEnable") == "audio"
            volume = clip.find("adjust-volume")
            assert volume is not None and re.match(r"^-?\d+(\.\d+)?dB$", volume.get("amount", ""))
        else:
            assert assets[clip.get("ref")].get("hasVideo") == "0"
