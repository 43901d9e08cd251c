#!/usr/bin/env python3
"""lq-vmm's --serial back ends with the test guest: file:PATH gets the whole
console; unix:PATH serves it to a client that attaches late (the backlog is
replayed), a second client takes the console over, and the socket file is
removed when lq-vmm ends. Exit: 0 pass, 1 fail, 77 skip (no /dev/kvm)."""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def read_until(sock, marker, timeout):
    sock.settimeout(1.0)
    buf = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end and marker not in buf:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        buf += chunk
    return buf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmm", required=True)
    ap.add_argument("--guest", required=True)
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is missing or not accessible")
        return 77
    tmp = tempfile.mkdtemp(prefix="lq-serial-")

    # file:PATH
    path = os.path.join(tmp, "console.log")
    p = subprocess.run([a.vmm, "--kernel", a.guest, "--memory", "64M", "--serial", "file:" + path],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    text = open(path, "rb").read()
    print(text.decode(errors="replace"))
    if p.returncode != 0 or b"LQTG: PASS" not in text:
        fail(f"file console: status {p.returncode}, PASS line present: {b'LQTG: PASS' in text}")
    print("file: ok")

    # unix:PATH, attached after the guest already printed
    sock_path = os.path.join(tmp, "console.sock")
    p = subprocess.Popen([a.vmm, "--kernel", a.guest, "--memory", "64M", "--cmdline", "tests=mem idle",
                          "--serial", "unix:" + sock_path],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(sock_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # let the guest print before anyone listens
        c1 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c1.connect(sock_path)
        got = read_until(c1, b"LQTG: idle", 60)
        print(got.decode(errors="replace"))
        if b"LQTG: hello" not in got or b"LQTG: idle" not in got:
            fail("unix console: the backlog was not replayed to a late client")
        if oct(os.stat(sock_path).st_mode & 0o777) != "0o600":
            fail("unix console socket is not mode 0600")
        c2 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c2.connect(sock_path)
        if b"LQTG: hello" not in read_until(c2, b"LQTG: idle", 30):
            fail("second client got no backlog")
        c1.settimeout(5)
        try:
            if c1.recv(100) != b"":
                fail("first client was not disconnected when the second attached")
        except socket.timeout:
            fail("first client still attached after the second one took over")
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    if rc != 128 + signal.SIGTERM:
        fail(f"SIGTERM: exit status {rc}, expected {128 + signal.SIGTERM}")
    if os.path.exists(sock_path):
        fail("console socket left behind")
    print("unix: ok")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
