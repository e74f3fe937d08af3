"""Drive the built-in emulator with the official Python SDK v2 (alibabacloud-oss-v2).

Run by tests/official_sdk.rs: argv = endpoint, access key id, secret, region, bucket.
Prints one JSON line per step, so the Rust side asserts what the official client saw.
"""
import json
import sys

import alibabacloud_oss_v2 as oss

endpoint, ak, sk, region, bucket = sys.argv[1:6]
cfg = oss.config.load_default()
cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ak, sk)
cfg.region = region
cfg.endpoint = endpoint
client = oss.Client(cfg)


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


for key in ["py/a.txt", "py/dir/with space+plus%.txt", "py/unicode/文件.txt"]:
    r = client.put_object(
        oss.PutObjectRequest(bucket=bucket, key=key, body=b"hello world", forbid_overwrite=True)
    )
    emit("put", key=key, status=r.status_code, etag=r.etag, crc=r.hash_crc64,
         md5=r.content_md5, request_id=r.request_id)

for key, expected in [("py/a.txt", "FileAlreadyExists")]:
    try:
        client.put_object(
            oss.PutObjectRequest(bucket=bucket, key=key, body=b"x", forbid_overwrite=True)
        )
        emit("error", key=key, code=None)
    except oss.exceptions.OperationError as e:
        inner = e.unwrap()
        emit("error", key=key, code=getattr(inner, "code", None),
             status=getattr(inner, "status_code", None))

try:
    client.put_object(oss.PutObjectRequest(bucket="no-such-bucket", key="k", body=b"x"))
    emit("error", key="k", code=None)
except oss.exceptions.OperationError as e:
    inner = e.unwrap()
    emit("error", key="k", code=getattr(inner, "code", None),
         status=getattr(inner, "status_code", None))

got = client.get_object(oss.GetObjectRequest(bucket=bucket, key="py/dir/with space+plus%.txt"))
emit("get", body=got.body.read().decode())
