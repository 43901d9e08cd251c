#!/usr/bin/env python3
"""Crash safety on a qcow2 overlay, end to end: the test guest's write-heavy
block benchmark (bench=blk: random 4 KiB and sequential 1 MiB writes, many
of them allocating clusters, copying from the backing file) runs on a qcow2 image over a raw backing
file, and lq-vmm is killed with SIGKILL at a random point of its write
phases, several times, each time on a fresh overlay so the writes allocate. After every kill `qemu-img
check` must find no corruption (exit 0, or 3: leaked clusters only), and
the backing file must be unchanged.

usage: virtio_blk_qcow2_kill.py --vmm lq-vmm --guest lq-testguest.elf [--rounds N]
Exit: 0 pass, 1 fail, 77 skip (no /dev/kvm or no qemu-img)."""
import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SIZE = 64 << 20


def one_round(a, top, rnd):
    """Starts the guest and kills it at a random time inside the write
    rows of its benchmark. The guest prints its results only at the end,
    so the clock is the only way to aim: rows run 2 s each after
    "LQTG: hello" (randread, randwrite, randread qd32, randwrite qd32,
    seqread, seqwrite)."""
    start = rnd.choice([2.0, 6.0, 10.0])  # randwrite qd1, randwrite qd32, seqwrite
    at = rnd.uniform(start + 0.2, start + 1.9)
    cmd = ["stdbuf", "-oL", a.vmm, "--kernel", a.guest, "--memory", "128M", "--cmdline", "bench=blk",
           "--disk", f"path={top},format=qcow2"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    for line in p.stdout:
        if b"LQTG: hello" in line:
            break
    time.sleep(at)  # a random kill point, not a wait for anything
    p.send_signal(signal.SIGKILL)
    p.wait()
    p.stdout.close()
    return at, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmm", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: no usable /dev/kvm")
        return 77
    if not shutil.which("qemu-img") or not shutil.which("stdbuf"):
        print("SKIP: qemu-img or stdbuf not found (run tools/setup)")
        return 77
    rnd = random.Random(int(os.environ.get("LQ_SEED", "0")) or time.time_ns())
    d = tempfile.mkdtemp(prefix="lq-blkkill-")
    ok = True
    try:
        base, top = os.path.join(d, "base.raw"), os.path.join(d, "top.qcow2")
        with open(base, "wb") as f:
            f.write(os.urandom(SIZE))
        with open(base, "rb") as f:
            base_sum = hashlib.sha256(f.read()).digest()
        for r in range(a.rounds):
            # A fresh overlay each round, so the writes allocate; small
            # clusters in every other round: many more allocations.
            cs = "4096" if r % 2 == 0 else "65536"
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", f"cluster_size={cs}",
                            "-b", "base.raw", "-F", "raw", "top.qcow2"], cwd=d, check=True)
            at, status = one_round(a, top, rnd)
            if status != -signal.SIGKILL:
                print(f"round {r}: lq-vmm ended with status {status} before the kill at {at:.2f} s")
                ok = False
                break
            chk = subprocess.run(["qemu-img", "check", top], capture_output=True, text=True)
            verdict = {0: "clean", 3: "leaked clusters only"}.get(chk.returncode)
            print(f"round {r}: {cs}-byte clusters, killed {at:.2f} s into the benchmark: "
                  f"qemu-img check exit {chk.returncode} ({verdict or 'CORRUPT'})", flush=True)
            if verdict is None:
                print(chk.stdout, chk.stderr)
                ok = False
                break
        with open(base, "rb") as f:
            same = hashlib.sha256(f.read()).digest() == base_sum
        print(("ok:   " if same else "FAIL: ") + "the backing file is unchanged")
        ok &= same
        print("PASS" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
