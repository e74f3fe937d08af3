"""Drive the built-in emulator's presign, V1, AppendObject and HeadObject support with the
official Python SDK v2 (alibabacloud-oss-v2).

Run by tests/official_sdk.rs: argv = endpoint, access key id, secret, region, bucket.
Prints one JSON line per step; presigned URLs are used by the Rust side with a plain client.
"""
import datetime
import json
import sys

import alibabacloud_oss_v2 as oss

endpoint, ak, sk, region, bucket = sys.argv[1:6]


def client(version):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ak, sk)
    cfg.region = region
    cfg.endpoint = endpoint
    cfg.signature_version = version
    return oss.Client(cfg)


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


v4, v1 = client("v4"), client("v1")
expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)
for name, c in [("v4", v4), ("v1", v1)]:
    p = c.presign(
        oss.PutObjectRequest(bucket=bucket, key=f"py/presigned-{name}.txt", content_type="text/plain"),
        expiration=expiration,
    )
    emit("presign", version=name, method=p.method, url=p.url, signed_headers=dict(p.signed_headers))

r = v1.put_object(oss.PutObjectRequest(bucket=bucket, key="py/v1 a+b.txt", body=b"hello world"))
emit("v1-put", status=r.status_code, crc=r.hash_crc64)
h = v1.head_object(oss.HeadObjectRequest(bucket=bucket, key="py/v1 a+b.txt"))
emit("v1-head", length=h.content_length, type=h.object_type)

r1 = v4.append_object(oss.AppendObjectRequest(bucket=bucket, key="py/log", position=0, body=b"one\n"))
r2 = v1.append_object(oss.AppendObjectRequest(bucket=bucket, key="py/log", position=r1.next_position,
                                              body=b"two\n"))
emit("append", positions=[r1.next_position, r2.next_position], crc=r2.hash_crc64)
h = v4.head_object(oss.HeadObjectRequest(bucket=bucket, key="py/log"))
emit("head", length=h.content_length, type=h.object_type, next=h.next_append_position,
     crc=h.hash_crc64)
try:
    v4.append_object(oss.AppendObjectRequest(bucket=bucket, key="py/log", position=1, body=b"x"))
    emit("conflict", code=None)
except oss.exceptions.OperationError as e:
    inner = e.unwrap()
    emit("conflict", code=getattr(inner, "code", None), status=getattr(inner, "status_code", None))
