"""The media references of the four timeline exports, read as an NLE reads them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import opentimelineio as otio

EXPORTS = ("timeline.otio", "timeline.fcpxml", "timeline_fcp7.xml", "timeline.edl")


def references(path: Path) -> list[str]:
    """Every media reference an export holds."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".otio":
        timeline = otio.adapters.read_from_string(text, "otio_json")
        return [str(c.media_reference.target_url) for t in timeline.tracks
                for c in t.find_clips()]
    if path.suffix == ".fcpxml":
        return [e.get("src", "") for e in ET.fromstring(text).iter("media-rep")]
    if path.suffix == ".xml":
        return [e.text or "" for e in ET.fromstring(text).iter("pathurl")]
    return re.findall(r"^\* FROM CLIP: (.*)$", text, re.MULTILINE)
