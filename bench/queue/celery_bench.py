"""Celery peer of `nexus bench queue`: the same phases on the same Redis (database 15).

python celery_bench.py [jobs]  -> human lines, then one JSON line. It starts its own worker
process (prefork, one process per core: Celery's default) and counts completions in Redis.
"""
import json
import os
import statistics
import subprocess
import sys
import time

import redis
from celery import Celery

BROKER = "redis://127.0.0.1:6379/15"
app = Celery("celery_bench", broker=BROKER)
app.conf.task_ignore_result = True
app.conf.worker_hijack_root_logger = False
r = redis.Redis(host="127.0.0.1", port=6379, db=15)


@app.task(name="noop")
def noop(n, t=None):
    if t is not None:
        r.rpush("bench:lat", time.time() - t)
    r.setnx("bench:first", time.time())
    r.incr("bench:count")


def wait_for(n, limit=120):
    start = time.time()
    while int(r.get("bench:count") or 0) < n:
        if time.time() - start > limit:
            raise SystemExit(f"celery: only {r.get('bench:count')} of {n} ran")
        time.sleep(0.0005)


def main():
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    r.flushdb()
    t = time.time()
    for i in range(jobs):
        noop.apply_async((i,))
    enqueue = jobs / (time.time() - t)
    # Celery has no bulk enqueue; the queued jobs are drained as they are.
    here = os.path.dirname(os.path.abspath(__file__))
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_bench", "worker", "--loglevel=WARNING", "--without-mingle", "--without-gossip"],
        cwd=here, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        # Timed from the first job's completion, so the worker's start-up is not counted.
        wait_for(jobs)
        drain = (jobs - 1) / max(time.time() - float(r.get("bench:first")), 1e-9)
        time.sleep(0.5)
        r.delete("bench:lat")
        for i in range(50):
            before = int(r.get("bench:count") or 0)
            noop.apply_async((i,), {"t": time.time()})
            wait_for(before + 1, 30)
            time.sleep(0.02)
        lat = sorted(float(x) for x in r.lrange("bench:lat", 0, -1))
        idle = statistics.median(lat) * 1000
    finally:
        worker.terminate()
        worker.wait(30)
        r.flushdb()
    print(f"celery: enqueue {enqueue:.0f}/s, drain {drain:.0f}/s, idle latency {idle:.2f} ms")
    print(json.dumps({"backend": "celery", "jobs": jobs, "enqueue_per_s": enqueue, "enqueue_bulk_per_s": None, "drain_per_s": drain, "idle_latency_ms": idle}))


if __name__ == "__main__":
    main()
