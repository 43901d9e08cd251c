#!/usr/bin/env python3
"""Runs one VM under lq-vmm (or QEMU) and checks what it prints and how it
ends. Used by the kvm suite: the test guest with a given shape of VM.

Exit: 0 pass, 1 fail, 77 skip (no usable /dev/kvm)."""
import argparse
import os
import re
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmm", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--memory", default="128M")
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--expect-status", type=int, default=0)
    ap.add_argument("--expect", action="append", default=[],
                    help="regex that must match a console line (in order)")
    ap.add_argument("--expect-stderr", action="append", default=[],
                    help="regex that must match somewhere in lq-vmm's stderr")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--qemu", action="store_true",
                    help="run the guest under qemu-system-x86_64 instead")
    a = ap.parse_args()

    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is missing or not accessible to this user")
        return 77

    if a.qemu:
        cmd = [a.vmm, "-accel", "kvm", "-M", "q35", "-m", a.memory.rstrip("B"),
               "-smp", str(a.cpus), "-kernel", a.guest, "-append", a.cmdline,
               "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    else:
        cmd = [a.vmm, "--kernel", a.guest, "--cpus", str(a.cpus), "--memory", a.memory,
               "--cmdline", a.cmdline, "--serial", "stdio"]
    print("run:", " ".join(cmd), flush=True)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=a.timeout)
    except subprocess.TimeoutExpired as e:
        print(f"FAIL: no exit within {a.timeout} s")
        print((e.stdout or b"").decode(errors="replace"))
        return 1
    dt = time.monotonic() - t0
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    print(out)
    print("--- stderr ---")
    print(err)
    print(f"exit status {p.returncode} after {dt:.2f} s")

    ok = True
    if p.returncode != a.expect_status:
        print(f"FAIL: exit status {p.returncode}, expected {a.expect_status}")
        ok = False
    lines = out.splitlines()
    pos = 0
    for pat in a.expect:
        rx = re.compile(pat)
        while pos < len(lines) and not rx.search(lines[pos]):
            pos += 1
        if pos == len(lines):
            print(f"FAIL: no console line matching {pat!r} (in order)")
            ok = False
            break
        pos += 1
    for pat in a.expect_stderr:
        if not re.search(pat, err):
            print(f"FAIL: stderr lacks {pat!r}")
            ok = False
    print("PASS" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
