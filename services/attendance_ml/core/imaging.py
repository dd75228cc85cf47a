"""Image intake: base64 or multipart in, upright 8-bit RGB numpy arrays out.

The image field is only ever treated as inline data: never as a path or a URL. The
format is detected from the bytes, the pixel dimensions are checked from the header
before any decoding, and every mode, depth and colour space ends up as 8-bit RGB with
the alpha channel composited over white.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from attendance_ml.core.errors import (
    CorruptImage,
    ImageTooLarge,
    InvalidBase64,
    InvalidRequest,
    MissingImage,
    UnsupportedFormat,
)

ImageFile.LOAD_TRUNCATED_IMAGES = False

SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP")
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+/-]*)(?:;[\w=.-]+)*;base64,", re.I)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*:(?!.*;base64,)", re.I)
_PATH = re.compile(r"^(?:~?/|\.{1,2}[/\\]|[a-z]:\\|\\\\)", re.I)
_WHITESPACE = re.compile(r"\s+")
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class ImageLimits:
    """Limits on one incoming image.

    max_bytes: largest encoded file accepted, in bytes.
    max_pixels: largest width x height accepted, checked from the header.
    """

    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000


def sniff_format(data: bytes) -> str | None:
    """Name the image format from its leading bytes; None if we do not take it."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(b"BM") and len(data) > 26:
        return "BMP"
    return None


def decode_base64_field(text: Any, limits: ImageLimits) -> bytes:
    """The JSON image field as bytes (a data: URL prefix and line breaks allowed)."""
    if not isinstance(text, str):
        raise InvalidBase64("The image field must be a base64 string.")
    text = text.strip()
    if not text:
        raise MissingImage()
    not_inline = InvalidBase64(
        "The image field must hold base64 image data, not a path or a URL."
    )
    if _URL.match(text) and not text.lower().startswith("data:"):
        raise not_inline

    match = _DATA_URL.match(text)
    if match:
        text = text[match.end() :]
    elif text.lower().startswith("data:"):
        raise InvalidBase64("Only base64 data: URLs are accepted.")

    payload = _WHITESPACE.sub("", text)
    if len(payload) * 3 // 4 > limits.max_bytes:
        raise ImageTooLarge(f"The image is over {limits.max_bytes} bytes.")

    payload = payload.replace("-", "+").replace("_", "/")
    payload += "=" * (-len(payload) % 4)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise (not_inline if _PATH.match(text) else InvalidBase64()) from error
    if not data:
        raise MissingImage()
    # Base64 of a JPEG starts with "/9j/", so a leading slash alone proves nothing:
    # only bytes that are no image and text shaped like a path are called a path.
    if sniff_format(data) is None and _PATH.match(text):
        raise not_inline
    return data


def decode_image(data: bytes, limits: ImageLimits) -> np.ndarray:
    """Decode image bytes to an upright HxWx3 uint8 RGB array, enforcing the limits."""
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(f"The image is over {limits.max_bytes} bytes.")
    declared = sniff_format(data)
    if declared is None:
        raise UnsupportedFormat()

    try:
        with warnings.catch_warnings():
            # Our own pixel limit is checked below, from the same header.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[declared])
    except Image.DecompressionBombError as error:
        raise ImageTooLarge("The image has far too many pixels.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise CorruptImage() from error

    width, height = image.size
    if width <= 0 or height <= 0:
        raise CorruptImage()
    if width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"The image is {width}x{height} pixels; the limit is "
            f"{limits.max_pixels} pixels.",
            width=width,
            height=height,
        )

    try:
        image.load()
        image = ImageOps.exif_transpose(image) or image
        return to_rgb_array(image)
    except Image.DecompressionBombError as error:
        raise ImageTooLarge() from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise CorruptImage() from error


def to_rgb_array(image: Image.Image) -> np.ndarray:
    """Normalise any Pillow mode, bit depth or colour profile to 8-bit sRGB."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        image = _scale_to_8bit(image)
    elif image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "CMYK" or image.info.get("icc_profile"):
        image = _to_srgb(image)

    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)

    array = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(array)


def _scale_to_8bit(image: Image.Image) -> Image.Image:
    values = np.asarray(image, dtype=np.float64)
    top = 255.0 if values.max(initial=0) <= 255 else 65535.0
    scaled = np.clip(values * (255.0 / top), 0, 255).astype(np.uint8)
    return Image.fromarray(scaled, mode="L")


def _to_srgb(image: Image.Image) -> Image.Image:
    profile = image.info.get("icc_profile")
    if not profile:
        return image.convert("RGB")
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        output_mode = "RGBA" if "A" in image.mode else "RGB"
        converted = ImageCms.profileToProfile(
            image, source, _SRGB, outputMode=output_mode
        )
        return converted or image
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image.convert("RGB") if image.mode == "CMYK" else image


def read_upload(storage: Any, limits: ImageLimits) -> bytes:
    """Read a multipart file upload, refusing more than the byte limit."""
    data = storage.stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(f"The image is over {limits.max_bytes} bytes.")
    if not data:
        raise MissingImage()
    return data


def image_bytes_from_request(request: Any, limits: ImageLimits) -> bytes:
    """Find the one image of a request: JSON ``image``, or a multipart file or field."""
    if request.files:
        storage = request.files.get("image") or next(iter(request.files.values()))
        return read_upload(storage, limits)
    if request.form and "image" in request.form:
        return decode_base64_field(request.form["image"], limits)

    body = json_body(request)
    if "image" not in body:
        raise MissingImage()
    return decode_base64_field(body["image"], limits)


def image_from_request(request: Any, limits: ImageLimits) -> np.ndarray:
    """Decode the one image of a request to upright 8-bit RGB."""
    return decode_image(image_bytes_from_request(request, limits), limits)


def json_body(request: Any) -> dict[str, Any]:
    """The request's JSON object, or the form fields of a multipart request."""
    if request.form or request.files:
        return dict(request.form)
    body = request.get_json(silent=True)
    if body is None:
        if not request.get_data(cache=True):
            return {}
        raise InvalidRequest("The body must be a JSON object.")
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return body
