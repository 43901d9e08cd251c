#!/usr/bin/env python3
"""Writes the seed corpus of the virtio_net fuzz target
(tests/fuzz/fuzz_virtio_net.c): well-formed traffic on each queue and a
few hostile chains, laid out as that target reads its input.

usage: make_net_seeds.py [DIR]   (default tests/fuzz/corpus/virtio_net)"""
import os
import struct
import sys

F_MRG, F_CSUM, F_GCSUM, F_TSO4, F_CTRL, F_CTRL_RX, F_MACADDR, F_ECN = (1 << i for i in range(8))
RUN_RX, RUN_TX, RUN_CTRL = 1, 2, 4
QSIZE_16 = 4
RX, TX, CTRL = 0x0000, 0x2000, 0x4000
BUF = 0x6000


class Ram:
    def __init__(self):
        self.b = bytearray(0x10000)
        self.avail = {RX: 0, TX: 0, CTRL: 0}

    def put(self, addr, data):
        self.b[addr:addr + len(data)] = data

    def desc(self, ring, i, addr, length, flags, nxt=0):
        self.put(ring + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))

    def post(self, ring, head):
        idx = self.avail[ring]
        self.put(ring + 0x800 + 4 + 2 * (idx % 16), struct.pack("<H", head))
        self.avail[ring] = idx + 1
        self.put(ring + 0x800 + 2, struct.pack("<H", idx + 1))


def frame(n):
    return bytes.fromhex("525400000001020000000001") + b"\x88\xb5" + bytes(i & 0xff for i in range(n - 14))


def seed(features, run, frames, build):
    r = Ram()
    build(r)
    f0 = frames[0] if frames else 0
    hdr = bytes([QSIZE_16 | 8, features, run, len(frames) and (1 | (2 if len(frames) > 1 else 0)),
                 f0, frames[1] if len(frames) > 1 else 0])
    if frames:
        r.put(0x8000, frame(300))
        r.put(0x9000, frame(1500))
    return (hdr + bytes(r.b)).rstrip(b"\0")  # the target zero-fills the rest


def tx_good(r):
    r.put(BUF, bytes(12) + frame(60))
    r.desc(TX, 0, BUF, 12, 1, 1)
    r.desc(TX, 1, BUF + 12, 60, 0)
    r.post(TX, 0)
    r.put(BUF + 0x200, bytes([1, 1, 0, 0, 0x5c, 5, 34, 0, 16, 0, 0, 0]) + frame(1514))
    r.desc(TX, 2, BUF + 0x200, 12 + 1514, 0)
    r.post(TX, 2)


def tx_bad(r):
    r.desc(TX, 0, BUF, 4, 0)               # 4-byte header
    r.post(TX, 0)
    r.desc(TX, 1, BUF, 12 + 70000, 0)      # oversized frame
    r.post(TX, 1)
    r.put(BUF + 0x100, bytes([0, 7]) + bytes(10) + frame(100))
    r.desc(TX, 2, BUF + 0x100, 112, 0)     # unknown GSO type
    r.post(TX, 2)


def rx_bufs(r):
    for i in range(8):
        r.desc(RX, i, BUF + 0x400 * i, 0x400, 2)
        r.post(RX, i)


def ctrl(r):
    r.put(BUF, bytes([0, 0, 0]))           # RX PROMISC off
    r.desc(CTRL, 0, BUF, 2, 1, 1)
    r.desc(CTRL, 1, BUF + 2, 1, 1, 2)
    r.desc(CTRL, 2, BUF + 0x10, 1, 2)
    r.post(CTRL, 0)
    table = struct.pack("<I", 1) + bytes(6) + struct.pack("<I", 70) + bytes(6)
    r.put(BUF + 0x100, bytes([1, 0]) + table)  # MAC_TABLE_SET, multicast overflow
    r.desc(CTRL, 3, BUF + 0x100, 2 + len(table), 1, 4)
    r.desc(CTRL, 4, BUF + 0x20, 1, 2)
    r.post(CTRL, 3)
    rx_bufs(r)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "corpus", "virtio_net")
    os.makedirs(out, exist_ok=True)
    seeds = {
        "tx-good": seed(F_CSUM | F_TSO4, RUN_TX, [], tx_good),
        "tx-hostile": seed(0, RUN_TX, [], tx_bad),
        "rx-mergeable": seed(F_MRG, RUN_RX, [37, 93], rx_bufs),
        "rx-single": seed(F_GCSUM, RUN_RX, [37], rx_bufs),
        "ctrl-filter": seed(F_CTRL | F_CTRL_RX | F_MRG, RUN_CTRL | RUN_RX, [37, 10], ctrl),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
