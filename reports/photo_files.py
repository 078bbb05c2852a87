"""Report photos on disk: bytes checked (JPEG or PNG by their magic numbers, a size cap, a pixel cap),
decoded and written again without any metadata (EXIF, GPS included), with a JPEG thumbnail, under
REPORT_MEDIA_DIR with random names. The file names are kept in `report_photos`."""

from __future__ import annotations

import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from storage.db import private_dir

MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
THUMB_SIDE = 320
SUFFIX = {"image/jpeg": ".jpg", "image/png": ".png"}


class PhotoRejected(ValueError):
    """Bytes that are not a photo the service keeps (the message says why, Japanese first)."""


@dataclass(frozen=True)
class StoredPhoto:
    file_name: str
    thumb_name: str
    media_type: str
    size: int


def media_type_of(data: bytes) -> str | None:
    """ "image/jpeg" or "image/png" by the first bytes, else None."""
    return next((kind for magic, kind in MAGIC.items() if data.startswith(magic)), None)


def check(data: bytes, max_bytes: int) -> str:
    """The media type of acceptable bytes; raises `PhotoRejected` otherwise."""
    if len(data) > max_bytes:
        raise PhotoRejected(
            f"写真が大きすぎます({max_bytes // 1024 // 1024} MB まで)/ photo larger than {max_bytes} bytes"
        )
    kind = media_type_of(data)
    if kind is None:
        raise PhotoRejected("JPEG または PNG の写真を送ってください / the photo must be JPEG or PNG")
    return kind


def clean(data: bytes, kind: str) -> tuple[bytes, bytes]:
    """The photo re-encoded without metadata (turned upright first, as its EXIF orientation says) and
    its thumbnail (JPEG). Raises `PhotoRejected` for bytes Pillow cannot read or too many pixels."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise PhotoRejected("写真の画素数が多すぎます / the photo has too many pixels")
            upright = ImageOps.exif_transpose(img)
            upright.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, PhotoRejected):
            raise
        raise PhotoRejected("写真を読み取れません / the photo cannot be read") from None
    # a new image from the pixels only: no EXIF, no XMP, no PNG text chunks survive
    pixels = upright.convert("RGBA" if kind == "image/png" and "A" in upright.getbands() else "RGB")
    out = io.BytesIO()
    if kind == "image/png":
        pixels.save(out, format="PNG", optimize=False)
    else:
        pixels.save(out, format="JPEG", quality=85)
    thumb = pixels.convert("RGB")
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    small = io.BytesIO()
    thumb.save(small, format="JPEG", quality=80)
    return out.getvalue(), small.getvalue()


def store(media_dir: Path, data: bytes, max_bytes: int) -> StoredPhoto:
    """Check, clean and write a photo and its thumbnail; raises `PhotoRejected`."""
    kind = check(data, max_bytes)
    photo, thumb = clean(data, kind)
    private_dir(media_dir)
    stem = secrets.token_hex(16)
    name, thumb_name = stem + SUFFIX[kind], stem + "_t.jpg"
    _write(media_dir / name, photo)
    _write(media_dir / thumb_name, thumb)
    return StoredPhoto(name, thumb_name, kind, len(photo))


def _write(path: Path, data: bytes) -> None:
    """Write a file readable by the service's user only, atomically (a crash leaves no half file)."""
    tmp = path.with_suffix(path.suffix + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def path_of(media_dir: Path, name: str) -> Path | None:
    """The file of a stored name, or None for anything that is not one of ours (no path tricks)."""
    stem, dot, suffix = name.partition(".")
    if not dot or suffix not in ("jpg", "png") or len(stem) not in (32, 34):
        return None
    if not all(c in "0123456789abcdef_t" for c in stem):
        return None
    path = media_dir / name
    return path if path.is_file() else None


def remove(media_dir: Path, *names: str | None) -> None:
    for name in names:
        path = path_of(media_dir, name) if name else None
        if path is not None:
            path.unlink(missing_ok=True)
