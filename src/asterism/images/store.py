"""Content-addressed image files: ``images/ab/cd/<sha256>.<ext>`` plus thumbnails.

The path is a function of the bytes, so the same image from two sources is
stored once and a re-run writes nothing new. Files are written to a temporary
name and renamed into place, so a killed process never leaves half a file
under a real name; files written for records that were never committed are
swept by the ingest pipeline (see ``ingest.pipeline``).
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from asterism.files import atomic_write
from asterism.home import Home


class ContentStore:
    """Originals and their derivatives under one data home."""

    def __init__(self, home: Home, thumb_sizes: dict[str, int], jpeg_quality: int = 85) -> None:
        self.home = home
        self.images = home.images
        self.thumbs = home.thumbs
        self.thumb_sizes = dict(thumb_sizes)
        self.jpeg_quality = jpeg_quality

    @staticmethod
    def _fan(sha256: str) -> Path:
        return Path(sha256[:2]) / sha256[2:4]

    def original_path(self, sha256: str, ext: str) -> Path:
        return self.images / self._fan(sha256) / f"{sha256}.{ext}"

    def thumb_path(self, sha256: str, size_name: str) -> Path:
        return self.thumbs / size_name / self._fan(sha256) / f"{sha256}.jpg"

    def relative(self, path: Path) -> str:
        """The path as the store records it (relative, so homes can move): lexically under the
        home's (resolved) root, where this store builds every path. ``resolve()`` would follow an
        ``images/`` or ``thumbs/`` folder linked to another disk out of the home and refuse it."""
        return str(path.relative_to(self.home.root))

    def write_original(self, sha256: str, ext: str, data: bytes) -> Path:
        path = self.original_path(sha256, ext)
        if not path.exists():
            _atomic_write(path, data)
        return path

    def write_thumbnails(self, sha256: str, image: Image.Image) -> dict[str, str]:
        """One JPEG per configured size (never upscaled); returns {size name: relative path}."""
        out: dict[str, str] = {}
        for name, size in sorted(self.thumb_sizes.items(), key=lambda kv: -kv[1]):
            path = self.thumb_path(sha256, name)
            if not path.exists():
                copy = image
                if max(image.size) > size:  # else ``thumbnail`` would leave it as it is: no copy
                    copy = image.copy()
                    copy.thumbnail((size, size), Image.Resampling.BICUBIC, reducing_gap=2.0)
                buffer = io.BytesIO()
                copy.save(buffer, "JPEG", quality=self.jpeg_quality, optimize=False)
                _atomic_write(path, buffer.getvalue())
            out[name] = self.relative(path)
        return out

    def delete(self, sha256: str) -> int:
        """Remove an image (whatever its extension) and its derivatives; returns files removed."""
        originals = list((self.images / self._fan(sha256)).glob(f"{sha256}.*"))
        removed = 0
        for path in originals + [self.thumb_path(sha256, n) for n in self.thumb_sizes]:
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
        return removed

    def sweep_temporaries(self) -> int:
        """Delete leftover ``.tmp`` files of a killed run."""
        removed = 0
        for root in (self.images, self.thumbs):
            if root.exists():
                for tmp in root.rglob("*.tmp"):
                    tmp.unlink(missing_ok=True)
                    removed += 1
        return removed

    def all_shas(self) -> set[str]:
        """Every original on disk, by sha256 (for audits and tests; walks the tree)."""
        if not self.images.exists():
            return set()
        return {
            p.name.split(".", 1)[0]
            for p in self.images.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        }


def _atomic_write(path: Path, data: bytes) -> None:
    atomic_write(path, lambda temporary: temporary.write_bytes(data), durable=False)
