"""CPU of one creative's upload: the MinIO SDK's `put_object` against `S3Store.put`.

    python -m bench.storage_put [--rounds 5]

Encodes the standard event's creatives (bench.encode_bench: 2 variants x 5 sizes over the
sample events, fpng PNG, the default) and uploads every one to a real SeaweedFS S3 server both
ways, alternating by round so load on the box hits both alike. CPU is `time.thread_time()` of
this thread (the server's CPU is not counted); the figure per way is the median over rounds.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.encode_bench import creatives
from shared.encoding import Encoding
from shared.storage import S3Store, open_store
from tests.support.services import start_seaweed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    bodies = [Encoding().encode(im) for im in creatives(1)]
    with tempfile.TemporaryDirectory(prefix="adgen-put-") as tmp:
        s3 = start_seaweed(Path(tmp) / "seaweed")
        try:
            store = open_store(s3.url("put"))
            assert isinstance(store, S3Store)
            store.ensure_bucket()

            def sdk(key: str, data: bytes) -> None:  # the previous S3Store.put
                store.client.put_object(
                    store.bucket, key, io.BytesIO(data), len(data), content_type="image/png"
                )

            def lean(key: str, data: bytes) -> None:
                store.put(key, data, "image/png")

            ways: dict[str, Callable[[str, bytes], None]] = {
                "MinIO SDK put_object (before)": sdk,
                "S3Store.put: signed PUT, keep-alive http.client (after)": lean,
            }
            ms: dict[str, list[float]] = {name: [] for name in ways}
            for r in range(args.rounds + 1):  # round 0 warms connections and caches
                for name, put in ways.items():
                    c0 = time.thread_time()
                    for i, data in enumerate(bodies):
                        put(f"{name[:4]}/{r}/{i}.png", data)
                    if r:
                        ms[name].append((time.thread_time() - c0) * 1000 / len(bodies))
        finally:
            s3.stop()
    kib = statistics.mean(len(b) for b in bodies) / 1024
    print(f"{len(bodies)} creatives, mean {kib:.1f} KiB, {args.rounds} rounds (median, range)")
    med = {name: statistics.median(v) for name, v in ms.items()}
    for name, v in ms.items():
        print(f"  {name:58s} {med[name]:.3f} ms CPU/put ({min(v):.3f}-{max(v):.3f})")
    before, after = med.values()
    print(f"  after / before = {after / before:.2f}")


if __name__ == "__main__":
    main()
