"""The issue's swap benchmark, by hand: a 256 MiB payload published to two S3 regions, then, in
a fresh process each: boto3's raw get_object into memory, and a Subscriber's first swap of it
(fetch, verify, decode=bytes). Prints seconds, MiB/s and the process's peak RSS.

    python bench/swap_256.py SERVER_ADDRESS ENDPOINT1,ENDPOINT2 publish|raw|swap TOPIC
(the server serves --blobs s3 --regions eu-west-1,us-east-1 --bucket py-{region}.)"""

from __future__ import annotations

import os
import resource
import sys
import time

import boto3
from botocore.config import Config

from imprint_client import Client
from imprint_client.pb import consumer
from imprint_client.publisher import Publisher, S3Region
from imprint_client.subscriber import Subscriber, identity

MIB = 1024 * 1024
SIZE = 256 * MIB
REGIONS = ("eu-west-1", "us-east-1")


def regions(endpoints: list[str]) -> list[S3Region]:
    return [
        S3Region(r, boto3.client("s3", endpoint_url=e, region_name=r, aws_access_key_id="imprint", aws_secret_access_key="imprint-secret", config=Config(s3={"addressing_style": "path"})), f"py-{r}")
        for r, e in zip(REGIONS, endpoints)
    ]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(address: str, endpoints: str, what: str, topic: str) -> None:
    rs = regions(endpoints.split(","))
    with Client(address, app="bench") as c:
        if what == "publish":
            for r in rs:
                try:
                    r.client.create_bucket(Bucket=r.bucket, **({} if r.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": r.region}}))  # type: ignore[arg-type]
                except r.client.exceptions.BucketAlreadyOwnedByYou:
                    pass
            pub = Publisher(c, regions=rs)
            pub.create_topic(topic)
            t = time.monotonic()
            v = pub.publish(topic, os.urandom(SIZE))
            print(f"publish v{v.record.version}: {time.monotonic() - t:.1f} s")
            return
        rec = c.call(c.consumer.GetVersion, consumer.GetVersionRequest(topic=topic, version=1)).record
        base = peak_rss_mib()
        t = time.monotonic()
        if what == "raw":
            loc = rec.pointer.blob.locations[0]
            data = rs[0].client.get_object(Bucket=loc.bucket, Key=loc.key)["Body"].read()
            assert len(data) == SIZE
        else:
            with Subscriber(c, identity("bench"), regions=rs, interval_s=60) as s:
                sub = s.subscribe(topic, bytes, b"")
                assert sub.ready(600) and len(sub.current) == SIZE
        took = time.monotonic() - t
        print(f"{what}: {took:.2f} s, {SIZE / MIB / took:.0f} MiB/s, peak RSS {peak_rss_mib():.0f} MiB (before: {base:.0f} MiB)")


if __name__ == "__main__":
    main(*sys.argv[1:5])
