"""The FFmpeg command of a render, built as data (pure: the runner runs it).

One pass reads every clip with an input seek (`-ss` before `-i`: FFmpeg decodes from the
keyframe before and drops every frame before the seek point, so the first frame kept is the
clip's first frame), keeps exactly its frames (`trim=end_frame`), brings it to one size, frame
rate and pixel format, and concatenates; the source audio of each clip, cut to the samples its
frames span and set to its audio mode's gain, is the bed under the narration; each narration
WAV plays from its segment's first frame. The mix is loudness-normalised with EBU R128
`loudnorm` in two passes (measure, then a linear gain), the way its author recommends: a
single pass compresses dynamically.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from vss.edge.render.plan import SAMPLE_RATE, Timeline

TARGET_LUFS = -16.0
TARGET_LRA = 11.0
# Aimed below the -1 dBTP ceiling: AAC encoding adds a few tenths of a dB of true peak.
TARGET_TRUE_PEAK = -1.5
FADE_SECONDS = 0.008  # at every cut of the source audio, so a cut mid-waveform cannot click
_AUDIO = f"aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"


@dataclass(frozen=True, slots=True)
class OutputFormat:
    width: int
    height: int
    fps: Fraction

    @property
    def rate(self) -> str:
        return f"{self.fps.numerator}/{self.fps.denominator}"


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of picture on the timeline read from one file: a clip, or a chunk of clips
    rendered before. `gain_db` None: its sound is muted (or it has none)."""

    path: str
    seek: float
    frames: int
    start: int
    source_frames: int
    freeze: bool = False
    gain_db: float | None = None
    convert_fps: bool = False
    fade: bool = True


@dataclass(frozen=True, slots=True)
class FilterGraph:
    inputs: list[list[str]]
    graph: str
    maps: list[str]

    def args(self) -> list[str]:
        flat = [arg for group in self.inputs for arg in group]
        return [*flat, "-filter_complex", self.graph,
                *[arg for label in self.maps for arg in ("-map", label)]]


def escape(value: str) -> str:
    """A filter option value (a file name) escaped for a filtergraph: once for the option
    parser, once for the graph parser."""
    option = value.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    return "".join("\\" + c if c in "\\'[],;" else c for c in option)


def normalize_video(fmt: OutputFormat) -> str:
    """Any source to the output's size (letterboxed, never stretched), square pixels, 4:2:0."""
    w, h = fmt.width, fmt.height
    return (f"scale={w}:{h}:force_original_aspect_ratio=decrease,"
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p")


def loudnorm(measured: dict[str, str] | None = None) -> str:
    """The measuring pass without `measured`; the linear second pass with it."""
    base = f"loudnorm=I={TARGET_LUFS}:TP={TARGET_TRUE_PEAK}:LRA={TARGET_LRA}"
    if measured is None:
        return base + ":print_format=json"
    return (f"{base}:measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
            f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
            f":offset={measured['target_offset']}:linear=true:print_format=json")


def render_graph(timeline: Timeline, pieces: list[Piece], narrations: list[str],
                 fmt: OutputFormat, *, mix: str | None, subtitles: str | None = None,
                 video: bool = True) -> FilterGraph:
    """The inputs, filtergraph and output maps of a render.

    `mix`: the loudness filter of the final mix (None: the bed alone, unnormalised, as a chunk
    rendered before the final pass needs it). `video=False` leaves the picture out (the
    loudness measuring pass reads no frame).
    """
    inputs: list[list[str]] = []
    chains: list[str] = []
    pairs: list[str] = []
    fps = fmt.fps
    for k, piece in enumerate(pieces):
        samples = timeline.sample(piece.start + piece.frames) - timeline.sample(piece.start)
        reads_audio = piece.gain_db is not None
        if video or reads_audio:
            span = (piece.source_frames + 2) / fps
            inputs.append(["-ss", f"{piece.seek:.6f}", "-t", f"{float(span):.6f}",
                           "-i", piece.path])
            index = len(inputs) - 1
        if video:
            chains.append(f"[{index}:v:0]{_picture(piece, fmt)}[v{k}]")
            pairs.append(f"[v{k}]")
        if reads_audio:
            chains.append(f"[{index}:a:0]{_AUDIO},asetpts=PTS-STARTPTS,"
                          f"atrim=end_sample={samples},apad=whole_len={samples},"
                          f"volume={piece.gain_db:.2f}dB{_fades(piece, samples)}[a{k}]")
        else:
            chains.append(f"{_silence(samples)}[a{k}]")
        pairs.append(f"[a{k}]")
    chains.append(f"{''.join(pairs)}concat=n={len(pieces)}:v={int(video)}:a=1"
                  + ("[vcat]" if video else "") + "[bed]")
    maps = []
    if video:
        # Timestamps from the frame count: the output is constant frame rate by construction.
        burn = f",subtitles=filename={escape(subtitles)}" if subtitles else ""
        chains.append(f"[vcat]setpts=N*{fps.denominator}/{fps.numerator}/TB{burn}[vout]")
        maps.append("[vout]")
    total = timeline.sample(timeline.total_frames)
    if mix is None:
        chains.append("[bed]anull[aout]")
    else:
        chains += _narration(timeline, narrations, inputs)
        chains.append(f"[bed][narr]amix=inputs=2:normalize=0:duration=longest,{mix},"
                      f"{_AUDIO},apad=whole_len={total},"
                      f"atrim=end_sample={total}[aout]")
    maps.append("[aout]")
    return FilterGraph(inputs, ";".join(chains), maps)


def _picture(piece: Piece, fmt: OutputFormat) -> str:
    steps = ["setpts=PTS-STARTPTS"]
    if piece.convert_fps:
        steps.append(f"fps={fmt.rate}")
    if piece.freeze:
        steps += ["trim=end_frame=1", f"tpad=stop={piece.frames - 1}:stop_mode=clone"]
    else:
        steps.append(f"trim=end_frame={piece.frames}")
    return ",".join([*steps, normalize_video(fmt)])


def _fades(piece: Piece, samples: int) -> str:
    if not piece.fade:
        return ""
    seconds = samples / SAMPLE_RATE
    fade = min(FADE_SECONDS, seconds / 4)
    return f",afade=t=in:d={fade:.4f},afade=t=out:st={seconds - fade:.6f}:d={fade:.4f}"


def _silence(samples: int) -> str:
    return f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end_sample={samples}"


def _narration(timeline: Timeline, narrations: list[str], inputs: list[list[str]]) -> list[str]:
    """Each cue's WAV from its segment's first frame until the next segment's (cut there),
    silence between: a track exactly as long as the timeline."""
    chains: list[str] = []
    labels: list[str] = []
    first = timeline.cues[0].start
    if first > 0:
        chains.append(f"{_silence(timeline.sample(first))}[nlead]")
        labels.append("[nlead]")
    for k, (cue, path) in enumerate(zip(timeline.cues, narrations, strict=True)):
        length = timeline.sample(cue.start + cue.frames) - timeline.sample(cue.start)
        if length <= 0:
            continue
        inputs.append(["-i", path])
        chains.append(f"[{len(inputs) - 1}:a:0]{_AUDIO},asetpts=PTS-STARTPTS,"
                      f"atrim=end_sample={length},apad=whole_len={length}[n{k}]")
        labels.append(f"[n{k}]")
    chains.append(f"{''.join(labels)}concat=n={len(labels)}:v=0:a=1[narr]")
    return chains
