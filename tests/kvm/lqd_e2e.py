#!/usr/bin/env python3
"""lqd and lqctl end to end: a real lqd (temporary state dir and socket),
real lq-vmm processes running the test guest, driven through lqctl (and
raw curl --unix-socket for what lqctl cannot send).

Modes (one per meson test):
  lifecycle  create+start, list, console, pause/resume, graceful stop (ACPI,
             exit 0), start again, reboot, events (long poll), host info,
             delete (no process, no run dir left)
  adopt      kill -9 lqd while 2 VMs run, start lqd again: both adopted
             (same pids, running, console still ticking), then managed as
             before; SIGTERM to lqd leaves VMs running too
  restart    kill -9 lq-vmm: on-failure restarts (new pid, boots 2), never
             leaves it crashed; a guest power-off: on-failure stops,
             always restarts
  badinput   the bad-input table, through curl and lqctl: each answer
             checked, and the VM list, run dirs and a running VM unchanged
  openapi    every operation of docs/api/lqd.openapi.yaml against the live
             daemon (status documented, JSON matches its schema), and
             undocumented methods/paths get 405/404

Exit: 0 pass, 1 fail, 77 skip (no usable /dev/kvm)."""
import argparse
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_for(what, fn, timeout=15, step=0.05):
    """Polls fn (test side only: lqd itself never polls) until it returns
    something true; that value."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise Fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def proc_gone(pid):
    """True when pid has exited. An lq-vmm orphaned by a killed lqd is
    re-parented to pid 1, which may not reap it here: a zombie is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


class Lqd:
    """One lqd process on a temporary state dir."""

    def __init__(self, a, state):
        self.a = a
        self.state = state
        self.sock = os.path.join(state, "lqd.sock")
        self.p = None
        self.err = []
        self.cv = threading.Condition()

    def start(self):
        cmd = [self.a.lqd, "--socket", self.sock, "--state-dir", self.state,
               "--vmm", self.a.vmm]
        print("run:", " ".join(cmd), flush=True)
        self.err = []
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        p = self.p
        self.reader = threading.Thread(target=self._read, args=(p,), daemon=True)
        self.reader.start()
        self.wait_log("serving on")

    def _read(self, p):
        for raw in p.stderr:
            with self.cv:
                self.err.append(raw.decode(errors="replace").rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def wait_log(self, text, timeout=15):
        end = time.monotonic() + timeout
        with self.cv:
            while not any(text in l for l in self.err):
                left = end - time.monotonic()
                if left <= 0 or self.p.poll() is not None:
                    raise Fail(f"lqd: no '{text}' in its log:\n" + "\n".join(self.err))
                self.cv.wait(min(left, 0.5))

    def log(self):
        with self.cv:
            return "\n".join(self.err)

    def kill9(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()
        self.reader.join(5)

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
            self.reader.join(5)
        return self.p.returncode if self.p else None


class Env:
    def __init__(self, a):
        self.a = a
        # short: VM API sockets live under it and must fit a sun_path
        self.state = tempfile.mkdtemp(prefix="lqd-e2e-", dir="/tmp")
        self.lqd = Lqd(a, self.state)

    # ---- lqctl ----
    def lqctl(self, *args, rc=0, json_out=False, timeout=60):
        cmd = [self.a.lqctl, "--socket", self.lqd.sock] + (["--json"] if json_out else []) + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if rc is not None and r.returncode != rc:
            raise Fail(f"{' '.join(cmd)}: exit {r.returncode}, expected {rc}\n"
                       f"stdout: {r.stdout}\nstderr: {r.stderr}")
        if json_out and r.returncode == 0 and r.stdout.strip():
            return json.loads(r.stdout)
        return r

    def vm(self, name):
        return self.lqctl("vm", "get", name, json_out=True)

    def create(self, name, *extra, cmdline="wait=powerbutton", start=True):
        args = ["vm", "create", name, "--cpus", "1", "--memory", "128M", "--kernel",
                self.a.guest, "--cmdline", cmdline] + list(extra) + (["--start"] if start else [])
        return self.lqctl(*args, json_out=True)

    def console(self, name):
        return self.lqctl("vm", "console", name).stdout

    def ticks(self, name):
        return [int(t) for t in re.findall(r"LQTG: tick (\d+)", self.console(name))]

    def wait_tick_after(self, name, n, timeout=15):
        return wait_for(f"{name}: a tick after {n}",
                        lambda: max(self.ticks(name) or [-1]) > n and max(self.ticks(name)),
                        timeout)

    def follow_until(self, name, rx, timeout=20):
        """lqctl vm console -f until a line matches rx (the follow path:
        long polls woken by inotify in lqd)."""
        p = subprocess.Popen([self.a.lqctl, "--socket", self.lqd.sock, "vm", "console", "-f", name],
                             stdout=subprocess.PIPE, text=True)
        found = []
        t = threading.Thread(target=lambda: found.extend(
            l for l in p.stdout if re.search(rx, l) and not found), daemon=True)
        t.start()
        try:
            wait_for(f"{name}: console line {rx!r}", lambda: found, timeout)
        finally:
            p.kill()
            p.wait()
        return found[0]

    # ---- raw HTTP through curl ----
    def curl(self, method, path, body=None, headers=()):
        cmd = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--unix-socket", self.lqd.sock,
               "-X", method, "http://lqd" + path]
        for h in headers:
            cmd += ["-H", h]
        if body is not None:
            cmd += ["--data-binary", "@-", "-H", "Content-Type: application/json"]
        r = subprocess.run(cmd, input=body if isinstance(body, bytes) else
                           (body or "").encode(), capture_output=True, timeout=60)
        out = r.stdout.decode(errors="replace")
        text, _, code = out.rpartition("\n")
        return int(code or 0), text

    def vmm_pids(self):
        """lq-vmm processes (alive) whose command line names our state dir."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cl = f.read().decode(errors="replace")
            except OSError:
                continue
            if self.state in cl and "--api-socket" in cl and not proc_gone(int(d)):
                pids.append(int(d))
        return pids

    def close(self):
        self.lqd.stop()
        for pid in self.vmm_pids():  # only ours: their command lines name our state dir
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        print("--- lqd log ---")
        print(self.lqd.log())
        shutil.rmtree(self.state, ignore_errors=True)


def state_of(env, name):
    return env.vm(name)["state"]


# ---------------------------------------------------------------- modes

def mode_lifecycle(env):
    env.lqd.start()
    st = os.stat(env.lqd.sock)
    check(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660,
          f"lqd socket mode {oct(stat.S_IMODE(st.st_mode))}, expected 0660")
    v = env.create("vm1", "--label", "app=test", "--label", "tier=e2e")
    check(v["state"] == "running" and v["pid"] > 0 and v["boots"] == 1,
          f"create --start: {v}")
    check(v["labels"] == {"app": "test", "tier": "e2e"}, f"labels: {v['labels']}")
    pid1 = v["pid"]
    rundir = v["run_dir"]
    check(os.path.isdir(rundir), f"no run dir {rundir}")

    table = env.lqctl("vm", "list").stdout
    print(table)
    check(re.search(r"^NAME\s+STATE\s+CPUS\s+MEMORY\s+PID\s+UPTIME", table, re.M), "list header")
    check(re.search(rf"^vm1\s+running\s+1\s+128M\s+{pid1}\s", table, re.M), "list shows vm1 running")
    lst = env.lqctl("vm", "list", json_out=True)
    check([x["name"] for x in lst["vms"]] == ["vm1"], f"list --json: {lst}")

    env.follow_until("vm1", r"LQTG: tick \d+")
    check("LQTG: hello" in env.console("vm1"), "console shows the guest's boot")
    # (checked once the guest runs, so lq-vmm has been exec'd)
    check(os.getsid(pid1) == pid1, "lq-vmm is not in its own session")
    # lq-vmm holds only stdin/stdout/stderr and what it opened itself:
    # nothing of lqd's (its socket, database, lock, epoll, other pidfds).
    fds = {os.readlink(f"/proc/{pid1}/fd/{f}") for f in os.listdir(f"/proc/{pid1}/fd")}
    check(not any(x in f for f in fds for x in ("lqd.db", "lqd.sock", "lqd.lock", "inotify",
                                                  "pidfd")), f"lq-vmm inherited {fds}")
    print("lq-vmm fds:", sorted(fds))

    # pause: the guest's ticks stop; resume: they go on
    seq = env.curl("GET", "/v1/events?timeout_s=0")
    since = json.loads(seq[1])["next"]
    got = {}
    waiter = threading.Thread(target=lambda: got.update(
        r=env.curl("GET", f"/v1/events?since={since}&timeout_s=20")))
    waiter.start()
    time.sleep(0.2)  # let the long poll park in lqd
    v = env.lqctl("vm", "pause", "vm1", json_out=True)
    check(v["state"] == "paused", f"pause: {v}")
    t0 = time.monotonic()
    waiter.join(25)
    code, body = got["r"]
    ev = json.loads(body)
    check(code == 200 and any(e["vm"] == "vm1" and e["type"] == "paused" for e in ev["events"]),
          f"long poll did not report the pause: {code} {body}")
    print(f"events long poll answered {1000 * (time.monotonic() - t0):.1f} ms after the pause")
    check(re.search(r"^vm1\s+paused", env.lqctl("vm", "list").stdout, re.M), "list shows paused")
    a = max(env.ticks("vm1"))
    time.sleep(0.6)
    b = max(env.ticks("vm1"))
    check(b <= a + 1, f"ticks went on while paused: {a} -> {b}")
    env.lqctl("vm", "pause", "vm1", rc=3)  # already paused: conflict
    v = env.lqctl("vm", "resume", "vm1", json_out=True)
    check(v["state"] == "running", f"resume: {v}")
    env.wait_tick_after("vm1", b)

    # graceful stop: ACPI power button, the guest powers off, exit 0
    t0 = time.monotonic()
    v = env.lqctl("vm", "stop", "vm1", json_out=True)
    print(f"graceful stop took {1000 * (time.monotonic() - t0):.1f} ms")
    check(v["state"] == "stopped" and v["last_exit"] == 0 and v["pid"] == 0, f"stop: {v}")
    check("LQTG: power button" in env.console("vm1"), "the guest did not see the power button")
    check(proc_gone(pid1), f"lq-vmm {pid1} still there after stop")
    check(not os.path.exists(os.path.join(rundir, "api.sock")), "api.sock left after stop")
    env.lqctl("vm", "stop", "vm1", rc=3)  # not running: conflict
    env.lqctl("vm", "pause", "vm1", rc=3)

    # update while stopped: the next start uses it
    v = env.lqctl("vm", "update", "vm1", "--cpus", "2", "--memory", "256M", "--label", "app=web",
                  json_out=True)
    check(v["cpus"] == 2 and v["memory_mib"] == 256 and v["labels"] == {"app": "web"}
          and v["state"] == "stopped", f"update: {v}")

    # start again: a new lq-vmm, boots 2
    v = env.lqctl("vm", "start", "vm1", json_out=True)
    check(v["state"] == "running" and v["boots"] == 2 and v["pid"] not in (0, pid1),
          f"start again: {v}")
    pid2 = v["pid"]
    env.follow_until("vm1", r"LQTG: tick \d+")
    check("LQTG: cpus=2" in env.console("vm1"), "the update's 2 vCPUs are not in the guest")
    # while running, only labels and restart_policy change
    v = env.lqctl("vm", "update", "vm1", "--label", "app=db", "--restart-policy", "always",
                  json_out=True)
    check(v["labels"] == {"app": "db"} and v["restart_policy"] == "always" and v["pid"] == pid2,
          f"live update: {v}")
    r = env.lqctl("vm", "update", "vm1", "--cpus", "1", rc=3)
    check("only while it is stopped" in r.stderr, r.stderr)

    # reboot: same process, the guest boots again
    hellos = env.console("vm1").count("LQTG: hello")
    v = env.lqctl("vm", "reboot", "vm1", json_out=True)
    check(v["state"] == "running" and v["pid"] == pid2, f"reboot: {v}")
    wait_for("the guest to boot again", lambda: env.console("vm1").count("LQTG: hello") > hellos)
    # ticking again: its power button is enabled, so the delete below is graceful
    wait_for("ticks after the reboot",
             lambda: "LQTG: tick" in env.console("vm1").rsplit("LQTG: hello", 1)[1])

    # the events so far, from the start
    code, body = env.curl("GET", "/v1/events?since=0&timeout_s=0")
    types = [e["type"] for e in json.loads(body)["events"] if e["vm"] == "vm1"]
    print("events:", types)
    for t in ["created", "running", "paused", "stopped", "rebooted", "updated"]:
        check(t in types, f"no {t} event: {types}")

    h = env.lqctl("host", "info", json_out=True)
    check(h["cpus"] == os.cpu_count() and h["memory_mib"] > 0 and h["vms"]["total"] == 1
          and h["vms"]["running"] == 1, f"host info: {h}")
    check("vms:" in env.lqctl("host", "info").stdout, "host info table")

    # delete a running VM: stopped first, then nothing left behind
    t0 = time.monotonic()
    r = env.lqctl("vm", "delete", "vm1")
    check("deleted vm1" in r.stdout, r.stdout)
    check(time.monotonic() - t0 < 10, "delete was not graceful (it waited for the timeout)")
    check("did not power off in time" not in env.lqd.log(), "delete had to force")
    check(proc_gone(pid2), f"lq-vmm {pid2} still there after delete")
    check(not os.path.exists(rundir), f"{rundir} left after delete")
    check(env.vmm_pids() == [], f"lq-vmm processes left: {env.vmm_pids()}")
    env.lqctl("vm", "get", "vm1", rc=2)
    check(env.lqctl("vm", "list", json_out=True)["vms"] == [], "list not empty after delete")
    check(env.lqd.stop() == 0, "lqd did not exit 0 on SIGTERM")
    check(not os.path.exists(env.lqd.sock), "lqd left its socket behind")


def mode_adopt(env):
    env.lqd.start()
    # a second lqd on the same state dir (another socket) is refused
    r = subprocess.run([env.a.lqd, "--socket", os.path.join(env.state, "other.sock"),
                        "--state-dir", env.state, "--vmm", env.a.vmm], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 1 and "another lqd uses this state dir" in r.stderr,
          f"second lqd: exit {r.returncode}: {r.stderr}")
    pids = {}
    for n in ("vm-a", "vm-b"):
        pids[n] = env.create(n)["pid"]
    for n in pids:
        env.follow_until(n, r"LQTG: tick \d+")
    env.lqctl("vm", "pause", "vm-b")
    env.lqd.kill9()
    print("lqd killed with SIGKILL; VMs:", pids)
    for n, p in pids.items():
        check(not proc_gone(p), f"{n}: lq-vmm {p} died with lqd")
    env.lqd.start()
    for n, p in pids.items():
        check(f"VM {n}: adopted lq-vmm pid {p}" in env.lqd.log(), f"{n} not adopted:\n{env.lqd.log()}")
        v = env.vm(n)
        want = "paused" if n == "vm-b" else "running"
        check(v["pid"] == p and v["state"] == want and v["boots"] == 1,
              f"{n} after the lqd restart: {v}")
    # still a live guest, and still managed: through its own API
    env.wait_tick_after("vm-a", max(env.ticks("vm-a")))
    v = env.lqctl("vm", "resume", "vm-b", json_out=True)
    check(v["state"] == "running", f"resume after adoption: {v}")
    env.wait_tick_after("vm-b", max(env.ticks("vm-b")))
    # SIGTERM: lqd goes, VMs stay; adopted again
    check(env.lqd.stop() == 0, "lqd did not exit 0 on SIGTERM")
    for n, p in pids.items():
        check(not proc_gone(p), f"{n}: lq-vmm {p} died with a SIGTERMed lqd")
    env.lqd.start()
    check(all(env.vm(n)["pid"] == p for n, p in pids.items()), "not adopted after SIGTERM")
    # graceful stop of an adopted VM (not lqd's child: exit status unknown)
    v = env.lqctl("vm", "stop", "vm-a", json_out=True)
    check(v["state"] == "stopped" and proc_gone(pids["vm-a"]), f"stop adopted: {v}")
    check("LQTG: power button" in env.console("vm-a"), "adopted VM did not get the power button")
    # a VM whose lq-vmm died while lqd was down is accounted for
    env.lqd.kill9()
    os.kill(pids["vm-b"], signal.SIGKILL)
    wait_for("vm-b to die", lambda: proc_gone(pids["vm-b"]))
    env.lqd.start()
    v = wait_for("vm-b restarted (on-failure, died while lqd was down)",
                 lambda: (lambda x: x["state"] == "running" and x["pid"] not in (0, pids["vm-b"]) and x)(env.vm("vm-b")))
    check(v["boots"] == 2, f"vm-b: {v}")
    env.follow_until("vm-b", r"LQTG: tick \d+")  # booted: the delete below is graceful
    # lqd dies while a graceful stop waits on a guest that ignores the
    # button: the next lqd adopts the VM and carries on stopping it
    deaf = env.create("vm-deaf", cmdline="tests= idle")["pid"]
    env.follow_until("vm-deaf", r"LQTG: idle")
    bg = subprocess.Popen([env.a.lqctl, "--socket", env.lqd.sock, "vm", "stop", "vm-deaf",
                           "--timeout", "300"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for("the stop to be under way",
             lambda: env.vm("vm-deaf").get("transition") == "stopping")
    env.lqd.kill9()
    bg.wait()
    env.lqd.start()
    check("VM vm-deaf: desired stopped: stopping it again" in env.lqd.log(),
          f"adopted VM with desired stopped not stopped again:\n{env.lqd.log()}")
    v = env.lqctl("vm", "stop", "vm-deaf", "--force", json_out=True)
    check(v["state"] == "stopped" and proc_gone(deaf), f"forced stop of adopted VM: {v}")
    for n in list(pids) + ["vm-deaf"]:
        env.lqctl("vm", "delete", n)
    check(env.vmm_pids() == [], f"lq-vmm processes left: {env.vmm_pids()}")
    check(os.listdir(os.path.join(env.state, "run")) == [], "run dirs left")


def mode_restart(env):
    env.lqd.start()
    f = env.create("vm-f", "--restart-policy", "on-failure")
    n = env.create("vm-n", "--restart-policy", "never")
    for x in ("vm-f", "vm-n"):
        env.follow_until(x, r"LQTG: tick \d+")
    os.kill(f["pid"], signal.SIGKILL)
    v = wait_for("vm-f restarted",
                 lambda: (lambda x: x["state"] == "running" and x["pid"] not in (0, f["pid"]) and x)(env.vm("vm-f")))
    check(v["boots"] == 2 and v["last_exit"] == 137, f"vm-f after kill -9: {v}")
    env.follow_until("vm-f", r"LQTG: tick \d+")
    os.kill(n["pid"], signal.SIGKILL)
    v = wait_for("vm-n crashed", lambda: (lambda x: x["state"] == "crashed" and x)(env.vm("vm-n")))
    check(v["pid"] == 0 and v["last_exit"] == 137 and v["boots"] == 1, f"vm-n after kill -9: {v}")
    time.sleep(1.0)  # longer than any back-off step it could have taken
    v = env.vm("vm-n")
    check(v["state"] == "crashed" and v["boots"] == 1, f"vm-n came back: {v}")
    check(re.search(r"^vm-n\s+crashed", env.lqctl("vm", "list").stdout, re.M), "list shows crashed")
    # a crashed VM starts again by hand
    v = env.lqctl("vm", "start", "vm-n", json_out=True)
    check(v["state"] == "running" and v["boots"] == 2, f"start crashed: {v}")
    # the guest powers itself off (no wait=): exit 0
    env.create("vm-p", "--restart-policy", "on-failure", cmdline="tests=")
    v = wait_for("vm-p stopped", lambda: (lambda x: x["state"] == "stopped" and x)(env.vm("vm-p")))
    check(v["last_exit"] == 0 and v["boots"] == 1 and v["desired"] == "stopped",
          f"on-failure, clean power-off: {v}")
    env.create("vm-a", "--restart-policy", "always", cmdline="tests=")
    v = wait_for("vm-a restarted after a clean exit",
                 lambda: (lambda x: x["boots"] >= 3 and x)(env.vm("vm-a")))
    print("always:", v["boots"], "boots so far")
    env.lqctl("vm", "stop", "vm-a")
    b = env.vm("vm-a")["boots"]
    time.sleep(0.5)
    v = env.vm("vm-a")
    check(v["state"] == "stopped" and v["boots"] == b, f"always after stop: {v}")
    # stopping a paused VM: resumed first, so the guest sees the button
    env.lqctl("vm", "pause", "vm-f")
    v = env.lqctl("vm", "stop", "vm-f", json_out=True)
    check(v["state"] == "stopped" and v["last_exit"] == 0, f"stop paused: {v}")
    check(env.console("vm-f").rstrip().endswith("LQTG: power button"), "paused VM not stopped gracefully")
    for x in ("vm-f", "vm-n", "vm-p", "vm-a"):
        env.lqctl("vm", "delete", x)
    check(env.vmm_pids() == [], f"lq-vmm processes left: {env.vmm_pids()}")


def snapshot(env):
    """What must not change when a request is refused."""
    vms = env.lqctl("vm", "list", json_out=True)["vms"]
    for v in vms:
        v.pop("uptime_s", None)
    return vms, sorted(os.listdir(os.path.join(env.state, "run")))


def mode_badinput(env):
    env.lqd.start()
    keep = env.create("keep")
    env.create("idle", start=False)
    env.follow_until("keep", r"LQTG: tick \d+")
    g = env.a.guest
    ok = {"name": "x1", "memory_mib": 128, "kernel": g}

    def spec(**kw):
        d = dict(ok)
        d.update(kw)
        return json.dumps({k: v for k, v in d.items() if v is not ...})

    long_name = "a" * 64
    cases = [
        # method, path, body, status, text in the error
        ("POST", "/v1/vms", "{bad", 400, "malformed JSON"),
        ("POST", "/v1/vms", '{"name": "x1",', 400, "malformed JSON"),
        ("POST", "/v1/vms", "[]", 400, "JSON object"),
        ("POST", "/v1/vms", "", 400, "body"),
        ("POST", "/v1/vms", b'{"name":"x1"}\x00{"memory_mib":1}', 400, "NUL"),
        ("POST", "/v1/vms", spec(colour="red"), 400, "unknown member 'colour'"),
        ("POST", "/v1/vms", spec(cpus="2"), 400, "cpus"),
        ("POST", "/v1/vms", spec(memory_mib="128"), 400, "memory_mib"),
        ("POST", "/v1/vms", spec(name=5), 400, "name"),
        ("POST", "/v1/vms", spec(rng="yes"), 400, "rng"),
        ("POST", "/v1/vms", spec(labels=["a"]), 400, "labels"),
        ("POST", "/v1/vms", spec(disks="/x"), 400, "disks"),
        ("POST", "/v1/vms", spec(start="yes"), 400, "start"),
        ("POST", "/v1/vms", spec(restart_policy="sometimes"), 400, "restart_policy"),
        ("POST", "/v1/vms", spec(name="a/b"), 400, "name"),
        ("POST", "/v1/vms", spec(name=".."), 400, "name"),
        ("POST", "/v1/vms", spec(name="../etc"), 400, "name"),
        ("POST", "/v1/vms", spec(name="UPPER"), 400, "name"),
        ("POST", "/v1/vms", spec(name=""), 400, "name"),
        ("POST", "/v1/vms", spec(name=long_name), 400, "name"),
        ("POST", "/v1/vms", spec(name=...), 400, "name is required"),
        ("POST", "/v1/vms", spec(memory_mib=0), 400, "memory_mib"),
        ("POST", "/v1/vms", spec(memory_mib=1 << 40), 400, "memory_mib"),
        ("POST", "/v1/vms", spec(memory_mib=-1), 400, "memory_mib"),
        ("POST", "/v1/vms", spec(cpus=0), 400, "cpus"),
        ("POST", "/v1/vms", spec(cpus=100000), 400, "cpus"),
        ("POST", "/v1/vms", spec(kernel="relative/k"), 400, "absolute"),
        ("POST", "/v1/vms", spec(kernel="/nonexistent/kernel"), 400, "No such file"),
        ("POST", "/v1/vms", spec(disks=[{"path": "/tmp/a,b"}]), 400, "','"),
        ("POST", "/v1/vms", spec(disks=[{"path": "/nonexistent.img"}]), 400, "No such file"),
        ("POST", "/v1/vms", spec(name="keep"), 409, "already exists"),
        ("POST", "/v1/vms", "x" * 100000, 413, "too large"),
        ("PUT", "/v1/vms", spec(), 405, "not allowed"),
        ("DELETE", "/v1/host", None, 405, "not allowed"),
        ("POST", "/v1/vms/keep", None, 405, "not allowed"),
        ("GET", "/v1/vms/keep/start", None, 405, "not allowed"),
        ("GET", "/v1/nope", None, 404, "no such path"),
        ("GET", "/v1/vms/keep/nope", None, 404, "no such path"),
        ("GET", "/v1/vms/nope", None, 404, "no VM named nope"),
        ("POST", "/v1/vms/nope/start", None, 404, "no VM"),
        ("POST", "/v1/vms/nope/stop", None, 404, "no VM"),
        ("DELETE", "/v1/vms/nope", None, 404, "no VM"),
        ("GET", "/v1/vms/nope/console", None, 404, "no VM"),
        ("GET", "/v1/vms/a..b", None, 400, "not a VM name"),
        ("GET", "/v1/vms/UPPER", None, 400, "not a VM name"),
        ("DELETE", "/v1/vms/keep%00x", None, 400, "not a VM name"),
        ("POST", "/v1/vms/keep%2fstop", None, 400, "not a VM name"),
        ("GET", "/v1/vms/%2e%2e", None, 400, "not a VM name"),
        ("DELETE", "/v1/vms/" + long_name, None, 400, "not a VM name"),
        ("GET", "/v1/vms", '{"a":1}', 400, "take no body"),
        ("POST", "/v1/vms/keep/stop", '{"when":"now"}', 400, "timeout_s"),
        ("POST", "/v1/vms/keep/stop", '{"timeout_s":-1}', 400, "timeout_s"),
        ("POST", "/v1/vms/keep/stop", '{"force":"yes"}', 400, "force"),
        ("POST", "/v1/vms/keep/stop", '{"force":false,"force":true}', 400, "force"),
        ("POST", "/v1/vms/keep/stop", '[1]', 400, "JSON object"),
        ("DELETE", "/v1/vms/keep?timeout_s=abc", None, 400, "timeout_s"),
        ("DELETE", "/v1/vms/keep?force=maybe", None, 400, "force"),
        ("POST", "/v1/vms/keep/pause", '{"x":1}', 400, "no body"),
        ("POST", "/v1/vms/keep/start", None, 409, "already running"),
        ("POST", "/v1/vms/keep/resume", None, 409, "not paused"),
        ("POST", "/v1/vms/idle/pause", None, 409, "not running"),
        ("POST", "/v1/vms/idle/stop", None, 409, "not running"),
        ("PATCH", "/v1/vms/idle", '{"name":"other"}', 400, "renamed"),
        ("PATCH", "/v1/vms/idle", '{"cpus":0}', 400, "cpus"),
        ("PATCH", "/v1/vms/idle", '{"colour":"red"}', 400, "unknown member"),
        ("PATCH", "/v1/vms/idle", '{"start":true}', 400, "unknown member 'start'"),
        ("PATCH", "/v1/vms/idle", '{"kernel":"/nonexistent"}', 400, "No such file"),
        ("PATCH", "/v1/vms/idle", '{"memory_mib":0}', 400, "memory_mib"),
        ("PATCH", "/v1/vms/idle", '{"labels":{"a":1}}', 400, "labels"),
        ("PATCH", "/v1/vms/idle", '{"rng":true,"rng":false}', 400, "twice"),
        ("PATCH", "/v1/vms/idle", '[]', 400, "JSON object"),
        ("PATCH", "/v1/vms/idle", None, 400, "required"),
        ("PATCH", "/v1/vms/keep", '{"cpus":2}', 409, "only while it is stopped"),
        ("PATCH", "/v1/vms/keep", '{"colour":1}', 400, "unknown member"),
        ("PATCH", "/v1/vms/nope", '{"cpus":2}', 404, "no VM"),
        ("GET", "/v1/events?since=abc", None, 400, "since"),
        ("GET", "/v1/events?timeout_s=100000", None, 400, "timeout_s"),
        ("GET", "/v1/vms/keep/console?offset=-1", None, 400, "offset"),
    ]
    before = snapshot(env)
    failures = []
    for method, path, body, want, text in cases:
        code, out = env.curl(method, path, body)
        try:
            err = json.loads(out).get("error", "")
        except ValueError:
            err = None
        line = f"{method} {path} {str(body)[:50]!r}: {code} {out[:120]}"
        print(line)
        if code != want or err is None or text not in err:
            failures.append(f"{line}  (expected {want} with '{text}')")
        after = snapshot(env)
        if after != before:
            failures.append(f"{line}: state changed: {before} -> {after}")
            before = after
    # a chunked body (no Content-Length) over the limit: read, dropped, 413
    code, out = env.curl("POST", "/v1/vms", "y" * 100000, headers=["Transfer-Encoding: chunked"])
    print(f"POST /v1/vms chunked 100000 bytes: {code} {out[:80]}")
    if code != 413 or snapshot(env) != before:
        failures.append(f"chunked huge body: {code} {out[:100]}")
    # lqctl: validation, not found, conflict, unreachable
    lq = [
        (["vm", "create", "x2", "--memory", "12X", "--kernel", g], 1, "--memory"),
        (["vm", "create", "x2", "--memory", "128M", "--kernel", g, "--cpus", "two"], 1, "--cpus"),
        (["vm", "create", "x2", "--memory", "128M", "--kernel", g, "--disk", "readonly=on"], 1, "path="),
        (["vm", "create", "x2", "--memory", "128M", "--kernel", g, "--label", "novalue"], 1, "KEY=VALUE"),
        (["vm", "create", "x/2", "--memory", "128M", "--kernel", g], 1, "name"),
        (["vm", "create", "x2", "--memory", "0M", "--kernel", g], 1, "memory_mib"),
        (["vm", "create", "x2", "--memory", "128M", "--kernel", g, "--restart-policy", "sometimes"], 1, "restart_policy"),
        (["vm", "create", "keep", "--memory", "128M", "--kernel", g], 3, "already exists"),
        (["vm", "create"], 1, "usage"),
        (["vm", "frobnicate", "keep"], 1, "usage"),
        (["vm", "get", "nope"], 2, "no VM named nope"),
        (["vm", "delete", "nope"], 2, "no VM"),
        (["vm", "start", "keep"], 3, "already running"),
        (["vm", "stop", "idle"], 3, "not running"),
        (["vm", "update", "keep", "--memory", "256M"], 3, "only while it is stopped"),
        (["vm", "update", "idle"], 1, "nothing to change"),
        (["vm", "update", "idle", "--start"], 1, "--start"),
        (["vm", "update", "nope", "--cpus", "2"], 2, "no VM"),
    ]
    for args, want, text in lq:
        r = env.lqctl(*args, rc=None)
        line = f"lqctl {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()[:150]}"
        print(line)
        if r.returncode != want or text not in r.stderr:
            failures.append(f"{line}  (expected exit {want} with '{text}')")
        after = snapshot(env)
        if after != before:
            failures.append(f"{line}: state changed")
            before = after
    r = subprocess.run([env.a.lqctl, "--socket", "/nonexistent/lqd.sock", "vm", "list"],
                       capture_output=True, text=True)
    print(f"lqctl on a missing socket: exit {r.returncode}: {r.stderr.strip()}")
    if r.returncode != 4 or "cannot reach lqd" not in r.stderr:
        failures.append(f"unreachable: exit {r.returncode} {r.stderr}")
    v = env.vm("keep")
    check(v["state"] == "running" and v["pid"] == keep["pid"] and v["boots"] == 1,
          f"the running VM was disturbed: {v}")
    env.wait_tick_after("keep", max(env.ticks("keep")))
    print(f"{len(cases)} API cases, {len(lq) + 1} lqctl cases")
    check(not failures, "bad-input failures:\n  " + "\n  ".join(failures))
    env.lqctl("vm", "delete", "keep")
    env.lqctl("vm", "delete", "idle")
    check(env.vmm_pids() == [], "lq-vmm processes left")


# ---------------------------------------------------------------- openapi

def schema_check(spec, schema, v, where):
    """A small JSON-schema check for the OpenAPI subset the spec uses."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return schema_check(spec, spec["components"]["schemas"][name], v, where)
    if v is None:
        check(schema.get("nullable"), f"{where}: null where {schema.get('type')} expected")
        return
    t = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool,
             "integer": int, "number": (int, float)}
    if t:
        ok = isinstance(v, types[t]) and not (t in ("integer", "number") and isinstance(v, bool))
        if t == "integer" and isinstance(v, float):
            ok = v == int(v)
        check(ok, f"{where}: {v!r} is not {t}")
    if "enum" in schema:
        check(v in schema["enum"], f"{where}: {v!r} not in {schema['enum']}")
    if "pattern" in schema:
        check(re.search(schema["pattern"], v), f"{where}: {v!r} does not match {schema['pattern']}")
    if "minimum" in schema:
        check(v >= schema["minimum"], f"{where}: {v} < {schema['minimum']}")
    if t == "object":
        for r in schema.get("required", []):
            check(r in v, f"{where}: no member {r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, x in v.items():
            if k in props:
                schema_check(spec, props[k], x, f"{where}.{k}")
            else:
                check(extra is not False, f"{where}: undocumented member {k}")
                if isinstance(extra, dict):
                    schema_check(spec, extra, x, f"{where}.{k}")
    if t == "array":
        for i, x in enumerate(v):
            schema_check(spec, schema.get("items", {}), x, f"{where}[{i}]")


def resolve(spec, obj):
    while isinstance(obj, dict) and "$ref" in obj:
        kind, name = obj["$ref"].split("/")[-2:]
        obj = spec["components"][kind][name]
    return obj


def mode_openapi(env):
    import yaml
    with open(env.a.spec) as f:
        spec = yaml.safe_load(f)
    ops = {}
    for p, item in spec["paths"].items():
        for m, op in item.items():
            if m != "parameters":
                ops[(m.upper(), p)] = op
    seen = set()

    def call(method, template, expect, body=None, **names):
        path = template.format(**names) if names else template
        query = ""
        if "?" in template:
            template, query = template.split("?", 1)
            path = template.format(**names) + "?" + query
        op = ops.get((method, template))
        check(op, f"{method} {template} is not documented")
        t0 = time.monotonic()
        code, text = env.curl(method, path, body)
        check(code == expect, f"{method} {path}: {code}, expected {expect}: {text[:200]}")
        resp = resolve(spec, op["responses"].get(str(code)))
        check(resp, f"{method} {template}: status {code} is not documented")
        content = resp.get("content", {})
        if "application/json" in content:
            schema_check(spec, content["application/json"]["schema"], json.loads(text),
                         f"{method} {template} {code}")
        else:
            check(not text or "text/plain" in content, f"{method} {template} {code}: undocumented body")
        seen.add((method, template))
        print(f"ok   {method} {path} -> {code} ({time.monotonic() - t0:.2f} s)")
        return text

    env.lqd.start()
    g = env.a.guest
    body = json.dumps({"name": "api1", "memory_mib": 128, "kernel": g, "cmdline": "wait=powerbutton",
                       "labels": {"k": "v"}, "restart_policy": "never", "start": True})
    call("GET", "/v1/host", 200)
    call("POST", "/v1/vms", 201, body)
    call("POST", "/v1/vms", 409, body)
    call("POST", "/v1/vms", 400, '{"name": 1}')
    call("POST", "/v1/vms", 413, "x" * 70000)
    call("GET", "/v1/vms", 200)
    call("GET", "/v1/vms", 400, "{}")
    call("GET", "/v1/vms/{name}", 200, name="api1")
    call("GET", "/v1/vms/{name}", 404, name="nope")
    call("GET", "/v1/vms/{name}", 400, name="no.pe")
    env.follow_until("api1", r"LQTG: tick \d+")
    call("GET", "/v1/vms/{name}/console", 200, name="api1")
    call("GET", "/v1/vms/{name}/console?offset=x", 400, name="api1")
    call("GET", "/v1/vms/{name}/console", 404, name="nope")
    call("PATCH", "/v1/vms/{name}", 200, '{"labels": {"k": "w"}, "restart_policy": "on-failure"}', name="api1")
    call("PATCH", "/v1/vms/{name}", 409, '{"cpus": 2}', name="api1")
    call("PATCH", "/v1/vms/{name}", 400, '{"cpus": "2"}', name="api1")
    call("PATCH", "/v1/vms/{name}", 404, '{"cpus": 2}', name="nope")
    call("POST", "/v1/vms/{name}/pause", 200, name="api1")
    call("POST", "/v1/vms/{name}/pause", 409, name="api1")
    call("POST", "/v1/vms/{name}/resume", 200, name="api1")
    call("POST", "/v1/vms/{name}/resume", 409, name="api1")
    hellos = env.console("api1").count("LQTG: hello")
    call("POST", "/v1/vms/{name}/reboot", 200, name="api1")
    call("POST", "/v1/vms/{name}/reboot", 404, name="nope")
    wait_for("the guest to boot again", lambda: env.console("api1").count("LQTG: hello") > hellos)
    wait_for("ticks after the reboot",
             lambda: "LQTG: tick" in env.console("api1").rsplit("LQTG: hello", 1)[1])
    call("POST", "/v1/vms/{name}/stop", 400, '{"timeout_s": "soon"}', name="api1")
    call("POST", "/v1/vms/{name}/stop", 200, '{"timeout_s": 20}', name="api1")
    call("POST", "/v1/vms/{name}/stop", 409, name="api1")
    call("POST", "/v1/vms/{name}/start", 200, name="api1")
    call("POST", "/v1/vms/{name}/start", 409, name="api1")
    call("POST", "/v1/vms/{name}/start", 404, name="nope")
    call("GET", "/v1/events?since=0&timeout_s=0", 200)
    call("GET", "/v1/events?since=-1", 400)
    call("DELETE", "/v1/vms/{name}?force=true", 204, name="api1")
    call("DELETE", "/v1/vms/{name}", 404, name="api1")
    check("did not power off in time" not in env.lqd.log(), "a stop had to force")
    check(seen == set(ops), f"not exercised: {set(ops) - seen}")
    # every documented path answers only its documented methods ...
    for p in spec["paths"]:
        concrete = p.format(name="x1")
        for m in ("GET", "PUT", "POST", "DELETE", "PATCH"):
            if (m, p) in ops:
                continue
            code, text = env.curl(m, concrete)
            check(code == 405 and "error" in json.loads(text), f"{m} {concrete}: {code}, expected 405")
    # ... and nothing else answers.
    for p in ["/", "/v1", "/v1/", "/v1/vms/", "/v1/vms/x1/", "/v1/vms/x1/snapshot",
              "/v1/vms/x1/start/now", "/v2/vms", "/v1/host/x", "/V1/vms"]:
        code, text = env.curl("GET", p)
        check(code in (400, 404) and "error" in json.loads(text), f"GET {p}: {code}, expected 404")
    print(f"{len(ops)} documented operations checked against the live lqd")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["lifecycle", "adopt", "restart", "badinput", "openapi"])
    ap.add_argument("--lqd", required=True)
    ap.add_argument("--lqctl", required=True)
    ap.add_argument("--vmm", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--spec", help="docs/api/lqd.openapi.yaml (openapi mode)")
    a = ap.parse_args()
    for k in ("lqd", "lqctl", "vmm", "guest"):  # meson passes build-relative paths
        setattr(a, k, os.path.abspath(getattr(a, k)))
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: /dev/kvm is missing or not accessible to this user")
        return 77
    if not shutil.which("curl"):
        print("SKIP: curl is needed for the raw API cases")
        return 77
    if a.mode == "openapi":
        try:
            import yaml  # noqa: F401
        except ImportError:
            print("SKIP: python3-yaml is needed to read the OpenAPI file (tools/setup)")
            return 77
    env = Env(a)
    try:
        globals()["mode_" + a.mode](env)
    except Fail as e:
        print("FAIL:", e)
        env.close()
        return 1
    env.close()
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
