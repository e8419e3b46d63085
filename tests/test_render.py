"""`rnnmusic render`: MIDI (and music in other notations) to WAV with the real FluidSynth."""

from __future__ import annotations

import wave

import pytest
from conftest import assert_user_error
from PIL import Image
from viz_helpers import (
    audible_span,
    loudness_between,
    read_wav,
    registered_scale_codec,
    run_with_env,
    write_midi,
)

from rnnmusic.cli import main
from rnnmusic.render import trim_silent_tail


@pytest.fixture
def scale_codec():
    with registered_scale_codec() as codec:
        yield codec


RELEASE_TAIL_S = 1.5  # a piano note rings on after its note-off
MELODY = [(60, 0.0, 1.0), (64, 1.0, 2.0), (67, 2.0, 3.0), (72, 5.0, 6.0)]  # rest from 3 s to 5 s


@pytest.mark.needs("fluidsynth", "soundfont")
def test_render_follows_the_midi_in_time_and_is_audible(cli, tmp_path):
    midi = write_midi(tmp_path / "melody.mid", MELODY)
    result = cli("render", midi, "-o", tmp_path / "melody.wav")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout
    wav = tmp_path / "melody.wav"
    samples, rate = read_wav(wav)
    assert rate == 44100
    start, end = audible_span(wav)
    assert start < 0.1
    assert 6.0 - 0.5 <= end <= 6.0 + 0.5 + RELEASE_TAIL_S, end
    playing = loudness_between(wav, 0.2, 2.8)
    assert playing > 0.005  # RMS floor: clearly audible
    assert loudness_between(wav, 3.8, 4.9) < playing / 100  # the rest is silent
    assert loudness_between(wav, 5.2, 5.8) > playing / 10  # the last note sounds
    # the inaudible reverb tail FluidSynth renders is cut: the file ends soon after the sound
    assert len(samples) / rate < end + 1.0


@pytest.mark.needs("fluidsynth", "soundfont")
def test_a_longer_piece_gives_longer_audio(tmp_path):
    short = write_midi(tmp_path / "short.mid", [(62, 0.0, 1.5)])
    long = write_midi(tmp_path / "long.mid", [(62, i * 0.5, i * 0.5 + 0.5) for i in range(16)])
    assert main(["render", str(short), "-o", str(tmp_path / "short.wav")]) == 0
    assert main(["render", str(long), "-o", str(tmp_path / "long.wav")]) == 0
    _, short_end = audible_span(tmp_path / "short.wav")
    _, long_end = audible_span(tmp_path / "long.wav")
    assert 1.0 <= short_end <= 1.5 + 0.5 + RELEASE_TAIL_S
    assert 7.5 <= long_end <= 8.0 + 0.5 + RELEASE_TAIL_S
    assert long_end - short_end > 5.0


def test_truncated_midi_is_refused_and_nothing_is_written(cli, tmp_path):
    data = write_midi(tmp_path / "whole.mid", MELODY).read_bytes()
    (tmp_path / "cut.mid").write_bytes(data[: len(data) - 12])
    result = cli("render", tmp_path / "cut.mid", "-o", tmp_path / "cut.wav")
    assert_user_error(result, "cut.mid", "truncated")
    assert not (tmp_path / "cut.wav").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mid", "whole.mid"]


def test_junk_with_a_midi_extension_is_refused(cli, tmp_path):
    (tmp_path / "junk.mid").write_bytes(b"\x89PNG\r\n\x1a\n not music at all")
    result = cli("render", tmp_path / "junk.mid", "-o", tmp_path / "junk.wav")
    assert_user_error(result, "junk.mid", "not a MIDI file")
    (tmp_path / "empty.mid").write_bytes(b"")
    result = cli("render", tmp_path / "empty.mid", "-o", tmp_path / "empty.wav")
    assert_user_error(result, "empty.mid", "is empty")
    assert not list(tmp_path.glob("*.wav"))


def test_midi_without_notes_is_refused(cli, tmp_path):
    midi = write_midi(tmp_path / "empty.mid", [])
    result = cli("render", midi, "-o", tmp_path / "empty.wav")
    assert_user_error(result, "no notes")


def test_output_must_be_wav(cli, tmp_path):
    midi = write_midi(tmp_path / "m.mid", MELODY)
    assert_user_error(cli("render", midi, "-o", tmp_path / "m.mp3"), ".wav")


@pytest.mark.needs("fluidsynth")
def test_missing_or_fake_soundfont_says_what_to_do(cli, tmp_path):
    midi = write_midi(tmp_path / "m.mid", MELODY)
    missing = cli("render", midi, "-o", tmp_path / "m.wav", "--soundfont", tmp_path / "no.sf2")
    assert_user_error(missing, "no.sf2", "does not exist", "apt-get install fluid-soundfont-gm")
    (tmp_path / "fake.sf2").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt not a soundfont")
    fake = cli("render", midi, "-o", tmp_path / "m.wav", "--soundfont", tmp_path / "fake.sf2")
    assert_user_error(fake, "fake.sf2", "not a SoundFont")
    assert not (tmp_path / "m.wav").exists()


def test_missing_fluidsynth_says_how_to_install_it(tmp_path):
    midi = write_midi(tmp_path / "m.mid", MELODY)
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    result = run_with_env("render", midi, "-o", tmp_path / "m.wav", env={"PATH": str(empty_path)})
    assert_user_error(result, "FluidSynth is not installed", "apt-get install fluidsynth")


@pytest.mark.needs("fluidsynth", "soundfont")
def test_other_notations_render_through_their_codec(scale_codec, tmp_path, capsys):
    tune = tmp_path / "tunes.notes"
    tune.write_text("c-e-g-C---\n\ng-------\n", encoding="utf-8")  # 2.5 s, then 2 s
    assert main(["render", str(tune), "-o", str(tmp_path / "tune.wav")]) == 0
    out = capsys.readouterr().out
    assert "tune-1.wav" in out and "tune-2.wav" in out
    _, first_end = audible_span(tmp_path / "tune-1.wav")
    _, second_end = audible_span(tmp_path / "tune-2.wav")
    assert 2.0 <= first_end <= 2.5 + 0.5 + RELEASE_TAIL_S
    assert 1.5 <= second_end <= 2.0 + 0.5 + RELEASE_TAIL_S
    assert not list(tmp_path.glob("*.mid"))  # the intermediate MIDI files are gone


def test_a_notation_without_midi_writer_is_a_clear_error(tmp_path, capsys):
    text = tmp_path / "poem.md"
    text.write_text("roses are red\n", encoding="utf-8")
    assert main(["render", str(text), "-o", str(tmp_path / "poem.wav"), "--codec", "text"]) == 2
    err = capsys.readouterr().err
    assert "cannot write MIDI" in err and err.count("\n") == 1


def test_trim_keeps_quiet_endings(tmp_path):
    """A long soft fade-out above -70 dBFS is music, not tail: trimming must keep it."""
    import numpy as np

    rate = 8000
    fade = (np.linspace(0.5, 0.001, rate * 3) * np.sin(np.arange(rate * 3) * 0.3)) * 32767
    silence = np.zeros(rate * 4)
    data = np.concatenate([fade, silence]).astype("<i2")
    path = tmp_path / "fade.wav"
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(data.tobytes())
    seconds = trim_silent_tail(path)
    assert 3.0 <= seconds <= 3.3
    with wave.open(str(path), "rb") as reader:
        assert abs(reader.getnframes() / rate - seconds) < 1e-3


# -- generate --wav --plot ----------------------------------------------------------------------


@pytest.fixture
def scale_run(scale_codec, tmp_path):
    from helpers import tiny_config

    from rnnmusic.train import fit

    motifs = ["c-e-g-C-", "g-f-e-d-c---", "e.e.f.g.", "C-b-a-g-f-e-d-c-", "c.c.g.g.a.a.g---"]
    tunes = [motifs[i % 5] + motifs[(i * 3) % 5] + motifs[(i * 7 + 1) % 5] for i in range(40)]
    corpus = tmp_path / "tunes.notes"
    corpus.write_text("\n\n".join(tunes) + "\n", encoding="utf-8")
    config = tiny_config(corpus, tmp_path / "run", codec="scale", max_steps=30, eval_every=30)
    return fit(config).run_dir


@pytest.mark.needs("fluidsynth", "soundfont")
def test_generate_renders_and_plots_each_sample(scale_run, tmp_path, capsys):
    import pretty_midi

    from rnnmusic.plots import ROLL_HEIGHT_PX, roll_width

    out = tmp_path / "samples" / "song.mid"
    argv = ["generate", str(scale_run), "-o", str(out), "--num", "2", "--prime", "c-e-"]
    assert main([*argv, "--length", "30", "--seed", "3", "--wav", "--plot"]) == 0
    printed = capsys.readouterr().out
    for number in (1, 2):
        midi = out.with_name(f"song-{number}.mid")
        wav, png = midi.with_suffix(".wav"), midi.with_suffix(".png")
        assert f"wrote {wav}" in printed and f"wrote {png}" in printed
        end = pretty_midi.PrettyMIDI(str(midi)).get_end_time()
        _, audible_end = audible_span(wav)
        assert end - 0.5 <= audible_end <= end + 0.5 + RELEASE_TAIL_S
        with Image.open(png) as image:
            assert image.size == (roll_width(end), ROLL_HEIGHT_PX)


@pytest.mark.needs("fluidsynth", "soundfont")
def test_generate_media_for_samples_in_another_notation(scale_run, tmp_path, capsys):
    out = tmp_path / "out" / "tune.notes"
    argv = ["generate", str(scale_run), "-o", str(out), "--prime", "g-", "--length", "20"]
    assert main([*argv, "--seed", "1", "--wav", "--plot"]) == 0
    assert out.is_file() and out.with_suffix(".wav").is_file() and out.with_suffix(".png").is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["tune.notes", "tune.png", "tune.wav"]


@pytest.mark.slow
def test_generate_wav_refuses_early_what_it_cannot_do(tmp_path, cli):
    from helpers import counting_corpus, tiny_config

    from rnnmusic.train import fit

    corpus = counting_corpus(tmp_path / "count.txt", pieces=20)
    run = fit(tiny_config(corpus, tmp_path / "run", max_steps=5, eval_every=5)).run_dir
    result = cli("generate", run, "-o", tmp_path / "s.txt", "--wav")
    assert_user_error(result, "text codec cannot write MIDI")
    assert not (tmp_path / "s.txt").exists()  # refused before sampling
    assert_user_error(cli("generate", run, "--plot"), "give -o OUT")
