"""The review page in headless Chromium: it loads from the disk with no console error, the
video plays, a timestamp seeks to its segment, which is highlighted, and the figures show."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.browser import chromium
from tests.support.render import demo_media, run_vss, write_case


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("review")
    case = write_case(folder / "case")
    media = demo_media(case)
    out = folder / "published" / "video.mp4"
    run = run_vss("render", case.script, "--media", media, "--out", out, "--dubbing",
                  case.dubbing)
    assert run.returncode == 0, run.stderr
    # Self-contained: the folder alone still works once everything else is gone.
    shutil.rmtree(folder / "case")
    return out.parent / "index.html"


PLAY = """
const done = arguments[arguments.length - 1];
const video = document.getElementById("video");
video.muted = true;
video.play().then(() => setTimeout(() => done({time: video.currentTime, error: video.error,
    width: video.videoWidth, duration: video.duration}), 700))
  .catch((e) => done({failed: String(e)}));
"""

SEEK = """
const done = arguments[arguments.length - 1];
const video = document.getElementById("video");
video.pause();
video.addEventListener("seeked", () => {
  const time = video.currentTime;  // the seek plays on: read where it landed first
  setTimeout(() => done({time: time, playing: !video.paused,
    current: Array.from(document.querySelectorAll(".segment.current")).map((s) => s.id)}), 300);
}, {once: true});
document.querySelector("#segment-2 > button.seek").click();
"""


def test_the_page_loads_plays_and_seeks_without_console_errors(page: Path):
    html = page.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html  # nothing fetched from anywhere
    with chromium() as browser:
        browser.get(page.as_uri())
        assert browser.title.startswith("Review: ")
        segments = browser.find_elements("css selector", ".segment")
        assert len(segments) == 2
        assert "她终于走进了那家咖啡店" in segments[0].text
        assert "fit: fits" in segments[0].text and "-16.0 LUFS" in segments[0].text
        assert len(browser.find_elements("css selector", ".segment tr")) == 2 + 5  # heads, clips
        checks = browser.find_element("id", "check-cuts")
        assert "9/9 on their frame" in checks.text and "ok" in checks.get_attribute("class")
        assert "LUFS" in browser.find_element("id", "check-loudness").text

        played = browser.execute_async_script(PLAY)
        assert "failed" not in played, played
        assert played["error"] is None and played["width"] == 320
        assert played["time"] > 0.2 and abs(played["duration"] - 4.44) < 0.05

        seeked = browser.execute_async_script(SEEK)
        assert abs(seeked["time"] - 2.0) < 0.05
        assert seeked["current"] == ["segment-2"] and seeked["playing"]

        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
