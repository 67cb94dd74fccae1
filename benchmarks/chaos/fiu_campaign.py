#!/usr/bin/env python3
"""The real-process I/O-fault campaign: the `ota` jar under Debian's libfiu.

Each run, from its own seed (run i uses seed SEED + i): a fresh file store (`ota init`, faultless),
then a random sequence of `ota update` (HTTPS from a local server, verified), `ota boot`,
`ota mark-good` and `ota rollback`, each run under `fiu-run -x` (libfiu's POSIX preload) with
random failures of pwrite/pwrite64 (also short: posix/io/rw/pwrite/reduce), fsync, fdatasync,
rename and open, and, now and then, a `kill -9` at a random moment. Then the oracle, with a
clean `ota status --json`, `ota boot` and `sha256sum`-style digests of the slot files: the store
opens (or refuses with exit 7 and an `error:` line); the boot choice is good or trial and its bytes
match its recorded digest; the image last confirmed (or chosen by a rollback) is still a good slot
holding its bytes; the slot the next boot takes is verified too.

libfiu cannot confine failures to a path: they hit every pwrite/fsync/rename/open of the JVM.
The JVM itself does not pwrite, sync or rename while it starts, so those points only hit the
store; `open` also hits the JVM's own start (such runs fail to start and inject nothing into the
store: counted as "jvm did not start"). `write` (stdout) is left alone so that exit lines survive.

Usage: fiu_campaign.py --jar samples/ota-cli/target/ota.jar --seed 19000 --runs 50
Prints one line per failure with the seed that reproduces it, then a summary table; exits 1 on a failure.
"""
import argparse
import hashlib
import http.server
import json
import os
import random
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading

POINTS = ["posix/io/rw/pwrite", "posix/io/rw/pwrite/reduce", "posix/io/sync/fsync", "posix/io/sync/fdatasync",
          "posix/io/dir/rename", "posix/io/oc/open"]
CONTRACT_EXITS = {0, 2, 3, 4, 5, 6, 7, 8, 9}


def serve(directory, cert, key):
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=directory, **k)
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


class Campaign:
    def __init__(self, jar, work):
        self.jar = jar
        self.work = work
        self.faults = {}
        self.exits = {}
        self.lines = []
        self.runs = self.failures = self.kills = self.refused = self.unexpected = self.updates_ok = 0
        self.unsafe = self.lost = self.ops = self.jvm_start = 0

    def ota(self, args, fiu=None, kill_after=None):
        cmd = ["java", "-jar", self.jar] + args
        if fiu:
            cmd = ["fiu-run", "-x", "-f", ""] + sum((["-c", c] for c in fiu), []) + cmd
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.work)
        try:
            out, err = p.communicate(timeout=kill_after if kill_after else 120)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            out, err = p.communicate()
            return -9, out.decode(), err.decode()
        return p.returncode, out.decode(), err.decode()

    def status(self, slots):
        rc, out, err = self.ota(["status", "--slots", slots, "--json"])
        return (json.loads(out) if rc == 0 else None), rc, err

    @staticmethod
    def digest_ok(slots, name, slot):
        if slot["sha256"] is None:
            return slot["size"] == 0
        with open(os.path.join(slots, "slot-%s.img" % name), "rb") as f:
            data = f.read(slot["size"])
        return len(data) == slot["size"] and hashlib.sha256(data).hexdigest() == slot["sha256"]

    @staticmethod
    def key(slot):
        return slot["sha256"] or "factory"

    def run(self, seed, port, images, cert):
        r = random.Random(seed)
        slots = os.path.join(self.work, "store-%d" % seed)
        shutil.rmtree(slots, ignore_errors=True)
        rc, _, err = self.ota(["init", "--slots", slots, "--slot-size", "4M"])
        if rc != 0:
            return "init failed without faults: " + err.strip()
        must_keep = {"factory"}
        for _ in range(r.randint(3, 7)):
            op = r.choice(["update", "update", "update", "boot", "boot", "mark-good", "mark-good", "rollback"])
            points = r.sample(POINTS, r.randint(1, 3))
            probability = r.choice([0.02, 0.05, 0.1, 0.3])
            fiu = ["enable_random name=%s,probability=%s" % (p, probability / 10 if p.endswith("open") else probability)
                   for p in points]
            kill_after = r.uniform(0.3, 3.0) if r.random() < 0.25 else None
            before = None
            if op in ("mark-good", "rollback"):
                before, _, _ = self.status(slots)
            if op == "update":
                name, sha, size = images[r.randrange(len(images))]
                args = ["update", "https://localhost:%d/%s" % (port, name), "--slots", slots, "--root-cert", cert,
                        "--sha256", sha, "--size", str(size), "--retries", "0", "--timeout", "10s", "--no-progress"]
            else:
                args = [op, "--slots", slots]
            self.ops += 1
            rc, out, err = self.ota(args, fiu, kill_after)
            for p in points:
                self.faults[p] = self.faults.get(p, 0) + 1  # armed points (libfiu does not count hits)
            self.exits[rc] = self.exits.get(rc, 0) + 1
            if rc == -9:
                self.kills += 1
            elif rc == 1 and ("Unable to access jarfile" in err or "initialization of VM" in err
                              or "Could not" in err):
                self.jvm_start += 1  # an open failure hit the JVM's own start: nothing reached the store
            elif rc not in CONTRACT_EXITS or (rc != 0 and "error:" not in err):
                self.unexpected += 1
                self.lines.append("NOTE seed=%d: %s exited %d outside the contract: %s" % (seed, op, rc,
                                  (err.strip().splitlines() or ["(no stderr)"])[-1][:200]))
            if op == "update" and rc == 0:
                self.updates_ok += 1
            if before is not None:
                if op == "mark-good":
                    running = before["slots"][before["active"]]
                    if rc == 0:
                        must_keep = {self.key(running)}
                    elif running["state"] == "trial":
                        must_keep.add(self.key(running))
                else:
                    target = before["slots"]["b" if before["next"] == "a" else "a"]
                    if rc == 0:
                        must_keep = {self.key(target)}
                    elif target["state"] == "good":
                        must_keep.add(self.key(target))
        # the oracle
        st, rc, err = self.status(slots)
        if st is None:
            if rc == 7 and "error:" in err:
                self.refused += 1
                return None
            return "the store does not open: exit %d: %s" % (rc, err.strip())
        choice = st["slots"][st["next"]]
        if choice["state"] not in ("good", "trial") or not self.digest_ok(slots, st["next"], choice):
            self.unsafe += 1
            return "unsafe boot: boot choice %s is not a verified good/trial image: %s" % (st["next"], json.dumps(st))
        if not any(s["state"] == "good" and self.key(s) in must_keep and self.digest_ok(slots, n, s)
                   for n, s in st["slots"].items()):
            self.lost += 1
            return "lost confirmation: none of %s is a good slot with its bytes: %s" % (sorted(must_keep), json.dumps(st))
        rc, out, err = self.ota(["boot", "--slots", slots])
        booted = out.strip()
        st2, _, _ = self.status(slots)
        if rc != 0 or st2 is None or booted not in ("a", "b"):
            return "the clean boot after the run failed: exit %d: %s" % (rc, err.strip())
        s = st2["slots"][booted]
        if s["state"] not in ("good", "trial") or not self.digest_ok(slots, booted, s):
            self.unsafe += 1
            return "unsafe boot: booted %s: %s" % (booted, json.dumps(st2))
        shutil.rmtree(slots, ignore_errors=True)
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jar", default="samples/ota-cli/target/ota.jar")
    ap.add_argument("--seed", type=int, default=19000)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    if shutil.which("fiu-run") is None:
        sys.exit("fiu-run is missing: apt-get install -y fiu-utils")
    jar = os.path.abspath(a.jar)
    work = tempfile.mkdtemp(prefix="fiu-campaign-")
    try:
        cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-days", "2",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        www = os.path.join(work, "www")
        os.makedirs(www)
        images = []
        rnd = random.Random(a.seed)
        for i in range(3):
            data = rnd.randbytes(rnd.randint(256 * 1024, 3 * 1024 * 1024))
            name = "fw-%d.bin" % i
            with open(os.path.join(www, name), "wb") as f:
                f.write(data)
            images.append((name, hashlib.sha256(data).hexdigest(), len(data)))
        port = serve(www, cert, key)
        c = Campaign(jar, work)
        for i in range(a.runs):
            seed = a.seed + i
            c.runs += 1
            failure = c.run(seed, port, images, cert)
            if failure:
                c.failures += 1
                print("FAIL store=file seed=%d: %s" % (seed, failure), flush=True)
        for line in c.lines:
            print(line)
        print("libfiu campaign, store=file, seeds %d..%d" % (a.seed, a.seed + a.runs - 1))
        rows = [("runs", c.runs), ("ota processes under fiu-run", c.ops)]
        rows += [("  armed " + p, n) for p, n in sorted(c.faults.items())]
        rows += [("  exit %d" % k, v) for k, v in sorted(c.exits.items())]
        visible = sum(v for k, v in c.exits.items() if k not in (0, 1)) - c.exits.get(9, 0)
        rows += [("processes a fault or kill visibly hit (exit 7, other errors, -9)", visible),
                 ("JVM did not start (an open failure hit its own start)", c.jvm_start),
                 ("killed with SIGKILL", c.kills), ("updates installed", c.updates_ok),
                 ("exits outside the contract (see NOTE lines)", c.unexpected),
                 ("store refused to open (exit 7)", c.refused), ("unsafe boots", c.unsafe),
                 ("lost confirmations", c.lost), ("failures", c.failures)]
        for name, n in rows:
            print("  %-55s %8d" % (name, n))
        sys.exit(1 if c.failures else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
