"""Hostile and odd images: each is rejected with a clear reason or normalised to RGB."""

from __future__ import annotations

import pytest
from PIL import Image

from asterism.images.decode import ImageRejected, decode_image

import imagegen

LIMITS = {"max_pixels": 50_000_000, "max_bytes": 20 * 1024 * 1024}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"this is not an image at all, just text" * 10, "not an image"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "not an image"),
        (imagegen.truncated_jpeg(1), "corrupt or truncated"),
        (imagegen.bomb_png(), "pixels"),
    ],
    ids=["zero-byte", "text", "pdf", "truncated", "bomb"],
)
def test_bad_bytes_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected, match=reason):
        decode_image(data, **LIMITS)


def test_corrupt_jpeg_is_rejected_or_decoded_but_never_crashes() -> None:
    # Overwritten entropy data may still decode (as garbage) or fail: both are fine, a crash is not.
    try:
        decoded = decode_image(imagegen.corrupt_jpeg(2), **LIMITS)
    except ImageRejected as exc:
        assert str(exc)
    else:
        assert decoded.image.mode == "RGB"


def test_oversized_file_is_rejected_before_decoding() -> None:
    with pytest.raises(ImageRejected, match="byte limit"):
        decode_image(imagegen.jpeg(3), max_pixels=10**9, max_bytes=100)


def test_pixel_limit_is_configurable() -> None:
    with pytest.raises(ImageRejected, match="over the 1000-pixel limit"):
        decode_image(imagegen.jpeg(3, (96, 64)), max_pixels=1000, max_bytes=10**9)


def test_cmyk_becomes_rgb() -> None:
    decoded = decode_image(imagegen.cmyk_jpeg(4), **LIMITS)
    assert decoded.image.mode == "RGB"
    assert decoded.mime == "image/jpeg"


def test_16_bit_png_is_scaled_to_8_bit_keeping_contrast() -> None:
    decoded = decode_image(imagegen.png16(5), **LIMITS)
    assert decoded.image.mode == "RGB"
    lo, hi = decoded.image.convert("L").getextrema()
    assert hi - lo > 50, "the 16-bit range must map onto 8 bits, not collapse to black"


def test_animated_gif_keeps_first_frame_and_counts_frames() -> None:
    decoded = decode_image(imagegen.animated_gif(6, frames=3), **LIMITS)
    assert decoded.frames == 3
    assert decoded.image.mode == "RGB"
    assert decoded.image.size == (96, 64)


def test_alpha_is_composited_on_white() -> None:
    decoded = decode_image(imagegen.rgba_png(7), **LIMITS)
    assert decoded.image.mode == "RGB"
    assert min(decoded.image.convert("L").getextrema()) >= 100  # half-transparent over white is light


def test_exif_orientation_is_applied_and_metadata_read() -> None:
    decoded = decode_image(imagegen.rotated_jpeg(8, orientation=6, size=(80, 40)), **LIMITS)
    assert decoded.image.size == (40, 80)
    assert (decoded.width, decoded.height) == (40, 80)
    assert decoded.metadata.get("exif:ImageDescription") == "A test caption"


def test_jpeg_draft_decodes_large_images_smaller_but_reports_true_size() -> None:
    decoded = decode_image(imagegen.jpeg(9, (2000, 1500)), draft_size=256, **LIMITS)
    assert (decoded.width, decoded.height) == (2000, 1500)
    assert max(decoded.image.size) < 2000
    assert min(decoded.image.size) >= 256


def test_decoded_pixels_are_bounded_for_formats_without_a_reduced_decode() -> None:
    """A big PNG costs all its pixels to decode, a big JPEG only its draft: the bound says which."""
    wide = (5000, 4000)  # 20 MP
    png = imagegen.encode(Image.new("RGB", wide, (90, 60, 30)), "PNG")
    with pytest.raises(ImageRejected, match="over the 16000000-pixel limit for a PNG picture"):
        decode_image(png, max_pixels=50_000_000, max_bytes=10**9, max_decoded_pixels=16_000_000)
    # The same size as a JPEG decodes drafted (to 2500 x 2000: a side stays >= 1024), within the bound.
    jpeg = imagegen.encode(Image.new("RGB", wide, (90, 60, 30)), "JPEG")
    decoded = decode_image(
        jpeg, max_pixels=50_000_000, max_bytes=10**9, max_decoded_pixels=16_000_000, draft_size=1024
    )
    assert (decoded.width, decoded.height) == wide
    assert decoded.image.size == (2500, 2000)
    # Without a draft the JPEG would decode whole, and is refused like the PNG.
    with pytest.raises(ImageRejected, match="limit for a JPEG picture"):
        decode_image(jpeg, max_pixels=50_000_000, max_bytes=10**9, max_decoded_pixels=16_000_000)
