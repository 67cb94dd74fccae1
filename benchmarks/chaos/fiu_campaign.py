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

With --bootloader uboot|grub the store is a bootloader store (`ota init --bootloader`, see
docs/cli.md): two 4 MiB slot files, a redundant U-Boot environment (two copies in one file, located
by a generated fw_env.config) or a grubenv, and a kernel command line file naming the running slot.
A boot is then the bootloader's, not `ota boot`: RAUC's boot script (U-Boot: the first slot of
BOOT_ORDER with attempts left is counted down, none left gives both 3; GRUB: the first slot of ORDER
with _OK=1 and _TRY=0 gets _TRY=1, none boots the default entry: grubenv's `default`, which the store keeps
on the good slot, else 0, slot A), its reads and writes done
by Debian's own fw_printenv / fw_setenv and grub-editenv, outside libfiu. The oracle adds the
bootloader's view after every run: fw_printenv / grub-editenv list read the environment; the slot
RAUC's script boots from it is the one `ota status --json` predicts, and its order, attempts left
and each trial's counter are what status says; after the boot, status names the slot booted. As in
the in-process campaign, the bootloader's last resort (no slot left to try: U-Boot's counter reset,
GRUB's default entry) booting a slot that holds no verified image is counted apart from the store's
unsafe boots.

Usage: fiu_campaign.py --jar samples/ota-cli/target/ota.jar --seed 19000 --runs 50 [--bootloader uboot|grub]
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
import zlib

LAST_RESORT = "unsafe boot (the bootloader's last resort)"
POINTS = ["posix/io/rw/pwrite", "posix/io/rw/pwrite/reduce", "posix/io/sync/fsync", "posix/io/sync/fdatasync",
          "posix/io/dir/rename", "posix/io/oc/open"]
CONTRACT_EXITS = {0, 2, 3, 4, 5, 6, 7, 8, 9}
ENV_SIZE = 0x2000
ATTEMPTS = 3


def uboot_env_copy(variables, flags):
    """One copy of a redundant U-Boot environment: CRC-32 (LE) of the data, the flags byte, the data."""
    data = b"".join(("%s=%s" % kv).encode() + b"\0" for kv in variables.items()) + b"\0"
    data = data.ljust(ENV_SIZE - 5, b"\0")
    return zlib.crc32(data).to_bytes(4, "little") + bytes([flags]) + data


class Bootloader:
    """The device's bootloader for a bootloader store: its environment, RAUC's boot script, Debian's tools."""

    def __init__(self, kind, d):
        self.kind = kind
        self.d = d
        self.cmdline = os.path.join(d, "cmdline")
        self.slot_paths = {"a": os.path.join(d, "slot-a.img"), "b": os.path.join(d, "slot-b.img")}
        if kind == "uboot":
            self.env = os.path.join(d, "uboot.env")
            self.config = os.path.join(d, "fw_env.config")
        else:
            self.env = os.path.join(d, "grubenv")

    def flash(self, slot_size):
        os.makedirs(self.d)
        with open(self.slot_paths["a"], "wb") as f:
            f.write(b"factory image of slot a".ljust(slot_size, b"\0"))
        with open(self.slot_paths["b"], "wb") as f:
            f.write(bytes(slot_size))
        self.boot_into("A")
        if self.kind == "uboot":
            with open(self.config, "w") as f:
                f.write("%s 0x0 0x%x\n%s 0x%x 0x%x\n" % (self.env, ENV_SIZE, self.env, ENV_SIZE, ENV_SIZE))
            v = {"bootcmd": "run rauc_boot", "BOOT_ORDER": "A B", "BOOT_A_LEFT": "3", "BOOT_B_LEFT": "3"}
            with open(self.env, "wb") as f:
                f.write(uboot_env_copy(v, 1) + uboot_env_copy(v, 0))
        else:
            subprocess.run(["grub-editenv", self.env, "create"], check=True)
            subprocess.run(["grub-editenv", self.env, "set", "ORDER=A B", "A_OK=1", "A_TRY=0", "B_OK=1", "B_TRY=0"],
                           check=True)

    def init_args(self):
        env = ["--fw-env-config", self.config] if self.kind == "uboot" else ["--grubenv", self.env]
        return ["--bootloader", self.kind] + env + ["--slot-a", self.slot_paths["a"], "--slot-b", self.slot_paths["b"],
                                                     "--cmdline", self.cmdline]

    def variables(self):
        """The environment as Debian's own tool reads it (None when the tool refuses it)."""
        if self.kind == "uboot":
            p = subprocess.run(["fw_printenv", "-c", self.config], capture_output=True, text=True)
        else:
            p = subprocess.run(["grub-editenv", self.env, "list"], capture_output=True, text=True)
        if p.returncode != 0:
            return None
        return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)

    def setenv(self, changes):
        if self.kind == "uboot":
            args = ["fw_setenv", "-c", self.config]
            for k, v in changes.items():
                subprocess.run(args + [k, v], check=True, capture_output=True)
        else:
            subprocess.run(["grub-editenv", self.env, "set"] + ["%s=%s" % kv for kv in changes.items()], check=True)

    def order(self, v):
        key = "BOOT_ORDER" if self.kind == "uboot" else "ORDER"
        names = [n for n in (v.get(key) or "A B").split(" ") if n in ("A", "B")]
        return names

    def left(self, v, name):
        if self.kind == "uboot":
            raw = v.get("BOOT_%s_LEFT" % name, "")
            return int(raw, 16) if raw else ATTEMPTS
        return 1 if v.get(name + "_OK") == "1" and v.get(name + "_TRY", "0") == "0" else 0

    def script_choice(self, v):
        """The slot RAUC's script boots, and whether it found none to try (U-Boot resets, GRUB takes its default)."""
        names = self.order(v)
        for name in names:
            if self.left(v, name) > 0:
                return name, False
        if self.kind == "uboot":
            return (names[0] if names else "A"), True
        return ("B" if (v.get("default") or "0").strip() == "1" else "A"), True

    def boot(self):
        """RAUC's boot script: counts the attempt in the environment, then the kernel starts with rauc.slot=."""
        v = self.variables()
        if v is None:
            raise RuntimeError("the bootloader cannot read its environment")
        name, none = self.script_choice(v)
        if self.kind == "uboot":
            if none:
                self.setenv({"BOOT_A_LEFT": "3", "BOOT_B_LEFT": "3"})
                v = self.variables()
                name, _ = self.script_choice(v)
            self.setenv({"BOOT_%s_LEFT" % name: "%x" % (self.left(v, name) - 1)})
        elif not none:
            self.setenv({name + "_TRY": "1"})
        self.boot_into(name)
        return name.lower()

    def boot_into(self, name):
        with open(self.cmdline, "w") as f:
            f.write("root=/dev/mmcblk0p2 rauc.slot=%s rw\n" % name)


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
    def __init__(self, jar, work, bootloader=None):
        self.jar = jar
        self.work = work
        self.bootloader_kind = bootloader
        self.disagree = self.last_resort = self.tool_checks = 0
        self.faults = {}
        self.exits = {}
        self.lines = []
        self.runs = self.failures = self.kills = self.refused = self.unexpected = self.updates_ok = 0
        self.unsafe = self.lost = self.ops = self.jvm_start = self.boots = 0
        self.bl = None

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

    def digest_ok(self, slots, name, slot):
        if slot["sha256"] is None:
            return slot["size"] == 0
        path = self.bl.slot_paths[name] if self.bl else os.path.join(slots, "slot-%s.img" % name)
        with open(path, "rb") as f:
            data = f.read(slot["size"])
        return len(data) == slot["size"] and hashlib.sha256(data).hexdigest() == slot["sha256"]

    @staticmethod
    def key(slot):
        return slot["sha256"] or "factory"

    def run(self, seed, port, images, cert):
        r = random.Random(seed)
        slots = os.path.join(self.work, "store-%d" % seed)
        shutil.rmtree(slots, ignore_errors=True)
        self.bl = None
        init = ["init", "--slots", slots, "--slot-size", "4M"]
        if self.bootloader_kind:
            device = os.path.join(self.work, "device-%d" % seed)
            shutil.rmtree(device, ignore_errors=True)
            self.bl = Bootloader(self.bootloader_kind, device)
            self.bl.flash(4 << 20)
            init += self.bl.init_args()
        rc, _, err = self.ota(init)
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
            if op == "boot" and self.bl:
                self.bl.boot()  # the bootloader's, with Debian's tools: not the ota process, no libfiu
                self.boots += 1
                continue
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
        unsafe = "unsafe boot"
        if self.bl:
            failure, last_resort = self.bootloader_agrees(st)
            if failure:
                self.disagree += 1
                return "bootloader disagrees: " + failure
            if last_resort:
                unsafe = LAST_RESORT
        choice = st["slots"][st["next"]]
        if choice["state"] not in ("good", "trial") or not self.digest_ok(slots, st["next"], choice):
            return self.unsafe_boot(unsafe, "boot choice %s is not a verified good/trial image: %s" % (
                st["next"], json.dumps(st)))
        if not any(s["state"] == "good" and self.key(s) in must_keep and self.digest_ok(slots, n, s)
                   for n, s in st["slots"].items()):
            self.lost += 1
            return "lost confirmation: none of %s is a good slot with its bytes: %s" % (sorted(must_keep), json.dumps(st))
        if self.bl:
            rc, err = 0, ""
            booted = self.bl.boot()
            self.boots += 1
        else:
            rc, out, err = self.ota(["boot", "--slots", slots])
            booted = out.strip()
        st2, _, _ = self.status(slots)
        if rc != 0 or st2 is None or booted not in ("a", "b"):
            return "the clean boot after the run failed: exit %d: %s" % (rc, err.strip())
        if st2["active"] != booted:
            self.disagree += 1
            return "bootloader disagrees: it booted %s, status says %s runs: %s" % (booted, st2["active"], json.dumps(st2))
        s = st2["slots"][booted]
        if s["state"] not in ("good", "trial") or not self.digest_ok(slots, booted, s):
            return self.unsafe_boot(unsafe, "booted %s: %s" % (booted, json.dumps(st2)))
        shutil.rmtree(slots, ignore_errors=True)
        if self.bl:
            shutil.rmtree(self.bl.d, ignore_errors=True)
        return None

    def unsafe_boot(self, kind, what):
        if kind == LAST_RESORT:
            self.last_resort += 1
            self.lines.append("LAST-RESORT " + what)
            return None
        self.unsafe += 1
        return "unsafe boot: " + what

    def bootloader_agrees(self, st):
        """(failure or None, whether the bootloader takes its last resort): the tool's reading against `ota status`."""
        self.tool_checks += 1
        v = self.bl.variables()
        if v is None:
            return "the bootloader's tool cannot read the environment that ota status read", False
        name, none = self.bl.script_choice(v)
        slot = name.lower()
        # what the boot rules predict from status: a used-up trial falls back to a good slot, an unbootable choice
        # yields to the other slot
        nxt = st["next"]
        chosen, other = st["slots"][nxt], st["slots"]["b" if nxt == "a" else "a"]
        predicted = nxt
        if chosen["state"] == "trial" and chosen.get("attempts", 0) >= ATTEMPTS and other["state"] == "good":
            predicted = "b" if nxt == "a" else "a"
        elif chosen["state"] not in ("good", "trial") and other["state"] in ("good", "trial"):
            predicted = "b" if nxt == "a" else "a"
        last_resort = none
        if slot != predicted and not last_resort:  # the last resort boots what it boots whatever the rules say
            return "from %s RAUC's script boots %s, status predicts %s: %s" % (v, slot, predicted, json.dumps(st)), False
        b = st.get("bootloader") or {}
        order = [n.lower() for n in self.bl.order(v)]
        left = {n: self.bl.left(v, n.upper()) for n in ("a", "b")}
        if b.get("order") != order or b.get("attemptsLeft") != left:
            return "the tool reads order %s, attempts left %s; status says %s" % (order, left, json.dumps(b)), False
        for n, s in st["slots"].items():
            if s["state"] == "trial":
                expected = ATTEMPTS - min(left[n], ATTEMPTS) if self.bl.kind == "uboot" else (0 if left[n] else ATTEMPTS)
                if s.get("attempts") != expected:
                    return "trial %s shows %s attempts, the tool's variables %s say %d" % (n, s.get("attempts"), v,
                                                                                          expected), False
        if last_resort and st["next"] != slot and predicted != slot:
            return "the bootloader's last resort boots %s, but status names %s next" % (slot, st["next"]), False
        return None, last_resort


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jar", default="samples/ota-cli/target/ota.jar")
    ap.add_argument("--seed", type=int, default=19000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--bootloader", choices=["uboot", "grub"], help="a bootloader store instead of a file store")
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
        c = Campaign(jar, work, a.bootloader)
        store = a.bootloader or "file"
        for i in range(a.runs):
            seed = a.seed + i
            c.runs += 1
            failure = c.run(seed, port, images, cert)
            if failure:
                c.failures += 1
                print("FAIL store=%s seed=%d: %s" % (store, seed, failure), flush=True)
        for line in c.lines:
            print(line)
        print("libfiu campaign, store=%s, seeds %d..%d" % (store, a.seed, a.seed + a.runs - 1))
        rows = [("runs", c.runs), ("ota processes under fiu-run", c.ops)]
        rows += [("  armed " + p, n) for p, n in sorted(c.faults.items())]
        rows += [("  exit %d" % k, v) for k, v in sorted(c.exits.items())]
        visible = sum(v for k, v in c.exits.items() if k not in (0, 1)) - c.exits.get(9, 0)
        rows += [("processes a fault or kill visibly hit (exit 7, other errors, -9)", visible),
                 ("JVM did not start (an open failure hit its own start)", c.jvm_start),
                 ("killed with SIGKILL", c.kills), ("updates installed", c.updates_ok),
                 ("exits outside the contract (see NOTE lines)", c.unexpected),
                 ("store refused to open (exit 7)", c.refused), ("unsafe boots", c.unsafe),
                 ("boots by the bootloader (RAUC's script, Debian's tools)", c.boots),
                 ("runs checked with fw_printenv / grub-editenv", c.tool_checks),
                 ("bootloader disagrees with status", c.disagree),
                 ("unsafe boots by the bootloader's last resort", c.last_resort),
                 ("lost confirmations", c.lost), ("failures", c.failures)]
        for name, n in rows:
            print("  %-55s %8d" % (name, n))
        sys.exit(1 if c.failures else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
