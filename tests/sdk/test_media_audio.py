"""wakelog.Audio: samples written as 16-bit PCM WAV (as wandb, through soundfile), and audio files."""

from __future__ import annotations

import io
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from wakelog.sdk.media import Audio

soundfile = pytest.importorskip("soundfile")


def test_samples_are_pcm16_wav(tmp_path: Path) -> None:
    samples = np.sin(np.linspace(0, 200, 8000)).astype(np.float32) * 0.5
    audio = Audio(samples, sample_rate=8000, caption="tone")
    assert (audio.sample_rate, audio.duration) == (8000, 1.0)
    stub = audio.to_stub(tmp_path, "sound", 2)
    assert set(stub) == {"_type", "path", "sha256", "size", "caption"}
    assert stub["_type"] == "audio-file" and stub["caption"] == "tone"
    assert stub["path"].startswith("media/audio/sound_2_") and stub["path"].endswith(".wav")
    raw = (tmp_path / "files" / stub["path"]).read_bytes()
    assert raw[:4] == b"RIFF" and raw[8:16] == b"WAVEfmt "
    fmt, channels, rate, _, _, bits = struct.unpack("<HHIIHH", raw[20:36])
    assert (fmt, channels, rate, bits) == (1, 1, 8000, 16)  # PCM, mono, 16-bit
    # byte for byte what wandb writes: soundfile.write(path.wav, data, sample_rate)
    reference = tmp_path / "reference.wav"
    soundfile.write(reference, samples, 8000)
    assert raw == reference.read_bytes()
    back, rate = soundfile.read(io.BytesIO(raw), dtype="int16")
    assert np.abs(back - samples * 32768).max() <= 1  # libsndfile scales by 2 ** 15


def test_stereo_and_integer_samples(tmp_path: Path) -> None:
    samples = np.array([[0, 1000], [-1000, 32767], [5, -5]], dtype=np.int16)
    stub = Audio(samples, sample_rate=44100).to_stub(tmp_path, "s", 0)
    back, rate = soundfile.read(tmp_path / "files" / stub["path"], dtype="int16")
    assert rate == 44100
    np.testing.assert_array_equal(back, samples)


def test_samples_are_copied(tmp_path: Path) -> None:
    samples = np.full(100, 0.25)
    audio = Audio(samples, sample_rate=100)
    samples[:] = 0
    back, _ = soundfile.read(tmp_path / "files" / audio.to_stub(tmp_path, "c", 0)["path"])
    assert np.allclose(back, 0.25, atol=1e-4)


def test_files_keep_their_bytes_and_extension(tmp_path: Path) -> None:
    clip = tmp_path / "clip.MP3"
    clip.write_bytes(b"ID3 not really mp3")
    stub = Audio(clip, caption="c").to_stub(tmp_path, "f", 0)
    assert stub["path"].endswith(".mp3") and stub["caption"] == "c"
    assert (tmp_path / "files" / stub["path"]).read_bytes() == b"ID3 not really mp3"
    assert Audio(str(clip)).duration is None


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((np.zeros(10),), {}, ValueError, "needs sample_rate="),
        ((np.zeros(10),), {"sample_rate": 0}, ValueError, "sample_rate must be a positive int"),
        ((np.zeros(10),), {"sample_rate": 8000.5}, ValueError, "sample_rate must be a positive int"),
        ((np.zeros((2, 2, 2)),), {"sample_rate": 8000}, ValueError, "shape \\(2, 2, 2\\)"),
        ((np.zeros(0),), {"sample_rate": 8000}, ValueError, "shape \\(0,\\)"),
        ((np.array(["a"]),), {"sample_rate": 8000}, TypeError, "integers or floats"),
        ((np.zeros(3),), {"sample_rate": 8, "caption": 1}, TypeError, "caption must be a str"),
        (("nope.wav",), {}, FileNotFoundError, "nope.wav"),
    ],
)
def test_refusals_name_the_problem(args: tuple, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        Audio(*args, **kwargs)


def test_missing_soundfile_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "soundfile", None)  # as if not installed
    with pytest.raises(ImportError, match=r"wakelog\[media\]"):
        Audio(np.zeros(4), sample_rate=8000)
