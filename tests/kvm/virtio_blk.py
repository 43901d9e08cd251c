#!/usr/bin/env python3
"""virtio-blk end to end: the test guest writes, reads back, zeroes and
discards on a disk image; afterwards this script checks the image on the
host: the guest's first pattern is there byte for byte, the write-zeroes
and discard ranges read as zeros (and the discarded range is a hole: the
file stays thin), and a sector the guest never touched is unchanged.

usage: virtio_blk.py --vmm lq-vmm --guest lq-testguest.elf
Exit: 0 pass, 1 fail, 77 skip (no /dev/kvm)."""
import argparse
import os
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
    fd, path = tempfile.mkstemp(prefix="lq-blk-", suffix=".img")
    try:
        # Random content everywhere, so zeros can only come from the guest.
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(SIZE))
        with open(path, "rb") as f:
            last_before = f.read()[SIZE - SECTOR:]
        # Two vCPUs: two request queues, used both ways by the guest.
        cmd = [a.vmm, "--kernel", a.guest, "--memory", "128M", "--cpus", "2", "--cmdline", "tests=blk",
               "--disk", f"path={path},serial=lq-e2e"]
        print("run:", " ".join(cmd), flush=True)
        p = subprocess.run(cmd, capture_output=True, timeout=120)
        out = p.stdout.decode(errors="replace")
        print(out, p.stderr.decode(errors="replace"), sep="\n--- stderr ---\n")
        ok = p.returncode == 0
        for line in ("LQTG: blk ok", "serial=lq-e2e", "LQTG: blk mq ok queues=2"):
            if line not in out:
                print(f"FAIL: no '{line}' in the guest's output")
                ok = False
        with open(path, "rb") as f:
            img = f.read()
        want = b"".join(struct.pack("<Q", SEED0 ^ i) for i in range(64))
        checks = [
            ("sector 0 holds the guest's first pattern", img[:SECTOR] == want),
            ("sectors 100-115 are zero after write-zeroes",
             img[100 * SECTOR:116 * SECTOR] == bytes(16 * SECTOR)),
            ("sectors 2048-4095 are zero after discard",
             img[2048 * SECTOR:4096 * SECTOR] == bytes(2048 * SECTOR)),
            ("the last sector is untouched", img[SIZE - SECTOR:] == last_before),
        ]
        # The discarded MiB is deallocated (thin provisioning), where the
        # file system can say so.
        with open(path, "rb") as f:
            try:
                data = os.lseek(f.fileno(), 2048 * SECTOR, os.SEEK_DATA)
                checks.append(("the discarded range is a hole", data >= 4096 * SECTOR))
            except OSError:
                pass
        for what, good in checks:
            print(("ok:   " if good else "FAIL: ") + what)
            ok &= good
        print("PASS" if ok else f"FAILED (lq-vmm status {p.returncode})")
        return 0 if ok else 1
    finally:
        os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
