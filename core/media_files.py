"""Media files: what a downloaded file really is, where a photo says it was taken, and the copy staff see.

`inspect(data, announced, allowed)` checks a download against the type allowlist by its bytes (the
announced type is only a hint: a `text/html` page announced as `image/jpeg` is refused), decodes
images fully (a truncated or corrupt photo is refused), reads the EXIF GPS position, and returns the
copy to keep: a JPEG with its metadata segments (EXIF, XMP, comments) cut out losslessly, or another
image re-encoded without metadata. `store(media_dir, kept)` writes it under its content hash, so the
same photo sent twice is stored once.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from core.config import DEFAULT_MEDIA_TYPES

DEFAULT_ALLOWED_TYPES = DEFAULT_MEDIA_TYPES
"""Images, audio (WhatsApp voice notes are OGG/Opus) and PDF."""

EXTENSIONS = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif",
    "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/amr": ".amr", "audio/mp4": ".m4a", "audio/aac": ".aac",
    "application/pdf": ".pdf",
}  # fmt: skip

MAX_PIXELS = 60_000_000
"""Larger images are refused rather than decoded (a decompression bomb)."""

GPS_IFD = 0x8825
ORIENTATION = 0x0112


class MediaRejected(ValueError):
    """The file is not kept; `reason` is `wrong_type` or `damaged`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class KeptMedia:
    """The copy to store and what was learnt from the file."""

    content: bytes
    content_type: str
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class StoredMedia:
    """Where a file is stored, its size and its sha256 (of the stored bytes, which name it)."""

    path: str
    size: int
    sha256: str
    created: bool


def sniff(data: bytes, announced: str = "") -> str | None:
    """The content type the bytes show (by their signature), or None when they match no allowed kind."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF2):
        return "audio/mpeg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp" and announced.startswith("audio/"):
        return "audio/mp4"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "audio/aac"
    return None


def inspect(data: bytes, announced: str, allowed: tuple[str, ...] = DEFAULT_ALLOWED_TYPES) -> KeptMedia:
    """The copy of `data` to keep, or `MediaRejected` (wrong type, damaged image)."""
    announced = announced.split(";", 1)[0].strip().lower()
    if announced.startswith("text/"):
        raise MediaRejected("wrong_type", f"announced as {announced}")
    actual = sniff(data, announced)
    if actual is None or actual not in allowed:
        raise MediaRejected("wrong_type", f"announced {announced or 'nothing'}, the bytes are {actual or 'unknown'}")
    if not actual.startswith("image/"):
        return KeptMedia(data, actual)
    return _image(data, actual)


def _image(data: bytes, content_type: str) -> KeptMedia:
    """Decode the whole image (refusing truncated or corrupt ones), read its GPS, drop its metadata."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise MediaRejected("damaged", f"{image.width}x{image.height} pixels is too many")
            image.load()
    except MediaRejected:
        raise
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise MediaRejected("damaged", f"the image cannot be read: {exc}") from exc
    exif = image.getexif()
    lat, lon = gps_position(exif)
    if content_type == "image/jpeg" and exif.get(ORIENTATION, 1) in (None, 1):
        return KeptMedia(strip_jpeg(data), content_type, lat, lon)
    return KeptMedia(_reencoded(image, content_type), content_type, lat, lon)


def _reencoded(image: Image.Image, content_type: str) -> bytes:
    """The image saved again without metadata (upright when EXIF said it was turned)."""
    upright = ImageOps.exif_transpose(image) or image
    out = io.BytesIO()
    fmt = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}[content_type]
    options: dict[str, Any] = {"quality": 92} if fmt in ("JPEG", "WEBP") else {}
    if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    upright.save(out, fmt, **options)
    return out.getvalue()


_KEEP_SEGMENTS = {0xE0, 0xE2, 0xEE}
"""APP segments kept in a JPEG: JFIF, the ICC colour profile, Adobe colour info. EXIF and XMP (APP1),
other APPn and comments (COM) go."""


def strip_jpeg(data: bytes) -> bytes:
    """The JPEG without its metadata segments; the image data itself is copied byte for byte."""
    out = bytearray(data[:2])
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise MediaRejected("damaged", "JPEG segment marker expected")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is image data
            out.extend(data[pos:])
            return bytes(out)
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        is_metadata = (0xE1 <= marker <= 0xEF and marker not in _KEEP_SEGMENTS) or marker == 0xFE
        if not is_metadata:
            out.extend(data[pos:end])
        pos = end
    raise MediaRejected("damaged", "JPEG without image data")


def _degrees(value: Any) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals."""
    try:
        d, m, s = (float(Fraction(str(part))) if not isinstance(part, (int, float)) else float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return d + m / 60 + s / 3600


def gps_position(exif: Image.Exif) -> tuple[float | None, float | None]:
    """The (lat, lon) a photo's EXIF GPS block gives, or (None, None)."""
    try:
        gps = exif.get_ifd(GPS_IFD)
    except (KeyError, ValueError, TypeError):
        return None, None
    if not gps or 2 not in gps or 4 not in gps:
        return None, None
    lat, lon = _degrees(gps[2]), _degrees(gps[4])
    if lat is None or lon is None:
        return None, None
    if str(gps.get(1, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(3, "E")).upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None
    return round(lat, 6), round(lon, 6)


def located(media_dir: str | Path, stored_path: str) -> Path:
    """Where a stored file is: its recorded path, relative to the media folder unless absolute."""
    path = Path(stored_path)
    return path if path.is_absolute() else Path(media_dir) / path


def store(media_dir: str | Path, kept: KeptMedia) -> StoredMedia:
    """Write the kept copy as `{media_dir}/{sha[:2]}/{sha}{ext}` (once: the same bytes are stored once)."""
    digest = hashlib.sha256(kept.content).hexdigest()
    folder = Path(media_dir) / digest[:2]
    path = folder / f"{digest}{EXTENSIONS.get(kept.content_type, '.bin')}"
    if path.exists() and path.stat().st_size == len(kept.content):
        return StoredMedia(str(path), len(kept.content), digest, created=False)
    folder.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(kept.content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return StoredMedia(str(path), len(kept.content), digest, created=True)
