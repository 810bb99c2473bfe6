"""Small images made by the tests, some carrying the metadata uploads must lose."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def png(width: int = 4, height: int = 3, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A plain PNG without metadata."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def jpeg_with_location(width: int = 8, height: int = 4, orientation: int = 1) -> bytes:
    """A JPEG whose EXIF says where it was taken (GPS), by which camera, and how to turn it."""
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 30.0)
    gps[3] = "E"
    gps[4] = (2.0, 17.0, 40.0)
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def location_of(data: bytes) -> dict[int, object]:
    """The GPS tags of an image's EXIF (empty when it has none)."""
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(GPS_IFD))
