"""Detection on the shared real photos (skipped where ../shared/data is absent)."""

from __future__ import annotations

import base64

import pytest

pytestmark = pytest.mark.data

WORN_CARDS = ("PXL_20240320_051402661", "PXL_20240320_051634866")
NO_CARD = ("img1.jpg", "img10.jpg", "img12.jpg")
CLASSROOM = "sample_1_7625_jpg.rf.9152af41b2e5a59765670faace7eee95.jpg"


def post(client, endpoint: str, path, **extra) -> dict:
    image = "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()
    reply = client.post(
        f"/api/object-detection/{endpoint}", json={"image": image, **extra}
    )
    assert reply.status_code == 200
    return reply.get_json()


def labelled_box(image_path) -> tuple[float, float, float, float]:
    """The YOLO label of a 640x640 frame as x1, y1, x2, y2 pixels."""
    label_path = image_path.parent.parent / "labels" / f"{image_path.stem}.txt"
    _, cx, cy, w, h = (float(v) for v in label_path.read_text().split()[:5])
    return (
        (cx - w / 2) * 640,
        (cy - h / 2) * 640,
        (cx + w / 2) * 640,
        (cy + h / 2) * 640,
    )


@pytest.mark.parametrize("name", WORN_CARDS)
def test_worn_card_is_found_inside_its_labelled_box(client, shared_data, name):
    path = next((shared_data / "idcard_lanyard").glob(f"*/images/{name}_*.jpg"))

    body = post(client, "idcard", path)

    assert body["idCardVisible"] is True
    x1, y1, x2, y2 = body["detections"][0]["box"]
    lx1, ly1, lx2, ly2 = labelled_box(path)
    assert lx1 <= (x1 + x2) / 2 <= lx2 and ly1 <= (y1 + y2) / 2 <= ly2


@pytest.mark.parametrize("name", NO_CARD)
def test_portrait_without_card_shows_no_card(client, shared_data, name):
    body = post(client, "idcard", shared_data / "faces" / "deepface_dataset" / name)

    assert (body["idCardVisible"], body["detections"]) == (False, [])


def test_configured_classes_find_the_students_in_a_classroom(client, shared_data):
    path = shared_data / "classroom_phone" / "test" / "images" / CLASSROOM

    body = post(client, "phone", path, labels=["person"], minConfidence=0.3)

    people = body["detections"]
    assert body["labels"] == ["person"]
    assert body["phoneDetected"] is (len(people) > 0)
    assert len(people) >= 3
    for person in people:
        assert person["label"] == "person"
        x1, y1, x2, y2 = person["box"]
        assert 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 640
