"""The edge renderer: an editing script to a frame-accurate, loudness-normalised MP4.

`plan` (timeline maths), `graph` (the FFmpeg filtergraph), `captions`, `sources` and `verify`
are pure and unit-tested without FFmpeg; `ffmpeg`, `check` and `runner` shell out.
"""

from vss.edge.render.plan import RenderError
from vss.edge.render.runner import RenderOptions, render

__all__ = ["RenderError", "RenderOptions", "render"]
