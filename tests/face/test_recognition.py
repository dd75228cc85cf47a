"""Enrolment and verification on real photos (LFW identities from the shared set)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from attendance_ml.face.app import create_app
from tests_face_support import b64_array, b64_file, face_environ, load_rgb

pytestmark = pytest.mark.data

ENROLLED = ("Abdullah_Gul", "Angelina_Jolie", "Bill_Simon")


def register(client, student_id, paths, **extra):
    return client.post(
        "/api/face/register",
        json={"studentId": student_id, "images": [b64_file(p) for p in paths], **extra},
    )


@pytest.fixture(scope="module")
def enrolled_client(face_app, lfw):
    client = face_app.test_client()
    for person in ENROLLED:
        response = register(client, person, lfw[person][:3])
        assert response.status_code == 201, response.get_json()
    return client


def test_enrolled_student_is_identified_from_an_unseen_photo(enrolled_client, lfw):
    for person in ENROLLED:
        response = enrolled_client.post(
            "/api/face/verify", json={"image": b64_file(lfw[person][4])}
        )
        body = response.get_json()

        assert response.status_code == 200
        assert body["success"] is True
        assert body["studentId"] == person
        assert body["distance"] <= body["threshold"]
        assert body["margin"] > 0
        assert body["mode"] == "1:N"


def test_one_to_one_verification_matches_and_mismatches(enrolled_client, lfw):
    same = enrolled_client.post(
        "/api/face/verify",
        json={"studentId": "Bill_Simon", "image": b64_file(lfw["Bill_Simon"][3])},
    ).get_json()
    other = enrolled_client.post(
        "/api/face/verify",
        json={"studentId": "Bill_Simon", "image": b64_file(lfw["Angelina_Jolie"][3])},
    ).get_json()

    assert same["success"] is True and same["verified"] is True
    assert other["success"] is False and other["verified"] is False
    assert other["studentId"] is None
    assert other["code"] == "face_mismatch"
    assert other["reason"] in ("different_face", "closer_to_another_student")


def test_non_enrolled_people_are_unknown_never_the_nearest(enrolled_client, lfw):
    strangers = [name for name in lfw if name not in ENROLLED]
    for person in strangers:
        for path in lfw[person][:2]:
            response = enrolled_client.post(
                "/api/face/verify", json={"image": b64_file(path)}
            )
            body = response.get_json()
            if response.status_code != 200:
                assert body["code"] in ("multiple_faces", "no_face", "face_too_small")
                continue
            assert body["success"] is False, (person, body)
            assert body["studentId"] is None
            assert body["code"] == "face_not_recognised"


def test_photo_of_a_wall_never_matches(enrolled_client):
    rng = np.random.default_rng(7)
    wall = (rng.normal(150, 12, (480, 640, 3))).clip(0, 255).astype(np.uint8)

    response = enrolled_client.post("/api/face/verify", json={"image": b64_array(wall)})

    assert response.status_code == 422
    assert response.get_json()["code"] == "no_face"


def test_same_face_under_another_student_is_refused_unless_forced(enrolled_client, lfw):
    photo = lfw["Angelina_Jolie"][4]
    refused = register(enrolled_client, "impostor-1", [photo])
    forced = register(enrolled_client, "impostor-1", [photo], force=True)

    assert refused.status_code == 409
    assert refused.get_json()["code"] == "face_already_enrolled"
    assert refused.get_json()["details"]["existingStudentId"] == "Angelina_Jolie"
    assert forced.status_code == 201
    enrolled_client.delete("/api/face/students/impostor-1")


def test_photos_of_two_people_in_one_enrolment_are_refused(enrolled_client, lfw):
    response = register(
        enrolled_client,
        "mixed",
        [lfw["Bill_Simon"][4], lfw["Angelina_Jolie"][4]],
    )

    assert response.status_code in (409, 422)
    assert response.get_json()["code"] in (
        "inconsistent_faces",
        "face_already_enrolled",
    )
    assert enrolled_client.get("/api/face/students/mixed").status_code == 404


def test_two_people_side_by_side_cannot_verify(enrolled_client, lfw):
    left = load_rgb(lfw["Bill_Simon"][3])
    right = load_rgb(lfw["Abdullah_Gul"][3])
    pair = np.concatenate([left, right], axis=1)

    response = enrolled_client.post(
        "/api/face/verify", json={"studentId": "Bill_Simon", "image": b64_array(pair)}
    )

    assert response.status_code == 422
    assert response.get_json()["code"] == "multiple_faces"


def test_failed_registration_leaves_the_gallery_unchanged(enrolled_client, lfw):
    before = enrolled_client.get("/api/face/students/Bill_Simon").get_json()
    wall = np.full((300, 300, 3), 90, dtype=np.uint8)

    response = enrolled_client.post(
        "/api/face/register",
        json={
            "studentId": "Bill_Simon",
            "images": [b64_file(lfw["Bill_Simon"][4]), b64_array(wall)],
        },
    )
    after = enrolled_client.get("/api/face/students/Bill_Simon").get_json()

    assert response.status_code == 422
    assert response.get_json()["details"]["imageIndex"] == 1
    assert after["embeddingCount"] == before["embeddingCount"]


def test_parallel_verifications_each_get_their_own_answer(enrolled_client, lfw):
    jobs = [(person, lfw[person][4]) for person in ENROLLED] * 4

    def verify(job):
        person, path = job
        body = enrolled_client.post(
            "/api/face/verify", json={"image": b64_file(path)}
        ).get_json()
        return person, body["studentId"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(verify, jobs))

    assert all(expected == got for expected, got in results)


def test_gallery_survives_a_restart_and_erasure_removes_everything(tmp_path, lfw):
    first = create_app(face_environ(tmp_path))
    client = first.test_client()
    assert register(client, "Bill_Simon", lfw["Bill_Simon"][:2]).status_code == 201
    first.extensions["face_service"].recognizer.gallery.close()

    second = create_app(face_environ(tmp_path))
    client = second.test_client()
    probe = {"image": b64_file(lfw["Bill_Simon"][4])}
    assert client.post("/api/face/verify", json=probe).get_json()["studentId"] == (
        "Bill_Simon"
    )

    erased = client.delete("/api/face/students/Bill_Simon")
    assert erased.get_json()["embeddingsRemoved"] == 2
    assert client.post("/api/face/verify", json=probe).get_json()["studentId"] is None
    second.extensions["face_service"].recognizer.gallery.close()

    third = create_app(face_environ(tmp_path))
    assert third.test_client().get("/api/face/students").get_json()["total"] == 0
    gallery = third.extensions["face_service"].recognizer.gallery
    assert gallery.load_embeddings().student_ids == []
    gallery.close()


def test_a_photo_that_verifies_as_a_student_cannot_enrol_someone_else(
    enrolled_client, lfw
):
    # Any unseen photo of an enrolled student, under a new id: if it would pass 1:1
    # verification as that student, it must be refused (or that student's own
    # verification would start failing as "closer to another student").
    for person in ENROLLED:
        photo = lfw[person][3]
        check = enrolled_client.post(
            "/api/face/verify", json={"studentId": person, "image": b64_file(photo)}
        ).get_json()
        if not check["verified"]:
            continue
        response = register(enrolled_client, f"copy-of-{person}", [photo])
        assert response.status_code == 409, (person, response.get_json())
        assert response.get_json()["details"]["existingStudentId"] == person
