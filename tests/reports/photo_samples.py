"""Photos for report tests: a JPEG carrying EXIF (with GPS), a PNG, and bytes that only pretend."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def jpeg_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG whose EXIF names a camera and a GPS position."""
    img = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[GPS_IFD] = {1: "N", 2: (34.0, 45.0, 50.0), 3: "E", 4: (135.0, 31.0, 0.0)}
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


FAKE_JPEG = b"\xff\xd8\xff" + b"not really a jpeg" * 10
GIF = b"GIF89a" + b"\x00" * 40
