#!/usr/bin/env python3
"""virtio-blk end to end on a qcow2 overlay: the test guest's blk test
(writes, reads back, write-zeroes, discard) on a qcow2 image made by
qemu-img over a raw backing file of random bytes. Afterwards, on the
host: `qemu-img check` finds no errors or leaks, and the image as
qemu-img reads it (`convert -O raw`) holds the guest's first pattern,
zeros where the guest zeroed and discarded, and the backing file's bytes
in the last sector, which the guest never writes; the backing file is unchanged and
the overlay stays thin.

usage: virtio_blk_qcow2.py --vmm lq-vmm --guest lq-testguest.elf
Exit: 0 pass, 1 fail, 77 skip (no /dev/kvm or no qemu-img)."""
import argparse
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SECTOR = 512
SIZE = 64 << 20
SEED0 = 0x5eed0000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmm", required=True)
    ap.add_argument("--guest", required=True)
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: no usable /dev/kvm")
        return 77
    if not shutil.which("qemu-img"):
        print("SKIP: qemu-img not found (run tools/setup)")
        return 77
    d = tempfile.mkdtemp(prefix="lq-blkq-")
    try:
        base, top, out_raw = (os.path.join(d, n) for n in ("base.raw", "top.qcow2", "out.raw"))
        with open(base, "wb") as f:
            f.write(os.urandom(SIZE))
        with open(base, "rb") as f:
            base_bytes = f.read()
        # relative backing name: resolved against the overlay's directory
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw",
                        "top.qcow2"], cwd=d, check=True)
        # Probed (no format=), an image with a backing file is refused: a
        # guest could forge that header on a raw disk and name any host file.
        probe = subprocess.run([a.vmm, "--kernel", a.guest, "--memory", "64M",
                                "--disk", f"path={top}"], capture_output=True, timeout=60)
        probe_err = probe.stderr.decode(errors="replace")
        print("probed:", probe.returncode, probe_err.strip())
        probe_ok = probe.returncode == 1 and "add format=qcow2" in probe_err
        cmd = [a.vmm, "--kernel", a.guest, "--memory", "128M", "--cpus", "2", "--cmdline", "tests=blk",
               "--disk", f"path={top},format=qcow2,serial=lq-e2e"]
        print("run:", " ".join(cmd), flush=True)
        p = subprocess.run(cmd, capture_output=True, timeout=150)
        out = p.stdout.decode(errors="replace")
        print(out, p.stderr.decode(errors="replace"), sep="\n--- stderr ---\n")
        ok = p.returncode == 0
        for line in ("LQTG: blk ok", "serial=lq-e2e", "LQTG: blk mq ok queues=2"):
            if line not in out:
                print(f"FAIL: no '{line}' in the guest's output")
                ok = False
        chk = subprocess.run(["qemu-img", "check", top], capture_output=True, text=True)
        print("qemu-img check:", chk.stdout, chk.stderr)
        subprocess.run(["qemu-img", "convert", "-O", "raw", top, out_raw], check=True)
        with open(out_raw, "rb") as f:
            img = f.read()
        want = b"".join(struct.pack("<Q", SEED0 ^ i) for i in range(64))
        with open(base, "rb") as f:
            base_after = f.read()
        checks = [
            ("probed without format=, the overlay is refused", probe_ok),
            ("qemu-img check: no errors, no leaks", chk.returncode == 0),
            ("sector 0 holds the guest's first pattern", img[:SECTOR] == want),
            ("sectors 100-115 are zero after write-zeroes",
             img[100 * SECTOR:116 * SECTOR] == bytes(16 * SECTOR)),
            ("sectors 2048-4095 are zero after discard",
             img[2048 * SECTOR:4096 * SECTOR] == bytes(2048 * SECTOR)),
            ("the last sector still comes from the backing file",
             img[SIZE - SECTOR:] == base_bytes[SIZE - SECTOR:]),
            ("the backing file is unchanged",
             hashlib.sha256(base_after).digest() == hashlib.sha256(base_bytes).digest()),
            ("the overlay stays thin (< 16 MiB)", os.path.getsize(top) < (16 << 20)),
        ]
        for what, good in checks:
            print(("ok:   " if good else "FAIL: ") + what)
            ok &= good
        print("PASS" if ok else f"FAILED (lq-vmm status {p.returncode})")
        return 0 if ok else 1
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
