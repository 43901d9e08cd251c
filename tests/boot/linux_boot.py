#!/usr/bin/env python3
"""Boot suite: boots Debian's cloud kernel with a busybox initramfs under
lq-vmm and drives its shell over the serial console.

  1. tools/guest/fetch-linux makes sure CACHE/vmlinuz and
     CACHE/initramfs.cpio exist (fetched from Debian's packages, cached);
  2. lq-vmm --kernel ... --initrd ... --serial stdio, console on pipes,
     streamed to stdout with elapsed seconds;
  3. waits for "LQ-LINUX: userspace up", reports the time to userspace
     (wall) and the guest's uptime;
  4. at the "lq# " prompt runs `echo lq-$((6*7))-ok` (expects lq-42-ok) and
     `uname -r`, then `poweroff -f`, and expects lq-vmm to exit with 0.

Exit: 0 pass, 1 fail, 77 skip (no images and no way to fetch them, no
/dev/kvm, or lq-vmm stopped before userspace on an emulation failure /
internal error this host's KVM (PVM, no VMX) cannot handle).

usage: linux_boot.py --vmm PATH [--cache DIR] [--fetch PATH] [--cpus N]
                     [--memory SIZE] [--timeout SECONDS] [--cmdline-extra STR]
"""
import argparse
import codecs
import collections
import ctypes
import os
import re
import selectors
import shlex
import signal
import subprocess
import sys
import time

# Strings the guest's /init (tools/guest/fetch-linux) and shell print.
# (The console is matched as bytes, with "\r" removed.)
MARK_USERSPACE = b"LQ-LINUX: userspace up"
RE_UPTIME = re.compile(rb"LQ-LINUX: userspace up uptime=([0-9.]+)[ \t]*\n")
PROMPT = b"lq# "
ECHO_CMD = "echo lq-$((6*7))-ok"
ECHO_EXPECT = b"lq-42-ok"
UNAME_CMD = "uname -r"
RE_KERNEL_RELEASE = re.compile(rb"^(\d+\.\d+\.\d+\S*)[ \t]*\n", re.M)
POWEROFF_CMD = "poweroff -f"
MARK_PANIC = b"Kernel panic - not syncing"
MARK_KERNEL_BANNER = b"Linux version "

# On PVM hosts that cannot deliver a user-mode `syscall` to an unmodified
# guest kernel, the first system call of /init lands on the kernel's entry
# point still in user mode and faults there: ip == fault address, in the
# kernel's half of the address space.
RE_SYSCALL_FAULT = re.compile(
    rb"(\S+\[1\]): segfault at (ffffffff[0-9a-f]{8}) ip (ffffffff[0-9a-f]{8})")

# What the VMM writes on stderr when it stops on something this host's KVM
# cannot run (PVM host: guest ring 0 is emulated and some instructions fail).
RE_HOST_LIMIT = re.compile(r"emulation failure|internal error|KVM_EXIT_INTERNAL_ERROR", re.I)

CMDLINE_BASE = "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1"
# Shortens the boot (fewer ring-0 traps and device probes); not what is
# tested. On PVM hosts guest ring 0 runs ~100x slower, so the initcalls that
# took minutes there (measured with initcall_debug: kprobe trace set-up and
# tcp_cubic each parse all of vmlinux's BTF, ~140 s each; crypto self-tests;
# sysfs for every slab cache) are skipped: none is needed for a shell.
CMDLINE_EXTRA = ("mitigations=off i8042.noaux i8042.nomux 8250.nr_uarts=1 "
                 "init_on_alloc=0 nosoftlockup tsc=reliable cryptomgr.notests "
                 "initcall_blacklist=init_kprobe_trace,cubictcp_register,crypto_kdf108_init,"
                 "blake2s_mod_init,load_system_certificate_list,slab_sysfs_init")

KERNEL_FILE = "vmlinuz"
INITRD_FILE = "initramfs.cpio"
VERSION_FILE = "VERSION"

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77
FETCH_UNAVAILABLE = 3  # fetch-linux: packages cannot be obtained here
STEP_TIMEOUT = 300.0   # per shell step after userspace (guest ring 0 is slow on PVM)
TAIL_LINES = 20

RE_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Failure(Exception):
    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Terminated(Exception):
    pass


def default_cache():
    base = os.environ.get("LQ_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "limiquantix")
    return os.path.join(base, "linux")


def die_with_parent():
    """In the child: SIGKILL when the test process dies, whatever kills it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Vm:
    """lq-vmm running one guest; console (stdout) and stderr read with a
    selector, printed with elapsed seconds as they come."""

    def __init__(self, cmd):
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True,
                                     preexec_fn=die_with_parent)
        self.sel = selectors.DefaultSelector()
        self.streams = {}
        for name, f in (("console", self.proc.stdout), ("stderr", self.proc.stderr)):
            os.set_blocking(f.fileno(), False)
            self.sel.register(f.fileno(), selectors.EVENT_READ, name)
            self.streams[name] = {"dec": codecs.getincrementaldecoder("utf-8")("replace"),
                                  "partial": "", "lines": collections.deque(maxlen=400)}
        self.console = bytearray()  # everything the guest printed, "\r" removed
        self.panicked = False
        self.banners = 0  # kernel banners seen: more than one is a reboot
        self.status = None
        self.closed = False

    def elapsed(self):
        return time.monotonic() - self.t0

    def _show(self, name, line):
        prefix = "" if name == "console" else "stderr: "
        line = RE_ANSI.sub("", line)
        print(f"[{self.elapsed():8.2f}] {prefix}{line}", flush=True)

    def _take(self, name, data):
        s = self.streams[name]
        data = data.replace(b"\r", b"")
        if name == "console":
            # Markers are looked for in the new bytes only (plus an overlap).
            start = len(self.console)
            self.console += data
            window = bytes(self.console[max(0, start - len(MARK_KERNEL_BANNER) + 1):])
            self.banners += window.count(MARK_KERNEL_BANNER)
            window = bytes(self.console[max(0, start - len(MARK_PANIC) + 1):])
            self.panicked = self.panicked or MARK_PANIC in window
        s["partial"] += s["dec"].decode(data, final=not data)
        *done, s["partial"] = s["partial"].split("\n")
        for line in done:
            s["lines"].append(line)
            self._show(name, line)

    def flush_partial(self):
        """Prints unfinished lines (a prompt) and keeps them in the tails."""
        for name, s in self.streams.items():
            if s["partial"]:
                s["lines"].append(s["partial"])
                self._show(name, s["partial"])
                s["partial"] = ""

    def pump(self, timeout):
        """Waits up to timeout for output and takes all there is. Returns False
        once lq-vmm has exited and its output is drained."""
        if not self.sel.get_map():
            if self.status is None:
                try:
                    self.status = self.proc.wait(timeout=max(timeout, 0))
                except subprocess.TimeoutExpired:
                    return True
            return False
        for key, _ in self.sel.select(max(timeout, 0)):
            try:
                data = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            self._take(key.data, data)
            if not data:
                self.sel.unregister(key.fd)
        return True

    def wait_for(self, what, pos, deadline, panic_check=False):
        """Waits for regex or string `what` in the console after index pos.
        Returns the match (re.Match or end index) or raises Failure."""
        shown = (what.pattern if isinstance(what, re.Pattern) else what).decode()
        searched = pos
        while True:
            if isinstance(what, re.Pattern):
                m = what.search(self.console, pos)  # regexes: short spans after pos
                if m:
                    return m
            else:
                i = self.console.find(what, max(pos, searched - len(what) + 1))
                if i >= 0:
                    return i + len(what)
                searched = len(self.console)
            if panic_check and self.panicked:
                raise Failure(EXIT_FAIL, "the guest kernel panicked")
            if panic_check and self.banners > 1:
                raise Failure(EXIT_FAIL, "the guest rebooted before userspace")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(EXIT_FAIL, f"timeout: no {shown!r} on the console "
                              f"after {self.elapsed():.1f} s")
            if not self.pump(min(left, 10.0)):
                raise Failure(EXIT_FAIL, f"lq-vmm exited with status {self.status} "
                              f"before {shown!r} appeared on the console")

    def note(self, text):
        """Prints a message of the test between the console lines."""
        self.flush_partial()
        print(f"[{self.elapsed():8.2f}] *** {text}", flush=True)

    def send(self, text):
        self.note(f"send {text!r}")
        pos = len(self.console)
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise Failure(EXIT_FAIL, f"cannot write to lq-vmm's console: {e}")
        return pos

    def wait_exit(self, deadline):
        while self.pump(min(deadline - time.monotonic(), 10.0)):
            if time.monotonic() >= deadline:
                raise Failure(EXIT_FAIL, f"lq-vmm still running {self.elapsed():.1f} s "
                              "after the guest was told to power off")
        return self.status

    def register_dump(self, seconds=3.0):
        """Asks lq-vmm for its vCPU registers (SIGQUIT) and collects them."""
        if self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(signal.SIGQUIT)
        except ProcessLookupError:
            return
        end = time.monotonic() + seconds
        while time.monotonic() < end and self.pump(end - time.monotonic()):
            pass

    def kill(self):
        if self.closed:
            return
        self.closed = True
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait()
        end = time.monotonic() + 2
        while self.sel.get_map() and time.monotonic() < end and self.pump(0.2):
            pass
        self.flush_partial()
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()
        self.sel.close()
        if self.status is None:
            self.status = self.proc.returncode

    def tail(self, name, n=TAIL_LINES):
        lines = list(self.streams[name]["lines"])
        return lines[-n:]


def fetch_images(a, cache):
    have = all(os.path.isfile(os.path.join(cache, f)) for f in (KERNEL_FILE, INITRD_FILE))
    if not a.fetch:
        if have:
            return None
        raise Failure(EXIT_SKIP, f"no guest images in {cache} and no --fetch script to "
                      "make them (run tools/guest/fetch-linux)")
    cmd = [a.fetch, cache]
    if not os.access(a.fetch, os.X_OK):
        cmd = ["bash"] + cmd
    print("fetch:", " ".join(cmd), flush=True)
    t = time.monotonic()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=sys.stdout, stderr=subprocess.STDOUT)
    if r.returncode == FETCH_UNAVAILABLE:
        raise Failure(EXIT_SKIP, "fetch-linux cannot obtain the Debian packages here "
                      "(no network or apt lists, not root?); see its message above")
    if r.returncode != 0:
        raise Failure(EXIT_FAIL, f"fetch-linux failed with status {r.returncode}")
    print(f"fetch: done in {time.monotonic() - t:.1f} s", flush=True)
    return None


def boot(a, cache, cmdline, result):
    kernel = os.path.join(cache, KERNEL_FILE)
    initrd = os.path.join(cache, INITRD_FILE)
    try:
        with open(os.path.join(cache, VERSION_FILE)) as f:
            result["package"] = f.read().strip()
    except OSError:
        result["package"] = "?"
    cmd = [a.vmm, "--kernel", kernel, "--initrd", initrd, "--memory", a.memory,
           "--cpus", str(a.cpus), "--serial", "stdio", "--reboot", "exit", "--cmdline", cmdline]
    print("run:", shlex.join(cmd), flush=True)
    vm = Vm(cmd)
    result["vm"] = vm
    deadline = vm.t0 + a.timeout

    def step_deadline():
        return min(deadline, time.monotonic() + STEP_TIMEOUT)

    try:
        end = vm.wait_for(MARK_USERSPACE, 0, deadline, panic_check=True)
    except Failure as f:
        raise classify_early_failure(vm, f)
    result["userspace"] = vm.elapsed()
    m = vm.wait_for(RE_UPTIME, end - len(MARK_USERSPACE), step_deadline())
    result["uptime"] = float(m.group(1).decode())
    vm.note(f"time to userspace: {result['userspace']:.1f} s (wall), "
            f"guest uptime {result['uptime']:.2f} s")

    pos = vm.wait_for(PROMPT, m.end(), step_deadline())
    vm.note(f"shell prompt after {vm.elapsed():.1f} s")

    pos = vm.send(ECHO_CMD + "\n")
    pos = vm.wait_for(ECHO_EXPECT, pos, step_deadline())
    pos = vm.wait_for(PROMPT, pos, step_deadline())
    vm.note(f"shell answered {ECHO_EXPECT.decode()}")

    pos = vm.send(UNAME_CMD + "\n")
    m = vm.wait_for(RE_KERNEL_RELEASE, pos, step_deadline())
    result["release"] = m.group(1).decode(errors="replace")
    vm.wait_for(PROMPT, m.end(), step_deadline())
    vm.note(f"guest kernel: {result['release']} (package {result['package']})")

    vm.send(POWEROFF_CMD + "\n")
    t = time.monotonic()
    status = vm.wait_exit(step_deadline())
    vm.flush_partial()
    if status != 0:
        raise Failure(EXIT_FAIL, f"lq-vmm exited with status {status} after poweroff "
                      "(expected 0)")
    result["poweroff"] = time.monotonic() - t
    result["total"] = vm.elapsed()


def classify_early_failure(vm, f):
    """Before userspace: a host limit (emulation failure) skips, the rest fails."""
    m = RE_SYSCALL_FAULT.search(vm.console)
    if m and m.group(2) == m.group(3) and os.path.exists("/sys/module/kvm_pvm"):
        return Failure(EXIT_SKIP, "the kernel booted to 'Run /init' but this host's KVM (PVM) "
                       "does not deliver a user-mode `syscall` to an unmodified guest kernel: "
                       f"{m.group(1).decode()}'s first system call jumped to the kernel entry "
                       f"{m.group(2).decode()} still in user mode and faulted there "
                       "(needs a host with VMX/SVM, or a PVM-enabled guest kernel)")
    if vm.proc.poll() is None:
        # Still running (timeout): main() collects registers and kills it.
        # On a PVM host guest ring 0 runs ~100x slower than on hardware: a
        # kernel that is still making progress there is a host limit.
        if os.path.exists("/sys/module/kvm_pvm") and f.reason.startswith("timeout"):
            vm.flush_partial()
            last = [ln for ln in vm.tail("console") if ln.strip()]
            where = RE_ANSI.sub("", last[-1]).strip() if last else "(no console output)"
            return Failure(EXIT_SKIP, f"{f.reason}: this host's KVM is PVM-based (guest ring 0 "
                           f"is emulated, about 100x slower) and the kernel was still booting; "
                           f"it had got to: {where}")
        return f
    vm.pump(1.0)
    vm.flush_partial()
    err = list(vm.streams["stderr"]["lines"])
    hits = [line for line in err if RE_HOST_LIMIT.search(line)]
    if vm.status not in (0, None) and hits:
        return Failure(EXIT_SKIP, f"lq-vmm stopped with status {vm.status} on something this "
                       "host's KVM cannot run: " + hits[0].strip())
    if vm.status == 0:
        return Failure(EXIT_FAIL, "lq-vmm exited with status 0 before userspace (the guest "
                       "powered off or rebooted: a kernel panic with panic=-1?)")
    return f


def report(vm, f):
    print(f"\n{'SKIP' if f.status == EXIT_SKIP else 'FAIL'}: {f.reason}", flush=True)
    if vm is None:
        return
    err = list(vm.streams["stderr"]["lines"])
    hits = [i for i, line in enumerate(err) if RE_HOST_LIMIT.search(line)]
    if hits:
        print("--- lq-vmm's reason ---")
        for line in err[hits[0]:hits[0] + 12]:
            print(line)
    print(f"--- last {TAIL_LINES} console lines (where the guest stopped) ---")
    for line in vm.tail("console"):
        print(RE_ANSI.sub("", line))
    print("--- last 40 lines of lq-vmm's stderr ---")
    for line in vm.tail("stderr", 40):
        print(line)
    print(f"--- lq-vmm status: {vm.status}, after {vm.elapsed():.1f} s ---", flush=True)


def on_signal(signum, _frame):
    raise Terminated(f"terminated by signal {signum}")


def main():
    ap = argparse.ArgumentParser(description="Boot a Linux guest under lq-vmm and drive its shell.")
    ap.add_argument("--vmm", required=True, help="lq-vmm binary")
    ap.add_argument("--cache", default=None,
                    help="guest image directory (default: fetch-linux's default cache)")
    ap.add_argument("--fetch", default=None,
                    help="tools/guest/fetch-linux; run to make or check the images")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--timeout", type=float, default=1500,
                    help="seconds from starting lq-vmm to its exit (default 1500)")
    ap.add_argument("--cmdline-extra", default=CMDLINE_EXTRA,
                    help=f"appended to {CMDLINE_BASE!r} (default {CMDLINE_EXTRA!r})")
    a = ap.parse_args()
    sys.stdout.reconfigure(errors="replace", line_buffering=True)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    cache = os.path.abspath(a.cache or default_cache())
    cmdline = " ".join(x for x in (CMDLINE_BASE, a.cmdline_extra) if x)
    result = {"vm": None}
    try:
        if not (os.path.isfile(a.vmm) and os.access(a.vmm, os.X_OK)):
            raise Failure(EXIT_FAIL, f"{a.vmm} is not an executable (build lq-vmm first)")
        if not os.access("/dev/kvm", os.R_OK | os.W_OK):
            raise Failure(EXIT_SKIP, "/dev/kvm is missing or not accessible to this user")
        fetch_images(a, cache)
        boot(a, cache, cmdline, result)
    except Failure as f:
        vm = result["vm"]
        if vm is not None:
            if vm.proc.poll() is None and f.status != EXIT_SKIP:
                vm.register_dump()
            vm.kill()
        report(vm, f)
        return f.status
    except (Terminated, KeyboardInterrupt) as e:
        if result["vm"] is not None:
            result["vm"].kill()
        report(result["vm"], Failure(EXIT_FAIL, str(e) or "interrupted"))
        return EXIT_FAIL
    finally:
        if result["vm"] is not None:
            result["vm"].kill()
    print(f"\nPASS: userspace after {result['userspace']:.1f} s wall (guest uptime "
          f"{result['uptime']:.2f} s), kernel {result['release']}, poweroff took "
          f"{result['poweroff']:.1f} s, total {result['total']:.1f} s", flush=True)
    return EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
