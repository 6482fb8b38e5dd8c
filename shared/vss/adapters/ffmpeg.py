"""FFmpeg behind the AudioTools port: pitch-preserving tempo changes (`atempo`)."""

from __future__ import annotations

import shutil
import subprocess

from vss.errors import TtsError

# atempo takes 0.5-2.0 per instance; the pipeline never asks for more than 1.3.
_MIN, _MAX = 0.5, 2.0


class FfmpegAudioTools:
    def __init__(self, binary: str = "ffmpeg", timeout_seconds: float = 120.0) -> None:
        self._binary = binary
        self._timeout = timeout_seconds

    def change_tempo(self, wav: bytes, factor: float) -> bytes:
        """The WAV `factor` times as fast, pitch kept; same sample rate, mono, 16-bit."""
        if not _MIN <= factor <= _MAX:
            raise TtsError(f"Tempo {factor} is outside {_MIN}-{_MAX}.")
        if shutil.which(self._binary) is None:
            raise TtsError(f"{self._binary} is not installed (apt-get install ffmpeg).")
        proc = subprocess.run(
            [self._binary, "-hide_banner", "-loglevel", "error", "-f", "wav", "-i", "pipe:0",
             "-filter:a", f"atempo={factor:.6f}", "-ac", "1", "-c:a", "pcm_s16le",
             "-f", "wav", "-bitexact", "pipe:1"],
            input=wav, capture_output=True, timeout=self._timeout, check=False,
        )
        if proc.returncode != 0 or not proc.stdout:
            raise TtsError("ffmpeg could not change the tempo.",
                           details={"stderr": proc.stderr.decode(errors="replace")[-300:]})
        return _fix_sizes(proc.stdout)


def _fix_sizes(data: bytes) -> bytes:
    """FFmpeg writing a WAV to a pipe cannot seek back to fill in the RIFF and data sizes;
    they are set here from the bytes actually written."""
    riff = bytearray(data)
    if riff[:4] != b"RIFF":
        return data
    riff[4:8] = (len(riff) - 8).to_bytes(4, "little")
    pos = 12
    while pos + 8 <= len(riff):
        chunk, size = bytes(riff[pos:pos + 4]), int.from_bytes(riff[pos + 4:pos + 8], "little")
        if chunk == b"data":
            riff[pos + 4:pos + 8] = (len(riff) - pos - 8).to_bytes(4, "little")
            break
        pos += 8 + size + (size & 1)
    return bytes(riff)
