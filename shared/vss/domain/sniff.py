"""Content sniffing for uploads: trust the bytes, not the client's Content-Type."""

from __future__ import annotations

from vss.errors import UnsupportedMedia

_TEXT_SUFFIXES = {
    ".srt": "application/x-subrip",
    ".ass": "text/x-ssa",
    ".ssa": "text/x-ssa",
    ".vtt": "text/vtt",
    ".txt": "text/plain",
}


def sniff_content_type(data: bytes, filename: str) -> str:
    """The accepted media type of `data`, or UnsupportedMedia (415).

    Accepted: JSON documents (datasets, scripts), WAV audio (reference voices), and UTF-8
    subtitle/text files. Everything else (archives, executables, video) is refused: the cloud
    never takes source footage.
    """
    head = data[:16]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsupportedMedia(
            "Only JSON, UTF-8 subtitle/text files and WAV audio can be uploaded.",
            details={"filename": filename},
        ) from None
    if "\x00" in text:
        raise UnsupportedMedia("Binary content is not accepted.", details={"filename": filename})
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return "application/json"
    suffix = filename[filename.rfind(".") :].lower() if "." in filename else ""
    return _TEXT_SUFFIXES.get(suffix, "text/plain")
