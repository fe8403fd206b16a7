#!/usr/bin/env python3
# queue-latency.py BINARY [DIR] [N]
#
# How long does a small photo take to go through the queue when files come one
# at a time? Starts `imgpipe server`, one `imgpipe worker -j 1` and
# `imgpipe watch --nats` (child processes, 127.0.0.1 only, fresh store), then
# renames N files (default 15) from DIR (default /tmp/small/set, made by
# bench/make-small.sh) into the watched folder one at a time, 0.1 s apart, and
# times each from the rename to its output appearing in the output folder.
# Outputs are committed by rename after their data is flushed, so an output
# that exists is complete and durable. Prints the median and the worst.
#
# Needs python3 (standard library only).
import os, shutil, socket, statistics, subprocess, sys, tempfile, time

if not 2 <= len(sys.argv) <= 4:
    sys.exit("usage: queue-latency.py BINARY [DIR] [N]")
binary = os.path.abspath(sys.argv[1])
src = sys.argv[2] if len(sys.argv) > 2 else "/tmp/small/set"
n = int(sys.argv[3]) if len(sys.argv) > 3 else 15

base = tempfile.mkdtemp(prefix="queue-latency-")
inp, out, stage, store = (os.path.join(base, d) for d in ("in", "out", "stage", "store"))
for d in (inp, out, stage, store):
    os.makedirs(d)
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
url = "nats://127.0.0.1:%d" % port
quiet = subprocess.DEVNULL
procs = []
try:
    procs.append(subprocess.Popen([binary, "server", "--store", store, "--listen", "127.0.0.1:%d" % port],
                                  stdout=quiet, stderr=quiet))
    time.sleep(1.5)
    procs.append(subprocess.Popen([binary, "worker", "--nats", url, "-j", "1"], stdout=quiet, stderr=quiet))
    procs.append(subprocess.Popen([binary, "watch", inp, "-o", out, "-w", "200", "-H", "200", "-q", "85",
                                   "--settle", "1ms", "--nats", url], stdout=quiet, stderr=quiet))
    time.sleep(1.5)
    lat = []
    names = sorted(f for f in os.listdir(src) if f.lower().endswith((".jpg", ".jpeg")))[:n]
    for f in names:
        shutil.copy(os.path.join(src, f), os.path.join(stage, f))
        t0 = time.monotonic()
        os.rename(os.path.join(stage, f), os.path.join(inp, f))
        target = os.path.join(out, f)
        while not os.path.exists(target):
            if time.monotonic() - t0 > 5:
                sys.exit("no output for %s after 5 s" % f)
            time.sleep(0.0002)
        lat.append((time.monotonic() - t0) * 1000)
        time.sleep(0.1)
finally:
    for p in reversed(procs):
        p.terminate()
        p.wait()
    shutil.rmtree(base)
print("watch --nats + worker, %d files: median %.1f ms, worst %.1f ms" % (len(lat), statistics.median(lat), max(lat)))
print("each:", " ".join("%.0f" % x for x in lat))
