#!/usr/bin/python3
"""The HTTP clients of the flows-lab dataset; every request is made by curl.

    webclient.py browse SITES SEED SECONDS THINK      browsing in bursts
    webclient.py beacon URL SEED SECONDS PERIOD JITTER [post]
    webclient.py poll   URL SEED SECONDS PERIOD       a benign poller

browse: a visit picks a server and a page by Zipf-like popularity, fetches
the page, then its resources in parallel over up to 6 connections (curl
--parallel, keep-alive), as a browser does; sometimes a second page of the
same site follows; then the user thinks (exponential, mean THINK s).
beacon: one check-in (a new connection, GET or a small POST) every PERIOD
seconds times 1 +- JITTER (uniform), like an implant's sleep with jitter.
poll: a dashboard or update check: every PERIOD s on the second, no jitter.
"""
import json
import os
import random
import subprocess
import sys
import time


def curl(args, timeout=120):
    subprocess.run(["curl", "-s", "-m", str(timeout)] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def zipf(n, s=1.0):
    acc, out = 0.0, []
    for i in range(n):
        acc += 1.0 / (i + 1) ** s
        out.append(acc)
    return out


def browse(sites, rnd, end, think):
    servers = sites["servers"]
    sw = zipf(len(servers), 0.8)
    while time.time() < end:
        srv = rnd.choices(servers, cum_weights=sw)[0]
        pages = srv["pages"]
        pw = zipf(len(pages), 1.1)
        for _ in range(1 if rnd.random() < 0.6 else rnd.randint(2, 4)):
            page = rnd.choices(pages, cum_weights=pw)[0]
            base = srv["url"]
            curl([base + page["path"], "-o", "/dev/null"])
            res = page["resources"]
            if res:
                args = ["--parallel", "--parallel-max", "6"]
                for r in res:
                    args += [base + r, "-o", "/dev/null"]
                curl(args)
            time.sleep(rnd.uniform(1, 8))
        if rnd.random() < 0.01 and sites.get("downloads"):  # a software update, now and then
            curl([rnd.choice(sites["downloads"]), "-o", "/dev/null"], timeout=300)
        if rnd.random() < 0.05 and sites.get("upload"):  # a form with an attachment
            path = f"/tmp/s15f-form-{os.getpid()}.bin"
            open(path, "wb").write(rnd.randbytes(rnd.randint(5000, 300000)))
            curl(["-T", path, sites["upload"] + f"/form-{rnd.getrandbits(32):08x}"], timeout=60)
            os.remove(path)
        time.sleep(max(0, min(rnd.expovariate(1 / think), end - time.time())))


def beacon(url, rnd, end, period, jitter, post):
    bot = "%08x" % rnd.getrandbits(32)
    time.sleep(rnd.uniform(0, period))
    while time.time() < end:
        if post:
            curl(["-X", "POST", "--data-binary", f"id={bot}&s={rnd.getrandbits(48):012x}", url], timeout=20)
        else:
            curl([f"{url}?id={bot}&t={int(time.time())}", "-o", "/dev/null", "-A",
                  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"], timeout=20)
        time.sleep(max(0, min(period * rnd.uniform(1 - jitter, 1 + jitter), end - time.time())))


def poll(url, rnd, end, period):
    while time.time() < end:
        time.sleep(max(0, min(period - time.time() % period, end - time.time())))
        if time.time() < end:
            curl([url, "-o", "/dev/null"], timeout=20)


def main():
    role, target, seed, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    rnd = random.Random(seed)
    end = time.time() + seconds
    if role == "browse":
        browse(json.load(open(target)), rnd, end, float(sys.argv[5]))
    elif role == "beacon":
        beacon(target, rnd, end, float(sys.argv[5]), float(sys.argv[6]), len(sys.argv) > 7)
    elif role == "poll":
        poll(target, rnd, end, float(sys.argv[5]))


if __name__ == "__main__":
    main()
