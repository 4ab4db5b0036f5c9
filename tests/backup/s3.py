"""A local S3 (moto's server on loopback) that records every request a given access key makes, and the IAM
authorization each request needs.

Operation names follow the S3 REST API reference (method + path + sub-resource query). Which IAM action and resource
each operation needs, and the s3:prefix condition key, are from the Service Authorization Reference, "Actions,
resources, and condition keys for Amazon S3" (s3:ListBucket covers ListObjects/ListObjectsV2 and HeadBucket;
s3:GetObject covers GetObject and HeadObject; s3:PutObject covers PutObject, CreateMultipartUpload, UploadPart and
CompleteMultipartUpload; DeleteObjects needs s3:DeleteObject on every key it names). The KMS side is from the S3 User
Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)": writing an SSE-KMS object needs
kms:GenerateDataKey, reading one kms:Decrypt, and a multipart upload both, on the key that encrypts it."""

from __future__ import annotations

import io
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

BUCKET_LEVEL = "arn:aws:s3:::{bucket}"
OBJECT_LEVEL = "arn:aws:s3:::{bucket}/{key}"


# (method, level, sub-resource query key or None for none at all, operation) from the S3 API reference.
_OPERATIONS = [
    ("HEAD", "bucket", None, "HeadBucket"),
    ("PUT", "bucket", None, "CreateBucket"),
    ("DELETE", "bucket", None, "DeleteBucket"),
    ("POST", "bucket", "delete", "DeleteObjects"),
    ("GET", "bucket", "location", "GetBucketLocation"),
    ("GET", "bucket", "uploads", "ListMultipartUploads"),
    ("GET", "bucket", "versions", "ListObjectVersions"),
    ("POST", "object", "uploads", "CreateMultipartUpload"),
    ("POST", "object", "uploadId", "CompleteMultipartUpload"),
    ("PUT", "object", "uploadId", "UploadPart"),
    ("DELETE", "object", "uploadId", "AbortMultipartUpload"),
    ("GET", "object", "uploadId", "ListParts"),
    ("GET", "object", None, "GetObject"),
    ("HEAD", "object", None, "HeadObject"),
    ("PUT", "object", None, "PutObject"),
    ("DELETE", "object", None, "DeleteObject"),
]


@dataclass(frozen=True)
class Authorization:
    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def bucket(self) -> str:
        return self.path.lstrip("/").split("/", 1)[0]

    @property
    def key(self) -> str:
        parts = self.path.lstrip("/").split("/", 1)
        return parts[1] if len(parts) == 2 else ""

    @property
    def operation(self) -> str:
        """The S3 API operation for a path-style request (what boto3 sends to an IP-address endpoint): the first rule
        whose method, level (bucket or object) and sub-resource match."""
        level = "object" if self.key else "bucket"
        for method, rule_level, sub, name in _OPERATIONS:
            if method == self.method and rule_level == level and (sub in self.query if sub else not self.query):
                return name
        if (self.method, level) == ("GET", "bucket"):
            return "ListObjectsV2" if self.query.get("list-type") == ["2"] else "ListObjects"
        return f"{self.method} {level} ?{'&'.join(sorted(self.query))}"

    def deleted_keys(self) -> list[str]:
        """The keys a DeleteObjects request names (its XML body)."""
        root = ET.fromstring(self.body)  # our own client's request body
        return [element.text or "" for element in root.iter() if element.tag.rsplit("}", 1)[-1] == "Key"]

    def authorizations(self, kms_key_of: Callable[[Request], str | None]) -> list[Authorization]:
        """What IAM checks for this request. `kms_key_of` names the KMS key that encrypts the object a request writes or
        reads (None: not SSE-KMS)."""
        bucket_arn = BUCKET_LEVEL.format(bucket=self.bucket)
        object_arn = OBJECT_LEVEL.format(bucket=self.bucket, key=self.key)
        name = self.operation
        s3_action = {
            "HeadBucket": "s3:ListBucket",
            "ListObjects": "s3:ListBucket",
            "ListObjectsV2": "s3:ListBucket",
            "GetBucketLocation": "s3:GetBucketLocation",
            "CreateBucket": "s3:CreateBucket",
            "GetObject": "s3:GetObject",
            "HeadObject": "s3:GetObject",
            "PutObject": "s3:PutObject",
            "CreateMultipartUpload": "s3:PutObject",
            "UploadPart": "s3:PutObject",
            "CompleteMultipartUpload": "s3:PutObject",
            "AbortMultipartUpload": "s3:AbortMultipartUpload",
            "DeleteObject": "s3:DeleteObject",
        }
        if name == "DeleteObjects":
            found = [
                Authorization("s3:DeleteObject", OBJECT_LEVEL.format(bucket=self.bucket, key=k))
                for k in self.deleted_keys()
            ]
        elif name in s3_action:
            bucket_level = not self.key
            context = (
                {"s3:prefix": self.query["prefix"][0]}
                if name.startswith("ListObjects") and "prefix" in self.query
                else {}
            )
            found = [Authorization(s3_action[name], bucket_arn if bucket_level else object_arn, context)]
        else:
            raise AssertionError(
                f"no IAM mapping for {name} ({self.method} {self.path}); add it from the AWS reference"
            )
        key_arn = kms_key_of(self)
        if key_arn is not None:
            if name in {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}:
                found.append(Authorization("kms:GenerateDataKey", key_arn))
            if name in {"GetObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}:
                found.append(Authorization("kms:Decrypt", key_arn))
        return found


class Recorder:
    """WSGI middleware in front of moto: keeps the requests signed with `access_key` (the tool under test), not the
    test's own set-up calls."""

    def __init__(self, app: Callable[..., Iterable[bytes]], access_key: str) -> None:
        self.app = app
        self.access_key = access_key
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        credential = re.search(r"Credential=([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
        if not credential or credential.group(1) != self.access_key:
            return self.app(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        body = b""
        if environ["REQUEST_METHOD"] == "POST" and "delete" in query:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
        request = Request(environ["REQUEST_METHOD"], unquote(environ["PATH_INFO"]), query, body)

        def recording_start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            request.status = int(status.split(maxsplit=1)[0])
            request.response_headers = {name.lower(): value for name, value in headers}
            return start_response(status, headers, *args)

        result = self.app(environ, recording_start_response)
        with self._lock:
            self.requests.append(request)
        return result

    def since(self, mark: int) -> list[Request]:
        with self._lock:
            return list(self.requests[mark:])

    def mark(self) -> int:
        with self._lock:
            return len(self.requests)


class LocalS3:
    """moto's S3 (and KMS) on 127.0.0.1, with a Recorder in front."""

    def __init__(self, access_key: str) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        self.recorder = Recorder(DomainDispatcherApplication(create_backend_app), access_key)
        self._server = make_server("127.0.0.1", 0, self.recorder, threaded=True, request_handler=MotoRequestHandler)
        self.endpoint_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LocalS3:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


def summarise(requests: Iterator[Request] | list[Request]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for request in requests:
        counts[request.operation] = counts.get(request.operation, 0) + 1
    return dict(sorted(counts.items()))
