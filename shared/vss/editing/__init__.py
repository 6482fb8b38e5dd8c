"""The editing core: from a dubbing script and a dataset to a frame-accurate editing script,
its validation report and NLE exports. Pure: no Google, no subprocess, no adapter or service
import (the model that may rank candidates comes in through the StructuredLlm port).

    material    each scene in frames: lines, clean cut points, candidate windows
    relevance   deterministic ranking of candidates against the narration
    llm_ranking the same ranking by a model, through the port
    solver      exact coverage per segment: selection, extension, holds, cutting
    placement   where a clip is cut inside its window; lengths a window can give
    audio       each clip's audio mode; key lines
    script      the whole script and its timeline
    report      validation of the finished script, composed of report_checks
    exports     OTIO, FCPXML, FCP 7 XML, CMX 3600 EDL (the last three by our own writers,
                _fcpxml, _fcp7_xml and _edl, over the OTIO timeline)

The core builds hundreds of thousands of objects per thousand segments: its steps run with
Python's cyclic collector paused (`collector_paused`, see `_collector`), and a caller running
several steps in a row holds one pause over all of them.
"""

from vss.editing._collector import collector_paused

__all__ = ["collector_paused"]
