"""init(monitor_gym=True): the videos gymnasium's RecordVideo writes are logged as wakelog.Video.

gymnasium's RecordVideo needs moviepy to encode, which is not installed here (it pins an old
Pillow); the wrapper is tested on a recorder that writes the file RecordVideo would write, at the
same place (``<video_folder>/<name>.mp4``) from the same attributes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import wakelog
from tests.conftest import history
from wakelog.integration import gym as gym_integration


@pytest.fixture(autouse=True)
def unpatched() -> Iterator[None]:
    yield
    gym_integration.unpatch()


class FakeRecordVideo:
    """What wakelog relies on of gymnasium ≥ 1.0's RecordVideo: the folder, the name, stop_recording."""

    def __init__(self, folder: Path, video: bytes) -> None:
        self.video_folder = str(folder)
        self._video_name: str | None = "rl-video-episode-0"
        self._video = video

    def stop_recording(self) -> None:
        Path(self.video_folder, f"{self._video_name}.mp4").write_bytes(self._video)
        self._video_name = None


def test_wandbs_key_for_a_recorded_video() -> None:
    assert gym_integration.video_key("/out/openaigym.video.3.1234.video000000.mp4") == "video.3"
    assert gym_integration.video_key("/out/rl-video-episode-0.mp4") == "videos"


def test_monitor_gym_wraps_gymnasiums_record_video() -> None:
    gymnasium = pytest.importorskip("gymnasium")
    original = gymnasium.wrappers.RecordVideo.stop_recording
    run = wakelog.init(mode="offline", monitor_gym=True)
    assert gymnasium.wrappers.RecordVideo.stop_recording is not original
    run.finish()
    gym_integration.unpatch()
    assert gymnasium.wrappers.RecordVideo.stop_recording is original


def test_a_finished_recording_is_logged_as_a_video(tmp_path: Path) -> None:
    imageio = pytest.importorskip("imageio.v3")
    import numpy as np

    movie = tmp_path / "source.mp4"
    imageio.imwrite(movie, np.zeros((4, 16, 16, 3), dtype=np.uint8), fps=4)
    gym_integration.wrap_record_video(FakeRecordVideo)
    run = wakelog.init(mode="offline")
    (tmp_path / "videos").mkdir()
    FakeRecordVideo(tmp_path / "videos", movie.read_bytes()).stop_recording()
    run.finish()
    (row,) = history(run.run_dir)
    assert row["videos"]["_type"] == "video-file"
