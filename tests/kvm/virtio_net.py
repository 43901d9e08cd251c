#!/usr/bin/env python3
"""virtio-net end to end on a tap: the test guest (tests=net) is one end,
this script the other, through an AF_PACKET socket on the tap (or on the
bridge the tap joins, with --bridge).

  1. lq-vmm creates the tap (--net tap=NAME[,bridge=BR],mac=...);
  2. after "LQTG: net ready" the script sends a "go" frame;
  3. it receives the guest's 1010 frames and checks order, sizes and
     every byte; the guest's 3 hostile chains (4-byte header, 70000-byte
     frame, bad GSO type) must not reach the wire;
  4. it sends 300 frames to the guest's MAC, and 30 to another MAC the
     guest's filter must drop; the guest checks what it gets;
  5. offloads, through an AF_PACKET socket with PACKET_VNET_HDR: a
     20000-byte TCP segmentation-offload frame to the guest (it must
     arrive whole with its GSO header), and one from the guest, checked
     here the same way;
  6. lq-vmm's counters at exit: tx packets=1011 dropped=3 bad_hdr=3,
     rx filtered >= 30.

With --queues 2 (tests=netmq): a two-pair device on a multi-queue tap;
the guest sends 200 frames alternating transmit queues, receives 200 UDP
frames of 200 flows spread by the tap over both receive queues, and each
queue must carry some.

usage: virtio_net.py --vmm lq-vmm --guest lq-testguest.elf [--tap lqtnet0] [--bridge lqtbr0]
                     [--queues 2]
Exit: 0 pass, 1 fail, 77 skip (no /dev/kvm, or no CAP_NET_ADMIN)."""
import argparse
import os
import queue
import re
import socket
import struct
import subprocess
import sys
import threading
import time

ETHERTYPE = 0x88B5
GUEST_MAC = bytes.fromhex("525400123456")
PEER_MAC = bytes.fromhex("020000000001")  # replaced by the wire's own address
OTHER_MAC = bytes.fromhex("525400dead00")
TX_FRAMES = 1010
RX_FRAMES = 300
PACKET_OUTGOING = 4
SOL_PACKET, PACKET_VNET_HDR = 263, 15
TSO = 20000


def frame(dst, src, magic, seq, length):
    head = dst + src + struct.pack("!H", ETHERTYPE) + magic + struct.pack("<II", seq, length)
    return head + bytes((seq * 7 + i) & 0xFF for i in range(26, length))


def size(seq):
    return 60 + (seq * 37) % 1455


def reader(stream, q, keep):
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip("\n")
        keep.append(line)
        q.put(line)
    q.put(None)


def wait_line(q, pattern, timeout):
    end = time.monotonic() + timeout
    while True:
        try:
            line = q.get(timeout=max(0.1, end - time.monotonic()))
        except queue.Empty:
            line = ""
        if line is None:
            return None
        if re.search(pattern, line):
            return line
        if time.monotonic() > end:
            return None


def ip_checksum(hdr):
    total = sum(struct.unpack("!10H", hdr))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_frame(dst, src, length, seed):
    """The guest's tg_net_tcp: Ethernet, IPv4, TCP headers, then a pattern."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length - 14, 0, 0, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]  # netfilter drops bad ones
    tcp = struct.pack("!HHIIBBHHH", 40000, 5001, 0, 0, 0x50, 0x18, 65535, 0, 0)
    head = dst + src + b"\x08\x00" + ip + tcp
    return head + bytes((i * 13 + seed) & 0xFF for i in range(54, length))


def run_tso(v, q, errors):
    """A GSO TCPv4 frame each way; v has PACKET_VNET_HDR (10-byte header)."""
    vh = struct.pack("<BBHHHH", 1, 1, 54, 1448, 34, 16)
    try:
        v.send(vh + tcp_frame(GUEST_MAC, PEER_MAC, TSO, 0x11))
    except OSError as e:
        errors.append(f"sending the offload frame: {e}")
        return
    v.settimeout(20)
    while True:
        try:
            data, addr = v.recvfrom(70000)
        except socket.timeout:
            errors.append("no offload frame from the guest")
            return
        if addr[2] != PACKET_OUTGOING:
            break
    flags, gso_type, hdr_len, gso_size, cs, co = struct.unpack("<BBHHHH", data[:10])
    frame = data[10:]
    want = tcp_frame(PEER_MAC, GUEST_MAC, TSO, 0x22)
    if (gso_type & 0x7F) != 1 or gso_size != 1448 or not flags & 1 or (cs, co) != (34, 16):
        errors.append(f"guest offload frame header: flags={flags} gso_type={gso_type} "
                      f"gso_size={gso_size} csum={cs}+{co}")
    elif len(frame) != TSO or frame[54:] != want[54:] or frame[:12] != want[:12]:
        errors.append(f"guest offload frame: {len(frame)} bytes, contents differ")
    else:
        print(f"ok:   a {TSO}-byte GSO TCPv4 frame from the guest, gso_size {gso_size}")
    line = wait_line(q, r"^LQTG: net (tso ok|FAIL)", 30)
    if not line or "tso ok" not in line:
        errors.append(f"the guest did not take the offload frame ({line})")
    else:
        print(f"ok:   the guest got a {TSO}-byte GSO TCPv4 frame whole ({line.split()[-1]})")


def receive_guest_frames(s, errors):
    """The guest's frames, in order; returns how many arrived good."""
    got = 0
    s.settimeout(20)
    while got < TX_FRAMES:
        try:
            data, addr = s.recvfrom(70000)
        except socket.timeout:
            errors.append(f"only {got} of {TX_FRAMES} guest frames arrived")
            return got
        if addr[2] == PACKET_OUTGOING or data[14:18] != b"LQNT":
            continue
        seq, length = struct.unpack("<II", data[18:26])
        if seq == 0xBAD:
            errors.append("a hostile frame reached the wire")
            continue
        want = frame(PEER_MAC, GUEST_MAC, b"LQNT", got, size(got))
        if data != want:
            errors.append(f"guest frame {got}: got seq={seq} len={len(data)} "
                          f"(wanted len {len(want)}), contents differ")
            return got
        got += 1
    return got


def udp_frame(seq):
    """IPv4/UDP from a port of its own, so the tap hashes each to a queue."""
    payload = b"LQRX" + struct.pack("<I", seq) + bytes(16)
    udp = struct.pack("!HHHH", 1000 + seq, 7, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), seq, 0, 64, 17, 0,
                     bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1]))
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    return GUEST_MAC + PEER_MAC + b"\x08\x00" + ip + udp


def run_mq(s, q, errors):
    """tests=netmq: both transmit queues, then frames spread on both receive queues."""
    s.settimeout(20)
    seen = set()
    while len(seen) < 200:
        try:
            data, addr = s.recvfrom(2000)
        except socket.timeout:
            errors.append(f"only {len(seen)} of 200 guest frames arrived")
            return
        if addr[2] == PACKET_OUTGOING or data[14:18] != b"LQMQ":
            continue
        seq = struct.unpack("<I", data[18:22])[0]
        if seq in seen or seq >= 200 or data[22] != seq % 2 or data[:6] != PEER_MAC:
            errors.append(f"guest frame seq={seq} queue={data[22]}: duplicate or wrong")
            return
        seen.add(seq)
    print("ok:   200 of 200 guest frames from both transmit queues")
    if wait_line(q, r"^LQTG: netmq tx done", 20) is None:
        errors.append("the guest did not finish transmitting")
        return
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((s.getsockname()[0], 0))
    for seq in range(200):
        raw.send(udp_frame(seq))
    line = wait_line(q, r"^LQTG: netmq (ok|FAIL)", 60)
    m = re.search(r"rxq0=(\d+) rxq1=(\d+)", line or "")
    if not m or "ok" not in line:
        errors.append(f"the guest did not receive the frames ({line})")
    elif int(m[1]) == 0 or int(m[2]) == 0:
        errors.append(f"frames not spread over the receive queues: {line}")
    else:
        print(f"ok:   the guest got all 200 frames, {m[1]} on queue 0 and {m[2]} on queue 1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmm", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--tap", default="lqtnet0")
    ap.add_argument("--bridge")
    ap.add_argument("--queues", type=int, default=1)
    a = ap.parse_args()
    mq = a.queues > 1
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP: no usable /dev/kvm")
        return 77
    if os.geteuid() != 0:
        print("SKIP: needs root (CAP_NET_ADMIN) for taps")
        return 77
    if a.bridge and os.path.exists(f"/sys/class/net/{a.bridge}"):
        subprocess.run(["ip", "link", "del", a.bridge], check=False)
    spec = f"tap={a.tap},mac={GUEST_MAC.hex(':')}" + (f",bridge={a.bridge}" if a.bridge else "")
    spec += f",queues={a.queues}" if mq else ""
    cmd = [a.vmm, "--kernel", a.guest, "--memory", "128M",
           "--cmdline", "tests=netmq" if mq else "tests=net",
           "--serial", "stdio", "--log-level", "info", "--net", spec]
    print("run:", " ".join(cmd), flush=True)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err, q = [], [], queue.Queue()
    threading.Thread(target=reader, args=(p.stdout, q, out), daemon=True).start()
    threading.Thread(target=reader, args=(p.stderr, queue.Queue(), err), daemon=True).start()
    errors = []
    try:
        if not wait_line(q, r"^LQTG: netmq ready" if mq else r"^LQTG: net ready", 60):
            errors.append("the guest never said it was ready")
            raise StopIteration
        wire = a.bridge or a.tap
        if a.bridge:
            master = os.path.basename(os.readlink(f"/sys/class/net/{a.tap}/master"))
            print(f"{'ok:  ' if master == a.bridge else 'FAIL:'} tap {a.tap} is a port of {master}")
            if master != a.bridge:
                errors.append(f"tap {a.tap} is not a port of {a.bridge}")
        try:  # fewer of the host's own IPv6 frames on the wire
            with open(f"/proc/sys/net/ipv6/conf/{wire}/disable_ipv6", "w") as f:
                f.write("1")
        except OSError:
            pass
        # The peer is the wire interface itself: a bridge passes up only
        # frames for its own address (unless promiscuous).
        global PEER_MAC
        with open(f"/sys/class/net/{wire}/address") as f:
            PEER_MAC = bytes.fromhex(f.read().strip().replace(":", ""))
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETHERTYPE))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind((wire, ETHERTYPE))
        v = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        v.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
        v.bind((wire, 0x0800))
        t0 = time.monotonic()
        try:
            s.send(frame(GUEST_MAC, PEER_MAC, b"LQGO", 0, 60))
        except OSError as e:
            errors.append(f"sending the go frame: {e} (lq-vmm gone?)")
            raise StopIteration
        if mq:
            run_mq(s, q, errors)
            if wait_line(q, r"^LQTG: PASS", 30) is None:
                errors.append("no LQTG: PASS")
            raise StopIteration
        got = receive_guest_frames(s, errors)
        dt = time.monotonic() - t0
        print(f"{'ok:  ' if got == TX_FRAMES else 'FAIL:'} {got} of {TX_FRAMES} guest frames "
              f"in order, byte for byte ({got / dt:.0f} frames/s including set-up)")
        if wait_line(q, r"^LQTG: net tx done", 20) is None:
            errors.append("the guest did not finish transmitting")
        try:
            for seq in range(RX_FRAMES):
                if seq % 10 == 0:
                    s.send(frame(OTHER_MAC, PEER_MAC, b"LQRX", 9999, 100))
                s.send(frame(GUEST_MAC, PEER_MAC, b"LQRX", seq, size(seq)))
        except OSError as e:
            errors.append(f"sending to the guest: {e} (lq-vmm gone?)")
        if wait_line(q, r"^LQTG: net ok", 60) is None:
            errors.append("the guest did not receive and check the frames")
            raise StopIteration
        run_tso(v, q, errors)
        if wait_line(q, r"^LQTG: PASS", 30) is None:
            errors.append("no LQTG: PASS")
    except StopIteration:
        pass
    finally:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for t in threading.enumerate():
        if t is not threading.current_thread():
            t.join(timeout=5)
    print("\n".join(out))
    print("--- stderr ---")
    print("\n".join(err))
    stats = next((l for l in err if "virtio-net0: rx packets=" in l), "")
    m = re.search(r"filtered=(\d+); tx packets=(\d+) bytes=\d+ dropped=(\d+) bad_hdr=(\d+)", stats)
    checks = [
        ("lq-vmm exited 0", p.returncode == 0),
        ("counters: tx packets=200 dropped=0", bool(m) and m.group(2, 3) == ("200", "0")),
        (f"tap {a.tap} is gone after the run", not os.path.exists(f"/sys/class/net/{a.tap}")),
    ] if mq else [
        ("lq-vmm exited 0", p.returncode == 0),
        ("counters: tx packets=1011 dropped=3 bad_hdr=3",
         bool(m) and m.group(2, 3, 4) == ("1011", "3", "3")),
        ("counters: at least 30 frames filtered", bool(m) and int(m.group(1)) >= 30),
        ("the hostile chains were logged", any("dropped a transmit chain" in l for l in err)),
        (f"tap {a.tap} is gone after the run", not os.path.exists(f"/sys/class/net/{a.tap}")),
    ]
    ok = not errors
    for e in errors:
        print("FAIL:", e)
    for what, good in checks:
        print(("ok:   " if good else "FAIL: ") + what)
        ok &= good
    if a.bridge:
        subprocess.run(["ip", "link", "del", a.bridge], check=False)
    print("PASS" if ok else f"FAILED (lq-vmm status {p.returncode})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
