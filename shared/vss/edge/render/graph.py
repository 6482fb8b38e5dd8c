"""The FFmpeg commands of a render, built as data (pure: the runner runs them).

A render decodes each clip's stretch of its source once. A picture pass over a run of clips
reads every clip with an input seek `lead` frames before its first (`-ss` before `-i`: FFmpeg
decodes from the keyframe before and drops every frame before the seek point, so the first
frame kept is the one the seek names), keeps exactly the clip's frames by their count from
there (`trim`), brings them to one size, frame rate and pixel format, concatenates, burns in
the subtitles and encodes the picture once, for good. The same decode gives the cut check its
reference frames: those around the clip's edges, picked by their own timestamps
(`reference_filter`).

The sound needs no picture, so it is rendered beside it: a bed pass reads each clip's source
audio, cut to the samples its frames span and set to its audio mode's gain, and keeps it
losslessly; the mix pass puts each narration WAV on the beds from its segment's first frame
and measures the mix's loudness (EBU R128 with `ebur128`); the mix is then encoded at the one
linear gain that brings it to the target. Loudness is thus normalised in two passes, as
loudnorm's author recommends (a single pass compresses dynamically), without loudnorm's
processing at 192 kHz (7 times the CPU of the measurement). The last pass joins the runs'
pictures and the sound as they are (`-c copy`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from vss.edge.render.plan import SAMPLE_RATE, Timeline

TARGET_LUFS = -16.0
TARGET_LRA = 11.0
# Aimed below the -1 dBTP ceiling: AAC encoding adds a few tenths of a dB of true peak.
TARGET_TRUE_PEAK = -1.5
THUMB_WIDTH = 96
FADE_SECONDS = 0.008  # at every cut of the source audio, so a cut mid-waveform cannot click
# The loudness measurement, of the mix and of the output alike: true peak at 4x oversampling;
# framelog=verbose prints the summary alone, not a line every 100 ms.
MEASURE = "ebur128=peak=true:framelog=verbose"
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
    """A clip on the timeline, read from one file: its picture from `lead` source frames before
    its first one, its sound from its first. `gain_db` None: its sound is muted (or it has
    none). `reference`: source frames to pick from the picture's decode for the cut check (see
    `reference_filter`)."""

    path: str
    source_in: int
    frames: int
    start: int
    source_frames: int
    lead: int = 0
    freeze: bool = False
    gain_db: float | None = None
    convert_fps: bool = False
    reference: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class FilterGraph:
    """Inputs and a graph whose outputs (`maps`, labels) go to files of their own: the caller
    writes each output's `-map <label>` and options."""

    inputs: list[list[str]]
    graph: str
    maps: list[str]
    options: tuple[str, ...] = ()  # global ones

    def args(self) -> list[str]:
        flat = [arg for group in self.inputs for arg in group]
        return [*self.options, *flat, "-filter_complex", self.graph]


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


def loudness_gain(lufs: float, true_peak: float) -> str:
    """The filter that brings a mix measured at `lufs` to the target: one linear gain, which
    keeps its dynamics (loudnorm's linear mode, without its 192 kHz processing). Where that gain
    would lift the true peak over the ceiling, loudnorm's dynamic mode, as loudnorm's linear
    mode itself falls back to."""
    gain = TARGET_LUFS - lufs
    if true_peak + gain <= TARGET_TRUE_PEAK:
        return f"volume={gain:.2f}dB"
    return f"loudnorm=I={TARGET_LUFS}:TP={TARGET_TRUE_PEAK}:LRA={TARGET_LRA}"


def thumb_size(fmt: OutputFormat) -> tuple[int, int]:
    """The greyscale thumbnails the cut check compares: 96 pixels wide, the output's shape."""
    return THUMB_WIDTH, max(2, round(THUMB_WIDTH * fmt.height / fmt.width / 2) * 2)


def thumb_scale(size: tuple[int, int]) -> str:
    return f"scale={size[0]}:{size[1]}:flags=area,format=gray"


def reference_filter(fps: Fraction, wanted: Sequence[int], fmt: OutputFormat,
                     convert_fps: bool) -> str:
    """Source frames picked by their own timestamps (as the file has them: the command keeps
    them with -copyts), each wanted frame's time slot, so the reference does not depend on the
    seek and frame counting the render's cut relies on; shaped like the output. A source at
    another rate is first put on the timeline's frame grid (its frame nearest each slot), as
    the render does."""
    slots = "+".join(f"between(t\\,{(f - 0.5) / fps:.6f}\\,{(f + 0.5) / fps:.6f})"
                     for f in wanted)
    return (f"fps={fmt.rate}," if convert_fps else "") + f"select='{slots}',{normalize_video(fmt)}"


def picture_graph(timeline: Timeline, pieces: list[Piece], fmt: OutputFormat, *,
                  subtitles: str | None = None) -> FilterGraph:
    """One decode of a run of clips: `[vout]` their picture (subtitles burned in at the run's
    place on the timeline) and `[r<k>]` the reference thumbnails of each piece that asks for
    them."""
    inputs: list[list[str]] = []
    chains: list[str] = []
    references: list[str] = []
    for k, piece in enumerate(pieces):
        first = piece.source_in - piece.lead
        span = (piece.lead + piece.source_frames + 2) / fmt.fps  # the reference's last + 1
        inputs.append(["-ss", f"{timeline.seek_seconds(first):.6f}", "-t", f"{float(span):.6f}",
                       "-i", piece.path])
        source = f"[{k}:v:0]"
        if piece.reference:  # one decode, two uses: the picture and the cut check's reference
            pick = reference_filter(timeline.fps, piece.reference, fmt, piece.convert_fps)
            chains.append(f"{source}split[c{k}][s{k}]")
            chains.append(f"[s{k}]{pick},{thumb_scale(thumb_size(fmt))}[r{k}]")
            references.append(f"[r{k}]")
            source = f"[c{k}]"
        chains.append(f"{source}{_picture(piece, fmt)}[v{k}]")
    chains.append(f"{''.join(f'[v{k}]' for k in range(len(pieces)))}"
                  f"concat=n={len(pieces)}:v=1:a=0[vcat]")
    chains.append(f"[vcat]{_frame_times(fmt, pieces[0].start, subtitles)}[vout]")
    # -copyts: the reference picks frames by the file's own timestamps; the picture is re-timed
    # from 0 (setpts, concat), so it changes nothing else.
    return FilterGraph(inputs, ";".join(chains), ["[vout]", *references],
                       ("-copyts",) if references else ())


def bed_graph(timeline: Timeline, pieces: list[Piece]) -> FilterGraph:
    """`[bed]`: the source sound of a run of clips, each cut to the samples its frames span
    (its own seek to its first frame: sound has no keyframe to decode from) at its audio
    mode's gain, silence where muted."""
    inputs: list[list[str]] = []
    chains: list[str] = []
    for k, piece in enumerate(pieces):
        samples = timeline.sample(piece.start + piece.frames) - timeline.sample(piece.start)
        if piece.gain_db is None:
            chains.append(f"{_silence(samples)}[a{k}]")
            continue
        span = (piece.frames + 2) / timeline.fps
        inputs.append(["-ss", f"{timeline.seek_seconds(piece.source_in):.6f}",
                       "-t", f"{float(span):.6f}", "-i", piece.path])
        chains.append(f"[{len(inputs) - 1}:a:0]{_AUDIO},asetpts=PTS-STARTPTS,"
                      f"atrim=end_sample={samples},apad=whole_len={samples},"
                      f"volume={piece.gain_db:.2f}dB{_fades(samples)}[a{k}]")
    chains.append(f"{''.join(f'[a{k}]' for k in range(len(pieces)))}"
                  f"concat=n={len(pieces)}:v=0:a=1[bed]")
    return FilterGraph(inputs, ";".join(chains), ["[bed]"])


def _frame_times(fmt: OutputFormat, start: int, subtitles: str | None) -> str:
    """Timestamps from the frame count (the output is constant frame rate by construction),
    from 0 in the run's file; the subtitles see the run's time on the timeline."""
    per_frame = f"{fmt.fps.denominator}/{fmt.fps.numerator}/TB"
    if subtitles is None:
        return f"setpts=N*{per_frame}"
    return (f"setpts=(N+{start})*{per_frame},subtitles=filename={escape(subtitles)},"
            f"setpts=N*{per_frame}")


def mix_graph(timeline: Timeline, beds: list[str], narrations: list[str]) -> FilterGraph:
    """The runs' beds end to end and the narration over them: `[mix]` to keep, `[measure]`
    through ebur128 (its summary on stderr: integrated loudness and true peak, BS.1770)."""
    inputs = [["-i", bed] for bed in beds]
    chains = [f"{''.join(f'[{k}:a:0]' for k in range(len(beds)))}"
              f"concat=n={len(beds)}:v=0:a=1[bed]"]
    chains += _narration(timeline, narrations, inputs)
    chains.append("[bed][narr]amix=inputs=2:normalize=0:duration=longest,asplit[mix][tomeasure]")
    chains.append(f"[tomeasure]{MEASURE}[measure]")
    return FilterGraph(inputs, ";".join(chains), ["[mix]", "[measure]"])


def final_audio(timeline: Timeline, lufs: float, true_peak: float) -> str:
    """The mix at its loudness gain, exactly as long as the timeline (loudnorm, where it is
    needed, works at 192 kHz and may leave a few samples over or under)."""
    total = timeline.sample(timeline.total_frames)
    return (f"{loudness_gain(lufs, true_peak)},{_AUDIO},apad=whole_len={total},"
            f"atrim=end_sample={total}")


def _picture(piece: Piece, fmt: OutputFormat) -> str:
    """The clip's frames from its first, which is `lead` frames into the read, timed from 0
    (the concat filter wants each segment so); a freeze-frame holds its first."""
    steps = ["setpts=PTS-STARTPTS"]
    if piece.convert_fps:
        steps.append(f"fps={fmt.rate}")
    kept = 1 if piece.freeze else piece.frames
    if piece.lead:
        steps += [f"trim=start_frame={piece.lead}:end_frame={piece.lead + kept}",
                  "setpts=PTS-STARTPTS"]
    else:
        steps.append(f"trim=end_frame={kept}")
    if piece.freeze:
        steps.append(f"tpad=stop={piece.frames - 1}:stop_mode=clone")
    return ",".join([*steps, normalize_video(fmt)])


def _fades(samples: int) -> str:
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
