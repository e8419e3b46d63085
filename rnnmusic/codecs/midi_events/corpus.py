"""The built-in corpus `bach-chorales`: the chorale harmonisations that ship inside music21 as
MusicXML, converted to MIDI once (in parallel, about 30 CPU-seconds) into the user's cache folder.

A pickup (anacrusis) gets a short first bar in the MIDI file, so the bar lines of the text fall
where Bach's do rather than one beat early.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import shutil
import sys
import warnings
from fractions import Fraction
from pathlib import Path

from rnnmusic.codecs.base import Source
from rnnmusic.codecs.midi_events.score_midi import has_endings, score_to_midi
from rnnmusic.errors import CorpusError
from rnnmusic.paths import cache_dir, music21_corpus_dir
from rnnmusic.progress import progress_bar

NAME = "bach-chorales"
CONVERTER_VERSION = 2  # raise when the conversion changes, so caches are rebuilt
SECONDS_PER_CHORALE = 0.1  # music21's parse + score_midi on one core (measured: 0.065 s)
NOT_CHORALES = {"bwv846"}  # the C major prelude and fugue, shipped in the same folder


def chorale_scores() -> list[Path]:
    """The chorale files music21 ships (MusicXML; a Humdrum copy of the same chorale is left
    out)."""
    folder = music21_corpus_dir() / "bach"
    found = [p for p in folder.iterdir() if p.suffix in (".mxl", ".xml", ".krn")]
    stems_with_xml = {p.stem for p in found if p.suffix != ".krn"}
    return sorted(
        p
        for p in found
        if p.stem not in NOT_CHORALES and (p.suffix != ".krn" or p.stem not in stems_with_xml)
    )


def convert_chorale(source: Path, target: Path) -> None:
    """One chorale as a MIDI file: music21 parses the score, `score_midi` writes it (music21's
    own export, which is four times slower, only for scores with first and second endings);
    the pickup gets its own short bar."""
    from music21 import converter, stream

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # no pickle of the score in music21's scratch folder: writing it doubles the cost
        score = converter.parse(source, forceSource=True, storePickle=False)
        midi = _exported_by_music21(score) if has_endings(score) else score_to_midi(score)
    measures = score.parts[0].getElementsByClass(stream.Measure) if score.parts else []
    if measures and 0 < measures[0].paddingLeft < measures[0].barDuration.quarterLength:
        pickup = Fraction(measures[0].barDuration.quarterLength - measures[0].paddingLeft)
        _give_pickup_its_bar(midi, pickup)
    midi.save(str(target))


def _exported_by_music21(score):
    import mido
    from music21.midi.translate import streamToMidiFile

    return mido.MidiFile(file=io.BytesIO(streamToMidiFile(score).writestr()))


def _give_pickup_its_bar(midi, pickup: Fraction) -> None:
    """Meter of the pickup at tick 0, the piece's own meter where the first full bar starts."""
    conductor = midi.tracks[0]
    tick, first = 0, None
    for message in conductor:
        tick += message.time
        if message.type == "time_signature" and tick == 0:
            first = message
            break
    if first is None:
        return
    denominator = 4
    while (pickup * denominator / 4).denominator != 1 and denominator < 64:
        denominator *= 2
    numerator = pickup * denominator / 4
    if numerator.denominator != 1:
        return
    index = conductor.index(first)
    conductor[index] = first.copy(numerator=int(numerator), denominator=denominator)
    absolute, tick = [], 0
    for message in conductor:
        tick += message.time
        absolute.append((tick, message))
    bar = int(pickup * midi.ticks_per_beat)
    absolute.append((bar, first.copy()))
    absolute.sort(key=lambda item: (item[0], item[1].type == "end_of_track"))
    conductor.clear()
    previous = 0
    for tick, message in absolute:
        conductor.append(message.copy(time=tick - previous))
        previous = tick


def _convert_one(job: tuple[Path, Path]) -> tuple[Path, str | None]:
    source, target = job
    try:
        convert_chorale(source, target)
    except Exception as exc:  # music21 raises many types on scores it cannot read
        return source, f"{type(exc).__name__}: {str(exc)[:160]}"
    return source, None


def convert_chorales(
    sources: list[Path], folder: Path, jobs: int | None = None, progress: bool = True
) -> dict[str, str]:
    """Convert into `folder` in worker processes; returns {file name: reason} of the failures."""
    import music21  # noqa: F401  (imported once here, inherited by forked workers)

    folder.mkdir(parents=True, exist_ok=True)
    work = [(s, folder / f"{s.stem}.mid") for s in sources]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(work)))
    failed: dict[str, str] = {}
    bar = progress_bar(len(work), "Bach chorales → MIDI", "chorale", enabled=progress)
    try:
        if jobs == 1:
            results = map(_convert_one, work)
            for source, reason in results:
                if reason:
                    failed[source.name] = reason
                bar.update()
        else:
            ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
            with ctx.Pool(jobs) as pool:
                for source, reason in pool.imap_unordered(_convert_one, work, chunksize=4):
                    if reason:
                        failed[source.name] = reason
                    bar.update()
    finally:
        bar.close()
    return failed


def _manifest() -> dict:
    import music21

    return {"converter": CONVERTER_VERSION, "music21": music21.__version__}


def chorale_midi_files() -> list[Path]:
    """The converted chorales, converting them on first use (atomically: a half-built folder
    is never taken for a finished one)."""
    target = cache_dir() / "sources" / NAME
    manifest_path = target / "manifest.json"
    expected = _manifest()
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
        if {k: manifest.get(k) for k in expected} == expected:
            return sorted(target.glob("*.mid"))
    sources = chorale_scores()
    if not sources:
        raise CorpusError(f"music21's corpus holds no Bach chorales under {music21_corpus_dir()}")
    cores = os.cpu_count() or 1
    print(
        f"converting {len(sources)} Bach chorales to MIDI, once: about "
        f"{len(sources) * SECONDS_PER_CHORALE:.0f} CPU-seconds spread over {cores} "
        f"core{'s' if cores > 1 else ''} (cached in {target})",
        flush=True,
    )
    work = target.with_name(f"{NAME}.tmp-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    failed = convert_chorales(sources, work)
    converted = len(sources) - len(failed)
    if converted == 0:
        shutil.rmtree(work, ignore_errors=True)
        raise CorpusError(f"music21 could read none of the {len(sources)} Bach chorales")
    for name, reason in sorted(failed.items()):
        print(f"  skipped {name}: music21 cannot read it ({reason})", file=sys.stderr)
    manifest = {**expected, "converted": converted, "skipped": failed}
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    _install(work, target)
    return sorted(target.glob("*.mid"))


def _install(work: Path, target: Path) -> None:
    """Move the finished folder into place; a folder another process finished first wins."""
    old = target.with_name(f"{NAME}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(work, target)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


BACH_CHORALES = Source(
    name=NAME,
    description="Bach's four-part chorale harmonisations from music21's corpus, as MIDI "
    "(converted once into the cache)",
    licence="public domain music; music21 corpus encodings (BSD)",
    codecs=("midi-events",),
    files=chorale_midi_files,
    raw_files=chorale_scores,
)
