#!/usr/bin/env python3
"""Runs one VM under lq-vmm (or QEMU) and checks what it prints and how it
ends. Used by the kvm suite: the test guest with a given shape of VM.

Exit: 0 pass, 1 fail, 77 skip (no usable /dev/kvm)."""
import argparse
import os
import re
import signal
import subprocess
import tempfile
import sys
import threading
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
    ap.add_argument("--vmm-arg", action="append", default=[],
                    help="extra argument for lq-vmm (repeat)")
    ap.add_argument("--stop-after", nargs=2, metavar=("REGEX", "N"),
                    help="SIGTERM the VMM once N console lines matched REGEX "
                         "(for guests that never stop by themselves, e.g. reboot loops)")
    ap.add_argument("--expect-file", nargs=2, action="append", default=[],
                    metavar=("FILE", "REGEX"),
                    help="after the run, FILE must contain a match for REGEX "
                         "(FILE is removed before the run)")
    ap.add_argument("--make-disk", metavar="PATH",
                    help="create PATH as an empty (sparse) 64 MiB image before the run")
    ap.add_argument("--pvh-only", action="store_true",
                    help="boot a copy of the guest whose limiquantix entry note is "
                         "renamed, so only its PVH (Xen) note is left to enter by")
    ap.add_argument("--qemu", action="store_true",
                    help="run the guest under qemu-system-x86_64 instead")
    a = ap.parse_args()

    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is missing or not accessible to this user")
        return 77

    if a.pvh_only:
        with open(a.guest, "rb") as f:
            img = f.read()
        name = b"limiquantix\0"
        if img.count(name) != 1:
            print(f"FAIL: expected one {name!r} note in {a.guest}")
            return 1
        tmp = tempfile.NamedTemporaryFile(prefix="lq-pvh-", suffix=".elf", delete=False)
        tmp.write(img.replace(name, b"limiquantiX\0"))
        tmp.close()
        a.guest = tmp.name
    try:
        return run(a)
    finally:
        if a.pvh_only:
            os.unlink(a.guest)


def run(a):
    if a.qemu:
        cmd = [a.vmm, "-accel", "kvm", "-M", "q35", "-m", a.memory.rstrip("B"),
               "-smp", str(a.cpus), "-kernel", a.guest, "-append", a.cmdline,
               "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=4"] + a.vmm_arg
    else:
        cmd = [a.vmm, "--kernel", a.guest, "--cpus", str(a.cpus), "--memory", a.memory,
               "--cmdline", a.cmdline, "--serial", "stdio"] + a.vmm_arg
    if a.make_disk:
        with open(a.make_disk, "wb") as f:
            f.truncate(64 << 20)
    for path, _ in a.expect_file:
        if os.path.exists(path):
            os.unlink(path)
    print("run:", " ".join(cmd), flush=True)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    chunks, errs = [], []
    stop_rx = re.compile(a.stop_after[0]) if a.stop_after else None
    stop_n = int(a.stop_after[1]) if a.stop_after else 0

    def read_out():
        seen = 0
        for line in p.stdout:
            chunks.append(line)
            if stop_rx and stop_rx.search(line.decode(errors="replace")):
                seen += 1
                if seen == stop_n:
                    p.send_signal(signal.SIGTERM)

    readers = [threading.Thread(target=read_out),
               threading.Thread(target=lambda: errs.extend(p.stderr))]
    for t in readers:
        t.start()
    try:
        p.wait(timeout=a.timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        for t in readers:
            t.join()
        print(f"FAIL: no exit within {a.timeout} s")
        print(b"".join(chunks).decode(errors="replace"))
        print(b"".join(errs).decode(errors="replace"))
        return 1
    for t in readers:
        t.join()
    dt = time.monotonic() - t0
    out = b"".join(chunks).decode(errors="replace")
    err = b"".join(errs).decode(errors="replace")
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
    for path, pat in a.expect_file:
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except OSError as e:
            text = ""
            print(f"FAIL: {path}: {e}")
        if not re.search(pat, text, re.M):
            print(f"FAIL: {path} lacks {pat!r}; it holds {text[:200]!r}")
            ok = False
    print("PASS" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
