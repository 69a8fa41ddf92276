"""Cloud storage sync against a real S3 endpoint (moto's server on 127.0.0.1): incremental and
idempotent by key and ETag, images by reference with presigned links made on demand, rows through
the importers, labels and exports written to a target bucket, credentials encrypted."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError
from django.test import Client

from labeling.annotate.submit import annotation_submit
from labeling.consensus.review import resolution_edit
from labeling.integrations import storage as storage_svc
from labeling.integrations.models import CloudStorage, StorageObject
from labeling.integrations.secrets import secret_encrypt
from projects.models import ImportJob, Item
from tests.factories import ItemFactory, UserFactory, api_token_secret
from tests.labeling.integrations.receivers import Answerer
from tests.labeling.integrations.s3_server import ACCESS_KEY, REGION, SECRET_KEY

pytestmark = pytest.mark.django_db
BUCKET = "quorum-test"
IMAGE_SCHEMA = {
    "controls": [{"name": "animal", "kind": "choice", "source": "image", "labels": ["cat", "dog"]}]
}


@pytest.fixture
def image_project(project):
    project.label_schema = IMAGE_SCHEMA
    project.save()
    return project


def source(project, endpoint, **fields):
    return storage_svc.storage_create(
        project=project,
        fields={
            "role": "source",
            "bucket": BUCKET,
            "endpoint_url": endpoint,
            "region": REGION,
            **fields,
        },
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )


def put(bucket, key, body=b"x"):
    bucket.put_object(Bucket=BUCKET, Key=key, Body=body)


@pytest.mark.parametrize("s3_endpoint", ["moto", "seaweedfs"], indirect=True)
def test_images_sync_incrementally_by_key_and_etag_without_duplicates(
    image_project, bucket, s3_endpoint
):
    project = image_project
    for key in ("cams/a.jpg", "cams/b.png", "cams/notes.txt", "other/c.jpg"):
        put(bucket, key)
    storage = source(project, s3_endpoint, prefix="cams/")

    report = storage_svc.storage_sync(storage_id=storage.pk)
    assert (report.seen, report.new, report.created) == (2, 2, 2)
    items = {i.external_id: i for i in Item.objects.filter(project=project)}
    assert set(items) == {"cams/a.jpg", "cams/b.png"}
    image = items["cams/a.jpg"].data
    assert image["image"] == f"/storages/{storage.pk}/media/cams/a.jpg"
    assert image["source_uri"] == f"s3://{BUCKET}/cams/a.jpg"
    assert "X-Amz" not in json.dumps(image)  # no expiring URL is stored

    again = storage_svc.storage_sync(storage_id=storage.pk)
    assert (again.seen, again.new, again.created) == (2, 0, 0)

    put(bucket, "cams/a.jpg", b"new bytes")  # changed: a new ETag
    put(bucket, "cams/d.jpg")
    third = storage_svc.storage_sync(storage_id=storage.pk)
    assert (third.seen, third.new, third.created) == (3, 2, 1)
    assert Item.objects.filter(project=project).count() == 3
    assert StorageObject.objects.filter(storage=storage).count() == 3
    storage.refresh_from_db()
    assert storage.sync_status == "done" and "3 objects listed, 2 new or changed" in (
        storage.sync_message
    )


def test_a_listing_of_many_pages_is_read_as_botocore_reads_it(
    image_project, bucket, s3_endpoint, monkeypatch
):
    keys = [f"many/{n:02d} caf\u00e9 & co+.jpg" for n in range(7)] + ["many/sub/x.jpg"]
    for key in keys:
        put(bucket, key, key.encode())
    stock = bucket.list_objects_v2(Bucket=BUCKET, Prefix="many/", Delimiter="/", MaxKeys=3)
    storage = source(image_project, s3_endpoint, prefix="many/")
    ours = storage_svc.storage_client(storage).list_objects_v2(
        Bucket=BUCKET, Prefix="many/", Delimiter="/", MaxKeys=3
    )
    for name in ("IsTruncated", "KeyCount", "MaxKeys", "Prefix", "Delimiter", "Name"):
        assert ours[name] == stock[name], name
    assert ours["NextContinuationToken"] == stock["NextContinuationToken"]
    assert [(o["Key"], o["ETag"], o["Size"]) for o in ours["Contents"]] == [
        (o["Key"], o["ETag"], o["Size"]) for o in stock["Contents"]
    ]
    assert ours["Contents"][0]["Key"] == "many/00 caf\u00e9 & co+.jpg"  # URL-decoded

    monkeypatch.setattr(storage_svc, "PAGE_SIZE", 2)  # four pages, read ahead by a thread
    report = storage_svc.storage_sync(storage_id=storage.pk)
    assert (report.seen, report.created) == (8, 8)
    assert sorted(Item.objects.values_list("external_id", flat=True)) == sorted(keys)


@pytest.mark.parametrize(
    "body",
    [
        b"<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>InternalError</Code>"
        b"<Message>busy</Message></Error>",
        b"<?xml version='1.0' encoding='UTF-8'?>\n<ListBucketResult><Name>b</Name><Contents>",
    ],
    ids=["an error inside", "cut short"],
)
def test_a_listing_answered_200_with_an_error_or_cut_short_is_retried_then_refused(body):
    server = Answerer(status=200, body=body, headers={"Content-Type": "application/xml"}).start()
    try:
        storage = CloudStorage(
            endpoint_url=server.url,
            region=REGION,
            access_key_encrypted=secret_encrypt(ACCESS_KEY),
            secret_key_encrypted=secret_encrypt(SECRET_KEY),
        )
        with pytest.raises(ClientError):
            storage_svc.storage_client(storage).list_objects_v2(Bucket="b", MaxKeys=1)
        assert len(server.paths) > 1  # retried, as any S3 answer of 500 is
    finally:
        server.stop()


def test_a_bucket_gone_fails_the_sync_with_the_reason(image_project, bucket, s3_endpoint):
    put(bucket, "gone/a.jpg")
    storage = source(image_project, s3_endpoint, prefix="gone/")
    bucket.delete_object(Bucket=BUCKET, Key="gone/a.jpg")
    bucket.delete_bucket(Bucket=BUCKET)
    report = storage_svc.storage_sync(storage_id=storage.pk)
    assert report.seen == 0
    storage.refresh_from_db()
    assert storage.sync_status == "failed" and "NoSuchBucket" in storage.sync_message
    assert not Item.objects.exists()


def test_glob_and_regex_filters_pick_the_keys(image_project, bucket, s3_endpoint):
    project = image_project
    for key in ("a/cam1_1.jpg", "a/cam2_1.jpg", "a/sub/cam1_2.jpg", "a/raw"):
        put(bucket, key)
    globbed = source(project, s3_endpoint, prefix="a/", object_filter="cam1_*")
    assert storage_svc.storage_sync(storage_id=globbed.pk).seen == 1  # a/cam1_1.jpg
    regex = source(
        project,
        s3_endpoint,
        prefix="a/",
        object_filter=r"(^|/)cam1_\d+\.jpg$",
        filter_kind="regex",
    )
    assert storage_svc.storage_sync(storage_id=regex.pk).seen == 2
    assert sorted(Item.objects.values_list("external_id", flat=True)) == [
        "a/cam1_1.jpg",
        "a/sub/cam1_2.jpg",
    ]


def test_json_jsonl_and_csv_objects_are_imported_as_rows_once(
    project, bucket, s3_endpoint, django_capture_on_commit_callbacks
):
    put(
        bucket,
        "rows/one.jsonl",
        b'{"external_id": "r1", "text": "hi"}\n{"external_id": "r2", "text": "yo"}\n',
    )
    put(bucket, "rows/two.csv", b"external_id,text\nr3,hello\n")
    put(bucket, "rows/three.json", b'[{"external_id": "r4", "text": "hey"}]')
    put(bucket, "rows/image.jpg")
    storage = source(project, s3_endpoint, prefix="rows/", object_kind="rows")
    with django_capture_on_commit_callbacks(execute=True):
        report = storage_svc.storage_sync(storage_id=storage.pk)
    assert (report.seen, report.imports) == (3, 3)
    assert sorted(Item.objects.values_list("external_id", flat=True)) == ["r1", "r2", "r3", "r4"]
    assert ImportJob.objects.filter(status="done").count() == 3

    with django_capture_on_commit_callbacks(execute=True):
        assert storage_svc.storage_sync(storage_id=storage.pk).imports == 0
    put(
        bucket,
        "rows/one.jsonl",
        b'{"external_id": "r1", "text": "hi"}\n{"external_id": "r5", "text": "new"}\n',
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert storage_svc.storage_sync(storage_id=storage.pk).imports == 1
    assert Item.objects.count() == 5  # r1 again is skipped as a duplicate


def test_media_are_served_by_a_presigned_url_made_when_asked(image_project, bucket, s3_endpoint):
    project = image_project
    put(bucket, "img/p.png", b"\x89PNG fake bytes")
    storage = source(project, s3_endpoint, prefix="img/", presign_ttl=120)
    storage_svc.storage_sync(storage_id=storage.pk)
    item = Item.objects.get()
    member = Client()
    member.force_login(project.memberships.get(role="annotator").user)
    response = member.get(item.data["image"])
    assert response.status_code == 302
    signed = response["Location"]
    assert parse_qs(urlsplit(signed).query)["X-Amz-Expires"] == ["120"]
    assert requests.get(signed, timeout=10).content == b"\x89PNG fake bytes"
    stranger = Client()
    stranger.force_login(UserFactory(username="stranger"))
    assert stranger.get(item.data["image"]).status_code == 404
    annotator = project.memberships.get(role="annotator").user
    script = Client(HTTP_AUTHORIZATION=f"Token {api_token_secret(annotator)}")
    assert script.get(item.data["image"]).status_code == 302  # a token reads the API's paths


@pytest.mark.parametrize("server_credentials", [False, True])
def test_a_storage_without_keys_never_borrows_the_servers_credentials_unless_allowed(
    image_project, bucket, s3_endpoint, settings, monkeypatch, server_credentials
):
    settings.STORAGE_SERVER_CREDENTIALS = server_credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "SERVERSOWNKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "servers-own-secret")
    bucket.put_object(Bucket=BUCKET, Key="img/p.png", Body=b"\x89PNG public", ACL="public-read")
    fields = {"role": "source", "bucket": BUCKET, "endpoint_url": s3_endpoint, "region": REGION}
    storage = storage_svc.storage_create(project=image_project, fields={**fields, "prefix": "img/"})
    link = storage_svc.media_url(storage=storage, key="img/p.png")
    query = parse_qs(urlsplit(link).query)
    if server_credentials:
        assert query["X-Amz-Credential"][0].startswith("SERVERSOWNKEY/")
    else:  # unsigned: what a public bucket answers to anyone
        assert "SERVERSOWNKEY" not in link and "X-Amz-Credential" not in query
        answer = requests.get(link, timeout=10)
        assert answer.status_code == 200 and answer.content == b"\x89PNG public"


def test_a_target_storage_gets_each_resolved_label_overwritten_on_re_resolution(
    project, lead, annotator, bucket, s3_endpoint, django_capture_on_commit_callbacks
):
    storage_svc.storage_create(
        project=project,
        fields={
            "role": "target",
            "bucket": BUCKET,
            "prefix": "labels",
            "endpoint_url": s3_endpoint,
            "region": REGION,
        },
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )
    item = ItemFactory(project=project, external_id="doc-7")
    with django_capture_on_commit_callbacks(execute=True):
        annotation_submit(item=item, annotator=annotator, result={"sentiment": "positive"})
    written = json.loads(bucket.get_object(Bucket=BUCKET, Key="labels/doc-7.json")["Body"].read())
    assert written["result"] == {"sentiment": "positive"} and written["external_id"] == "doc-7"
    assert written["method"] == "single"

    item.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        resolution_edit(item=item, reviewer=lead, result={"sentiment": "negative"})
    rewritten = json.loads(bucket.get_object(Bucket=BUCKET, Key="labels/doc-7.json")["Body"].read())
    assert rewritten["result"] == {"sentiment": "negative"} and rewritten["reviewer"] == "lead"
    keys = [o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["labels/doc-7.json"]


def test_a_finished_export_is_copied_to_the_target_bucket(
    project, lead, lead_api, annotator, bucket, s3_endpoint, django_capture_on_commit_callbacks
):
    storage_svc.storage_create(
        project=project,
        fields={
            "role": "target",
            "bucket": BUCKET,
            "prefix": "out",
            "endpoint_url": s3_endpoint,
            "region": REGION,
        },
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )
    item = ItemFactory(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        annotation_submit(item=item, annotator=annotator, result={"sentiment": "neutral"})
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_api.post(
            f"/api/projects/{project.pk}/exports/", {"format": "jsonl"}, format="json"
        )
    assert response.status_code == 202, response.content
    keys = [
        o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET, Prefix="out/exports/")["Contents"]
    ]
    assert len(keys) == 1 and keys[0].endswith(".jsonl")
    body = bucket.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read().decode()
    assert json.loads(body.splitlines()[0])["external_id"] == item.external_id


def test_the_api_keeps_credentials_encrypted_and_never_answers_them(
    image_project, lead_api, annotator_api, bucket, s3_endpoint, django_capture_on_commit_callbacks
):
    project = image_project
    put(bucket, "k/a.jpg")
    payload = {
        "role": "source",
        "bucket": BUCKET,
        "prefix": "k/",
        "endpoint_url": s3_endpoint,
        "region": REGION,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "sync_every_minutes": 15,
    }
    response = lead_api.post(f"/api/projects/{project.pk}/storages/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["has_credentials"] is True
    assert (
        ACCESS_KEY not in response.content.decode() and SECRET_KEY not in response.content.decode()
    )
    row = CloudStorage.objects.get()
    assert SECRET_KEY not in row.secret_key_encrypted and row.secret_key_encrypted
    listed = lead_api.get(f"/api/projects/{project.pk}/storages/").content.decode()
    assert SECRET_KEY not in listed and ACCESS_KEY not in listed
    assert annotator_api.get(f"/api/projects/{project.pk}/storages/").status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        synced = lead_api.post(f"/api/storages/{body['id']}/sync/")
    assert synced.status_code == 202
    assert lead_api.get(f"/api/storages/{body['id']}/").json()["sync_status"] == "done"
    assert Item.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"object_filter": "([", "filter_kind": "regex"}, "object_filter"),
        ({"bucket": "no-such-bucket"}, "bucket"),
        ({"endpoint_url": "ftp://x"}, "endpoint_url"),
        ({"role": "sideways"}, "role"),
        ({"secret_key": ""}, "secret_key"),
        ({"access_key": ""}, "access_key"),
    ],
)
def test_bad_storage_settings_answer_the_field_and_store_nothing(
    project, lead_api, bucket, s3_endpoint, changes, field
):
    payload = {
        "role": "source",
        "bucket": BUCKET,
        "endpoint_url": s3_endpoint,
        "region": REGION,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        **changes,
    }
    response = lead_api.post(f"/api/projects/{project.pk}/storages/", payload, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not CloudStorage.objects.exists()


def test_scheduled_syncs_are_due_by_their_interval(project, bucket, s3_endpoint):
    from datetime import timedelta

    from django.utils import timezone

    scheduled = source(project, s3_endpoint, sync_every_minutes=10)
    source(project, s3_endpoint)  # on demand only
    assert storage_svc.storages_due() == [scheduled.pk]
    assert storage_svc.storages_due() == []  # queued: not twice
    storage_svc.storage_sync(storage_id=scheduled.pk)
    assert storage_svc.storages_due() == []
    later = timezone.now() + timedelta(minutes=11)
    assert storage_svc.storages_due(now=later) == [scheduled.pk]


def test_the_page_connects_a_storage_and_syncs_it(
    image_project, lead, bucket, s3_endpoint, django_capture_on_commit_callbacks
):
    project = image_project
    put(bucket, "p/x.jpg")
    client = Client()
    client.force_login(lead)
    response = client.post(
        f"/projects/{project.pk}/integrations/",
        {
            "add": "storage",
            "role": "source",
            "bucket": BUCKET,
            "prefix": "p/",
            "endpoint_url": s3_endpoint,
            "region": REGION,
            "object_kind": "images",
            "filter_kind": "glob",
            "presign_ttl": 900,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    storage = CloudStorage.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/projects/{project.pk}/integrations/", {"do": "sync", "id": storage.pk})
    page = client.get(f"/projects/{project.pk}/integrations/").content.decode()
    assert "1 objects listed, 1 new or changed, 1 items created" in page
    assert SECRET_KEY not in page
