"""Report photos: accepted by their bytes only, stored without metadata, with a thumbnail."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from reports import photo_files
from tests.reports.photo_samples import FAKE_JPEG, GIF, GPS_IFD, jpeg_with_gps, png


def test_jpeg_is_stored_without_exif_and_with_a_thumbnail(tmp_path: Path) -> None:
    original = jpeg_with_gps((800, 600))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the sample carries GPS
    stored = photo_files.store(tmp_path, original, 1_000_000)
    assert stored.media_type == "image/jpeg" and stored.file_name.endswith(".jpg")
    saved = tmp_path / stored.file_name
    assert (saved.stat().st_mode & 0o777) == 0o600
    with Image.open(saved) as img:
        assert img.size == (800, 600)
        assert len(img.getexif()) == 0
        assert "exif" not in img.info
    with Image.open(tmp_path / stored.thumb_name) as thumb:
        assert max(thumb.size) == photo_files.THUMB_SIDE
    assert photo_files.path_of(tmp_path, stored.file_name) == saved


def test_png_stays_png(tmp_path: Path) -> None:
    stored = photo_files.store(tmp_path, png(), 1_000_000)
    assert stored.media_type == "image/png"
    assert (tmp_path / stored.file_name).read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("data", "cap", "why"),
    [
        (GIF, 1_000_000, "JPEG または PNG"),
        (b"", 1_000_000, "JPEG または PNG"),
        (FAKE_JPEG, 1_000_000, "読み取れません"),
        (jpeg_with_gps(), 100, "大きすぎます"),
    ],
)
def test_what_is_refused(tmp_path: Path, data: bytes, cap: int, why: str) -> None:
    with pytest.raises(photo_files.PhotoRejected, match=why):
        photo_files.store(tmp_path / "media", data, cap)
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").iterdir())


@pytest.mark.parametrize("name", ["../secret.jpg", "a.jpg", "x" * 32 + ".gif", "", "0" * 32])
def test_path_of_refuses_names_that_are_not_ours(tmp_path: Path, name: str) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x")
    assert photo_files.path_of(tmp_path, name) is None
