"""Image intake: every way a caller can send an image, good or bad."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from attendance_ml.core.errors import (
    CorruptImage,
    ImageTooLarge,
    InvalidBase64,
    MissingImage,
    UnsupportedFormat,
)
from attendance_ml.core.imaging import (
    ImageLimits,
    decode_base64_field,
    decode_image,
    sniff_format,
)
from PIL import Image

LIMITS = ImageLimits(max_bytes=2_000_000, max_pixels=4_000_000)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def gradient(mode: str = "RGB", size=(64, 48)) -> Image.Image:
    x = np.linspace(0, 255, size[0], dtype=np.uint8)
    rgb = np.stack([np.tile(x, (size[1], 1))] * 3, axis=2)
    rgb[..., 1] = 40
    return Image.fromarray(rgb, "RGB").convert(mode)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP"])
def test_supported_formats_decode_to_rgb_uint8(fmt):
    array = decode_image(encode(gradient(), fmt), LIMITS)

    assert array.shape == (48, 64, 3)
    assert array.dtype == np.uint8
    assert sniff_format(encode(gradient(), fmt)) == fmt


def test_gif_and_tiff_are_unsupported():
    for fmt in ("GIF", "TIFF"):
        with pytest.raises(UnsupportedFormat):
            decode_image(encode(gradient(), fmt), LIMITS)


def test_non_image_bytes_are_unsupported():
    with pytest.raises(UnsupportedFormat):
        decode_image(b"%PDF-1.7 this is not an image at all" * 10, LIMITS)


def test_truncated_jpeg_is_corrupt():
    data = encode(gradient(size=(256, 256)), "JPEG", quality=95)
    with pytest.raises(CorruptImage):
        decode_image(data[: len(data) // 2], LIMITS)


def test_truncated_png_is_corrupt():
    data = encode(gradient(size=(256, 256)), "PNG")
    with pytest.raises(CorruptImage):
        decode_image(data[: len(data) - 40], LIMITS)


def test_exif_orientation_is_applied():
    image = gradient(size=(80, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    array = decode_image(encode(image, "JPEG", exif=exif), LIMITS)

    assert array.shape == (80, 40, 3)


def test_transparent_png_is_composited_over_white():
    rgba = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    array = decode_image(encode(rgba, "PNG"), LIMITS)

    assert array.shape == (10, 10, 3)
    assert array[0, 0].tolist() == [255, 255, 255]


def test_half_transparent_pixels_blend_with_white():
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 128))
    array = decode_image(encode(rgba, "PNG"), LIMITS)

    assert 120 <= int(array[0, 0, 0]) <= 135


@pytest.mark.parametrize("mode", ["L", "LA", "P", "1", "CMYK", "I;16"])
def test_every_mode_becomes_rgb(mode):
    if mode == "CMYK":
        data = encode(gradient("CMYK"), "JPEG")
    elif mode == "I;16":
        wide = (np.linspace(0, 65535, 64 * 48).reshape(48, 64)).astype(np.uint16)
        data = encode(Image.fromarray(wide), "PNG")
    else:
        data = encode(gradient(mode), "PNG")
    array = decode_image(data, LIMITS)

    assert array.shape == (48, 64, 3)
    assert array.dtype == np.uint8


def test_sixteen_bit_png_keeps_its_range():
    wide = np.full((8, 8), 65535, dtype=np.uint16)
    array = decode_image(encode(Image.fromarray(wide), "PNG"), LIMITS)

    assert array.max() == 255


def test_palette_png_with_transparency_is_composited():
    image = Image.new("P", (6, 6), 0)
    image.putpalette([0, 0, 255] + [0, 0, 0] * 255)
    array = decode_image(encode(image, "PNG", transparency=0), LIMITS)

    assert array[0, 0].tolist() == [255, 255, 255]


def test_too_many_pixels_is_refused_from_the_header():
    assert tiny_png_claiming(30_000, 30_000)[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ImageTooLarge):
        decode_image(tiny_png_claiming(30_000, 30_000), LIMITS)


def tiny_png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes that declare a gigantic greyscale PNG (a pixel bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows)


def test_too_many_bytes_is_refused():
    with pytest.raises(ImageTooLarge):
        decode_image(b"\xff\xd8\xff" + b"\x00" * LIMITS.max_bytes, LIMITS)


def test_base64_with_data_url_prefix_and_line_breaks():
    data = encode(gradient(), "PNG")
    text = base64.b64encode(data).decode()
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))

    assert decode_base64_field(f"data:image/png;base64,{wrapped}", LIMITS) == data
    assert decode_base64_field(f"  {wrapped}\r\n", LIMITS) == data


def test_declared_type_is_ignored_in_favour_of_the_bytes():
    data = encode(gradient(), "JPEG")
    raw = decode_base64_field(
        "data:image/png;base64," + base64.b64encode(data).decode(), LIMITS
    )

    assert decode_image(raw, LIMITS).shape == (48, 64, 3)


@pytest.mark.parametrize("text", ["not base64 at all!!", "abc$def", "====", "A"])
def test_wrong_base64_is_refused(text):
    with pytest.raises((InvalidBase64, MissingImage)):
        decode_base64_field(text, LIMITS)


@pytest.mark.parametrize(
    "text",
    [
        "/etc/passwd",
        "/etc/hosts",
        "C:\\\\photos\\\\me.jpg",
        "../shared/data/faces/img1.jpg",
        "http://127.0.0.1/photo.jpg",
        "https://example.invalid/a.png",
        "file:///etc/hosts",
        "~/photo.jpg",
    ],
)
def test_paths_and_urls_are_never_followed(text):
    with pytest.raises(InvalidBase64, match="not a path or a URL"):
        decode_base64_field(text, LIMITS)


@pytest.mark.parametrize("value", [None, 42, ["a"], {"b": 1}])
def test_non_string_field_is_refused(value):
    with pytest.raises(InvalidBase64):
        decode_base64_field(value, LIMITS)


def test_empty_field_is_missing_image():
    with pytest.raises(MissingImage):
        decode_base64_field("   ", LIMITS)


def test_jpeg_base64_starting_with_a_slash_is_not_taken_for_a_path():
    data = encode(gradient(), "JPEG")
    text = base64.b64encode(data).decode()

    assert text.startswith("/9j/")
    assert decode_base64_field(text, LIMITS) == data
