#!/usr/bin/env python3
"""The per-VM API of lq-vmm against real VMs (the test guest).

Modes (one per meson test):
  lifecycle  GET /vm, pause (the guest's tick lines stop), resume (they go
             on), counters and metrics, API latency, ACPI shutdown -> exit 0
  poweroff   PUT /vm/poweroff -> exit 0, socket gone
  reboot     PUT /vm/reboot with --reboot restart (boots again, boots=2)
             and with --reboot exit (exit 0)
  badinput   the bad-input table; the VM keeps running throughout
  openapi    every documented path+method against docs/api/lq-vmm.openapi.yaml
             (status documented, response matches its schema) and every
             undocumented path/method is 404/405

Exit: 0 pass, 1 fail, 77 skip (no usable /dev/kvm)."""
import argparse
import http.client
import json
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Vm:
    """One lq-vmm process with the test guest, its serial lines collected."""

    def __init__(self, a, cmdline, extra=()):
        self.dir = tempfile.mkdtemp(prefix="lq-api-")
        self.sock = os.path.join(self.dir, "api.sock")
        cmd = [a.vmm, "--kernel", a.guest, "--cpus", "2", "--memory", "128M",
               "--cmdline", cmdline, "--serial", "stdio", "--api-socket", self.sock] + list(extra)
        print("run:", " ".join(cmd), flush=True)
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.lines, self.err = [], []
        self.cv = threading.Condition()
        self.t_out = threading.Thread(target=self._read_out, daemon=True)
        self.t_err = threading.Thread(target=lambda: self.err.extend(self.p.stderr), daemon=True)
        self.t_out.start()
        self.t_err.start()

    def _read_out(self):
        for raw in self.p.stdout:
            with self.cv:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def wait_line(self, rx, timeout=60, start=0):
        """Index of the first line at or after start matching rx."""
        r = re.compile(rx)
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for i in range(start, len(self.lines)):
                    if r.search(self.lines[i]):
                        return i
                left = end - time.monotonic()
                if left <= 0 or self.p.poll() is not None and not self.t_out.is_alive():
                    raise Fail(f"no console line matching {rx!r} within {timeout} s")
                self.cv.wait(min(left, 0.5))

    def ticks(self):
        with self.cv:
            return [int(m.group(1)) for m in
                    (re.match(r"LQTG: tick (\d+)", l) for l in self.lines) if m]

    def request(self, method, path, body=None, headers=None, timeout=10):
        c = UnixHTTPConnection(self.sock, timeout)
        try:
            try:
                c.request(method, path, body=body, headers=headers or {})
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before the whole body went out (413): read the answer
            r = c.getresponse()
            data = r.read()
            return r.status, dict(r.getheaders()), data
        finally:
            c.close()

    def json(self, method, path, body=None, expect=200):
        st, hdr, data = self.request(method, path, body)
        check(st == expect, f"{method} {path}: status {st}, expected {expect}: {data[:300]!r}")
        return json.loads(data) if data else None

    def wait_exit(self, timeout=30):
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise Fail(f"lq-vmm did not exit within {timeout} s")
        self.t_out.join()
        self.t_err.join()
        return self.p.returncode

    def stderr(self):
        return b"".join(self.err).decode(errors="replace")

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        print("--- console (last 30 lines) ---")
        print("\n".join(self.lines[-30:]))
        print("--- stderr ---")
        print(self.stderr())
        try:
            if os.path.exists(self.sock):
                os.unlink(self.sock)
            os.rmdir(self.dir)
        except OSError:
            pass


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def wait_tick_after(vm, n, timeout=5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        t = vm.ticks()
        if t and t[-1] > n:
            return t[-1]
        time.sleep(0.05)
    raise Fail(f"no tick after {n} within {timeout} s")


def mode_lifecycle(a):
    fd, disk = tempfile.mkstemp(prefix="lq-api-", suffix=".img")
    os.ftruncate(fd, 8 << 20)
    os.close(fd)
    vm = Vm(a, "tests=blk wait=powerbutton",
            ["--rng", "--reboot", "exit", "--disk", f"path={disk},serial=lq-api"])
    try:
        vm.wait_line(r"^LQTG: blk ok")
        vm.wait_line(r"^LQTG: waiting for the power button")
        mode = stat.S_IMODE(os.stat(vm.sock).st_mode)
        check(mode == 0o600, f"API socket mode {mode:o}, expected 600")
        info = vm.json("GET", "/vm")
        print("GET /vm:", json.dumps(info))
        check(info["state"] == "running", "state is not running")
        check(info["config"]["cpus"] == 2 and info["config"]["memory_bytes"] == 128 << 20,
              "config does not match the flags")
        check(info["config"]["reboot"] == "exit", "reboot action not reported")
        check(any(d["type"] == "rng" and re.match(r"^0000:00:[0-9a-f]{2}\.0$", d["pci"])
                  for d in info["devices"]), "no rng device with a PCI address")
        check(info["boots"] == 1, "boots != 1")
        check(info["config"]["disks"] == [{"path": disk, "read_only": False, "direct": False,
                                           "serial": "lq-api"}], "disk config not reported")
        check(any(d["name"] == "virtio-blk0" and d["type"] == "blk" for d in info["devices"]),
              "no virtio-blk0 in the device list")

        last = wait_tick_after(vm, 2)
        t0 = time.monotonic()
        vm.json("PUT", "/vm/pause", json.dumps({"reason": "lifecycle test"}), expect=204)
        pause_ms = (time.monotonic() - t0) * 1000
        at_pause = vm.ticks()[-1]
        time.sleep(1.0)
        after = vm.ticks()[-1]
        check(after <= at_pause + 1, f"ticks went on while paused: {at_pause} -> {after}")
        check(vm.json("GET", "/vm")["state"] == "paused", "state is not paused")
        st, _, body = vm.request("PUT", "/vm/pause")
        check(st == 409 and b"already paused" in body, f"second pause: {st} {body!r}")
        st, _, body = vm.request("PUT", "/vm/shutdown")
        check(st == 409, f"shutdown while paused: {st} {body!r}")
        t0 = time.monotonic()
        vm.json("PUT", "/vm/resume", expect=204)
        resume_ms = (time.monotonic() - t0) * 1000
        wait_tick_after(vm, after, timeout=3)
        check(vm.json("GET", "/vm")["state"] == "running", "state is not running after resume")
        print(f"pause: ticks {at_pause} -> {after} over 1 s paused; "
              f"pause {pause_ms:.2f} ms, resume {resume_ms:.2f} ms")

        cnt = vm.json("GET", "/vm/counters")
        print("counters:", json.dumps(cnt)[:600])
        check(cnt["total"]["exits"] > 0, "no exits counted")
        check(cnt["total"]["by_reason"].get("io", 0) > 0, "no io exits counted")
        check(len(cnt["vcpus"]) == 2, "not 2 vCPUs in counters")
        check(cnt["vcpus"][0]["interrupted"] > 0, "the pause kick was not counted")
        check(any(d["type"] == "rng" for d in cnt["devices"]), "no rng in device counters")
        blk = next(d for d in cnt["devices"] if d["name"] == "virtio-blk0")
        check(blk["notifies"] > 0 and blk["counters"]["read_requests"] > 0 and
              blk["counters"]["write_bytes"] > 0, f"blk counters after the blk test: {blk}")
        st, hdr, text = vm.request("GET", "/metrics")
        text = text.decode()
        check(st == 200 and hdr.get("Content-Type", "").startswith("text/plain"),
              f"metrics: {st} {hdr}")
        m = re.search(r'^lqvmm_vcpu_exits_total\{vcpu="0",reason="io"\} (\d+)$', text, re.M)
        check(m and int(m.group(1)) > 0, "metrics lack io exits of vCPU 0")
        check(re.search(r'^lqvmm_vm_state\{state="running"\} 1$', text, re.M),
              "metrics lack the running state")
        check(re.search(r'^lqvmm_virtio_notifies_total\{device="virtio-rng",type="rng",'
                        r'pci="0000:00:[0-9a-f]{2}\.0"\} \d+$', text, re.M),
              "metrics lack the rng device")
        m = re.search(r'^lqvmm_virtio_device_total\{device="virtio-blk0",type="blk",'
                      r'pci="[^"]+",counter="write_bytes"\} (\d+)$', text, re.M)
        check(m and int(m.group(1)) == blk["counters"]["write_bytes"],
              "metrics and counters disagree on virtio-blk0 write_bytes")
        for line in text.splitlines():
            check(line.startswith("#") or re.match(
                r'^[a-z_]+(\{([a-z]+="[^"]*",?)+\})? [0-9.]+$', line),
                f"not Prometheus text: {line!r}")

        lat = []
        c = UnixHTTPConnection(vm.sock)
        for _ in range(1000):
            t0 = time.perf_counter()
            c.request("GET", "/vm")
            r = c.getresponse()
            r.read()
            lat.append((time.perf_counter() - t0) * 1e6)
            check(r.status == 200, "GET /vm failed in the latency loop")
        c.close()
        print(f"GET /vm latency over 1000 keep-alive requests: p50 {pct(lat, 50):.0f} us, "
              f"p99 {pct(lat, 99):.0f} us, max {max(lat):.0f} us")
        pl, rl = [], []
        c = UnixHTTPConnection(vm.sock)
        for _ in range(200):
            for path, acc in (("/vm/pause", pl), ("/vm/resume", rl)):
                t0 = time.perf_counter()
                c.request("PUT", path)
                r = c.getresponse()
                r.read()
                acc.append((time.perf_counter() - t0) * 1e6)
                check(r.status == 204, f"PUT {path} in the latency loop: {r.status}")
        c.close()
        print(f"pause/resume round trips over 200 cycles (2 vCPUs): pause p50 {pct(pl, 50):.0f} us "
              f"p99 {pct(pl, 99):.0f} us, resume p50 {pct(rl, 50):.0f} us p99 {pct(rl, 99):.0f} us")
        wait_tick_after(vm, vm.ticks()[-1])

        body = vm.json("PUT", "/vm/shutdown", expect=202)
        check(body == {"state": "shutting-down", "guest_listening": True},
              f"shutdown reply {body}")
        vm.wait_line(r"^LQTG: power button", timeout=10)
        rc = vm.wait_exit(15)
        check(rc == 0, f"exit status {rc} after ACPI shutdown, expected 0")
        check("guest powered off" in vm.stderr(), "no 'guest powered off' in stderr")
        check(not os.path.exists(vm.sock), "API socket left behind")
    finally:
        vm.close()
        os.unlink(disk)


def mode_poweroff(a):
    vm = Vm(a, "tests= wait=powerbutton")
    try:
        vm.wait_line(r"^LQTG: waiting for the power button")
        vm.json("PUT", "/vm/poweroff", json.dumps({"reason": "test"}), expect=204)
        rc = vm.wait_exit(15)
        check(rc == 0, f"exit status {rc} after poweroff, expected 0")
        check("api: poweroff requested: test" in vm.stderr(), "reason not logged")
        check(not os.path.exists(vm.sock), "API socket left behind")
    finally:
        vm.close()


def mode_reboot(a):
    vm = Vm(a, "tests= wait=powerbutton", ["--reboot", "restart"])
    try:
        vm.wait_line(r"^LQTG: waiting for the power button")
        vm.json("PUT", "/vm/reboot", expect=204)
        i = vm.wait_line(r"^LQTG: hello", timeout=30, start=1)
        vm.wait_line(r"^LQTG: waiting for the power button", start=i)
        info = vm.json("GET", "/vm")
        check(info["boots"] == 2 and info["state"] == "running", f"after reboot: {info}")
        check("restarting the VM" in vm.stderr(), "no restart in stderr")
        vm.json("PUT", "/vm/poweroff", expect=204)
        check(vm.wait_exit(15) == 0, "poweroff after the restart did not exit 0")
    finally:
        vm.close()
    vm = Vm(a, "tests= wait=powerbutton", ["--reboot", "exit"])
    try:
        vm.wait_line(r"^LQTG: waiting for the power button")
        vm.json("PUT", "/vm/reboot", expect=204)
        rc = vm.wait_exit(15)
        check(rc == 0, f"exit status {rc} after reboot with --reboot exit")
        check("exiting as --reboot exit asks" in vm.stderr(), "no reboot-exit message")
    finally:
        vm.close()


def raw_exchange(path, data, timeout=5, shut=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not b:
                break
            out += b
        return out
    finally:
        s.close()


def mode_badinput(a):
    vm = Vm(a, "tests= wait=powerbutton")
    big = b'{"reason": "' + b"x" * (1 << 20) + b'"}'
    table = [
        # name, method, path, body, headers, status, message regex
        ("malformed JSON", "PUT", "/vm/pause", b"{", {}, 400, "malformed JSON"),
        ("not an object", "PUT", "/vm/pause", b"[1,2]", {}, 400, "JSON object"),
        ("wrong type", "PUT", "/vm/pause", b'{"reason": 5}', {}, 400, "must be a string"),
        ("null reason", "PUT", "/vm/resume", b'{"reason": null}', {}, 400, "must be a string"),
        ("unknown field", "PUT", "/vm/pause", b'{"reason": "x", "force": true}', {}, 400,
         "unknown field 'force'"),
        ("repeated field", "PUT", "/vm/shutdown", b'{"reason": "a", "reason": "b"}', {}, 400,
         "given twice"),
        ("trailing data", "PUT", "/vm/pause", b'{} {}', {}, 400, "trailing data"),
        ("long reason", "PUT", "/vm/pause", json.dumps({"reason": "r" * 300}).encode(), {},
         400, "at most 200"),
        ("control chars", "PUT", "/vm/poweroff", b'{"reason": "a\\nFAKE LOG LINE"}', {}, 400,
         "control characters"),
        ("NUL byte", "PUT", "/vm/reboot", b'{"reason": "a"}\x00', {}, 400, "NUL"),
        ("deep nesting", "PUT", "/vm/pause", b"[" * 5000 + b"]" * 5000, {}, 400, "malformed"),
        ("1 MiB body", "PUT", "/vm/pause", big, {}, 413, "too large"),
        ("GET with a body", "GET", "/vm", b"{}", {}, 400, "no body"),
        ("unknown path", "GET", "/nope", None, {}, 404, "no such path"),
        ("trailing slash", "GET", "/vm/", None, {}, 404, "no such path"),
        ("wrong method", "POST", "/vm", None, {}, 405, "takes GET"),
        ("GET an action", "GET", "/vm/pause", None, {}, 405, "takes PUT"),
        ("DELETE metrics", "DELETE", "/metrics", None, {}, 405, "takes GET"),
        ("resume when running", "PUT", "/vm/resume", None, {}, 409, "not paused"),
    ]
    try:
        vm.wait_line(r"^LQTG: waiting for the power button")
        failures = 0
        for name, method, path, body, headers, status, msg in table:
            st, hdr, data = vm.request(method, path, body, headers)
            try:
                err = json.loads(data)["error"]
            except (ValueError, KeyError, TypeError):
                err = None
            ok = st == status and err is not None and re.search(msg, err)
            if status == 405:
                ok = ok and hdr.get("Allow") in ("GET", "PUT")
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {method} {path} -> {st} {err!r}")
            failures += not ok
        # Chunked upload of 1 MiB: no Content-Length, refused at the end.
        c = UnixHTTPConnection(vm.sock)
        c.putrequest("PUT", "/vm/pause")
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        for _ in range(16):
            chunk = b"x" * 65536
            c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        c.send(b"0\r\n\r\n")
        r = c.getresponse()
        data = r.read()
        c.close()
        ok = r.status == 413 and b"too large" in data
        print(f"{'ok  ' if ok else 'FAIL'} chunked 1 MiB body -> {r.status} {data[:80]!r}")
        failures += not ok
        # Pause twice, then resume.
        vm.json("PUT", "/vm/pause", expect=204)
        st, _, data = vm.request("PUT", "/vm/pause")
        ok = st == 409 and b"already paused" in data
        print(f"{'ok  ' if ok else 'FAIL'} pause when paused -> {st} {data!r}")
        failures += not ok
        vm.json("PUT", "/vm/resume", expect=204)
        # Not HTTP at all.
        for name, raw in [("garbage bytes", b"\x00\xff\xfe garbage \x01\x02\r\n\r\n"),
                          ("bad request line", b"HELLO\r\n\r\n"),
                          ("bad version", b"GET /vm HTTP/9.9\r\n\r\n"),
                          ("binary noise", bytes(range(256)) * 8)]:
            out = raw_exchange(vm.sock, raw)
            ok = re.match(rb"^HTTP/1\.[01] (4\d\d|505)", out) is not None or out == b""
            print(f"{'ok  ' if ok else 'FAIL'} {name} -> {out[:40]!r}")
            failures += not ok
        # Huge headers: refused by the HTTP layer.
        out = raw_exchange(vm.sock, b"GET /vm HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 +
                           b"\r\n\r\n")
        ok = re.match(rb"^HTTP/1\.[01] 4\d\d", out) is not None or out == b""
        print(f"{'ok  ' if ok else 'FAIL'} 100 KB header -> {out[:40]!r}")
        failures += not ok
        # Half requests: left hanging (headers, then a body) while others are served.
        halves = []
        for data in (b"GET /vm HTTP/1.1\r\nHost: x\r\n",
                     b"PUT /vm/pause HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"rea"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(vm.sock)
            s.sendall(data)
            halves.append(s)
        info = vm.json("GET", "/vm")
        ok = info["state"] == "running"
        print(f"{'ok  ' if ok else 'FAIL'} served while 2 half requests hang -> {info['state']}")
        failures += not ok
        for s in halves:
            s.close()
        # Many clients at once, pausing and resuming over each other.
        bad = []

        def client(seed):
            import random
            rnd = random.Random(seed)
            ops = [("PUT", "/vm/pause"), ("PUT", "/vm/resume"), ("GET", "/vm"),
                   ("GET", "/vm/counters"), ("GET", "/metrics"), ("POST", "/vm/pause"),
                   ("PUT", "/vm/pause")]
            for _ in range(100):
                m, path = rnd.choice(ops)
                st, _, _ = vm.request(m, path, b"{" if rnd.random() < 0.1 and m == "PUT" else None)
                if st not in (200, 204, 400, 405, 409):
                    bad.append((m, path, st))
        ts = [threading.Thread(target=client, args=(i,)) for i in range(6)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        vm.request("PUT", "/vm/resume")
        ok = not bad
        print(f"{'ok  ' if ok else 'FAIL'} 6 concurrent clients x 100 mixed requests: {bad[:5]}")
        failures += not ok
        # After all that: still running, guest still ticking.
        n = vm.ticks()[-1] if vm.ticks() else 0
        wait_tick_after(vm, n)
        info = vm.json("GET", "/vm")
        check(info["state"] == "running", f"state after the table: {info['state']}")
        check(failures == 0, f"{failures} bad-input case(s) failed")
        print(f"{len(table) + 9} bad-input cases passed; the VM is still running")
        vm.json("PUT", "/vm/poweroff", expect=204)
        check(vm.wait_exit(15) == 0, "poweroff after the table did not exit 0")
    finally:
        vm.close()


# --- OpenAPI contract -------------------------------------------------------

def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        check(ref.startswith("#/"), f"unsupported $ref {ref}")
        node = spec
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def all_props(spec, schema):
    schema = resolve(spec, schema)
    props = dict(schema.get("properties", {}))
    for sub in schema.get("allOf", []):
        props.update(all_props(spec, sub))
    return props


def validate(spec, schema, value, where, strict=True):
    """Types, enums, required and (strict) no undocumented properties
    unless additionalProperties allows them."""
    schema = resolve(spec, schema)
    for sub in schema.get("allOf", []):
        validate(spec, sub, value, where, strict=False)
    if strict and schema.get("allOf") and isinstance(value, dict):
        props = all_props(spec, schema)
        for k in value:
            check(k in props, f"{where}: undocumented property {k!r}")
    t = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool}
    if t == "integer":
        check(isinstance(value, int) and not isinstance(value, bool) or
              isinstance(value, float) and value.is_integer(), f"{where}: {value!r} not integer")
    elif t == "number":
        check(isinstance(value, (int, float)) and not isinstance(value, bool),
              f"{where}: {value!r} not a number")
    elif t:
        check(isinstance(value, types[t]), f"{where}: {value!r} is not {t}")
    if "enum" in schema:
        check(value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}")
    if t == "object":
        for r in schema.get("required", []):
            check(r in value, f"{where}: required property {r!r} missing")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for k, v in value.items():
            if k in props:
                validate(spec, props[k], v, f"{where}.{k}")
            elif isinstance(extra, dict):
                validate(spec, extra, v, f"{where}.{k}")
            elif strict and (extra is False or extra is None and props):
                raise Fail(f"{where}: undocumented property {k!r}")
    if t == "array":
        for i, v in enumerate(value):
            validate(spec, schema.get("items", {}), v, f"{where}[{i}]")


def check_op(spec, vm, method, path, expect, body=None):
    op = spec["paths"][path][method.lower()]
    st, hdr, data = vm.request(method, path, body)
    check(st == expect, f"{method} {path}: {st}, expected {expect}: {data[:200]!r}")
    resp = op["responses"].get(str(st))
    check(resp is not None, f"{method} {path}: status {st} is not documented")
    resp = resolve(spec, resp)
    content = resp.get("content")
    if not content:
        check(not data, f"{method} {path}: {st} documents no body, got {data[:80]!r}")
    else:
        ctype = hdr.get("Content-Type", "")
        media = next((m for m in content if ctype.startswith(m)), None)
        check(media, f"{method} {path}: content type {ctype!r} not in {list(content)}")
        if media == "application/json":
            validate(spec, content[media]["schema"], json.loads(data), f"{method} {path}")
    print(f"ok   {method} {path} -> {st} matches the spec")
    return st


def mode_openapi(a):
    import yaml
    with open(a.spec) as f:
        spec = yaml.safe_load(f)
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    # A guest that never enables the power button: shutdown is pressed in
    # vain and the VM stays up for the calls after it.
    vm = Vm(a, "tests= idle", ["--rng", "--reboot", "restart"])
    try:
        vm.wait_line(r"^LQTG: idle")
        calls = [("GET", "/vm", 200), ("GET", "/vm/counters", 200), ("GET", "/metrics", 200),
                 ("PUT", "/vm/pause", 204), ("PUT", "/vm/pause", 409),
                 ("PUT", "/vm/shutdown", 409), ("GET", "/vm", 200),
                 ("PUT", "/vm/resume", 204), ("PUT", "/vm/resume", 409),
                 ("PUT", "/vm/shutdown", 202), ("PUT", "/vm/pause", 400),
                 ("PUT", "/vm/reboot", 204)]
        seen = set()
        for method, path, expect in calls:
            body = b'{"bad": 1}' if expect == 400 else None
            check_op(spec, vm, method, path, expect, body)
            seen.add((method, path))
        vm.wait_line(r"^LQTG: hello", start=1)
        vm.wait_line(r"^LQTG: idle", start=vm.wait_line(r"^LQTG: hello", start=1))
        for method, path in sorted(documented - seen - {("PUT", "/vm/poweroff")}):
            check_op(spec, vm, method, path, 200 if method == "GET" else 204)
            seen.add((method, path))
        # Every documented path answers only its documented methods ...
        for p in spec["paths"]:
            for m in ("GET", "PUT", "POST", "DELETE", "PATCH"):
                if (m, p) in documented:
                    continue
                st, hdr, data = vm.request(m, p)
                check(st == 405 and "error" in json.loads(data),
                      f"{m} {p}: {st}, expected 405 (undocumented method)")
        # ... and nothing else answers.
        for p in ["/", "/vm/", "/vm/snapshot", "/vm/pause/x", "/VM", "/metrics/", "/api/v1/vm",
                  "/vm/counters/0", "/%2e%2e/vm", "/vm?x=1/../"]:
            st, hdr, data = vm.request("GET", p)
            if p.startswith("/vm?"):
                check(st == 200, f"GET {p}: query strings are ignored, got {st}")
                continue
            check(st == 404 and "error" in json.loads(data), f"GET {p}: {st}, expected 404")
        print("ok   undocumented methods get 405, undocumented paths 404")
        check_op(spec, vm, "PUT", "/vm/poweroff", 204)
        seen.add(("PUT", "/vm/poweroff"))
        check(seen == documented, f"not exercised: {documented - seen}")
        check(vm.wait_exit(15) == 0, "poweroff did not exit 0")
        print(f"{len(documented)} documented operations checked against the live API")
    finally:
        vm.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["lifecycle", "poweroff", "reboot", "badinput", "openapi"])
    ap.add_argument("--vmm", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--spec", help="the OpenAPI file (openapi mode)")
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is missing or not accessible to this user")
        return 77
    try:
        globals()["mode_" + a.mode](a)
    except Fail as e:
        print(f"FAIL: {e}")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
