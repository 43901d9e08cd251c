#!/usr/bin/env python3
"""Writes seed inputs for fuzz_virtio_blk: well-formed requests of every
kind (read, write, flush, get-id, discard, write-zeroes, direct and
indirect chains), laid out as the target expects: byte 0 = queue size
exponent | event-idx (8) | indirect (16), then guest RAM from address 0
(descriptors at 0, avail ring at 0x800, used ring at 0x1000).

usage: make_seeds.py OUTDIR"""
import os
import struct
import sys

DESC, AVAIL, HDR, DATA, STATUS, IND = 0x0, 0x800, 0x1800, 0x2000, 0x3000, 0x3100


def image(flags, descs, heads, extra=()):
    ram = bytearray(0x3200)
    for i, (addr, ln, fl, nxt) in enumerate(descs):
        struct.pack_into("<QIHH", ram, DESC + 16 * i, addr, ln, fl, nxt)
    struct.pack_into("<HH", ram, AVAIL, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", ram, AVAIL + 4 + 2 * i, h)
    for off, blob in extra:
        ram[off:off + len(blob)] = blob
    return bytes([flags]) + bytes(ram)


def req(t, sector, data_len, write_data=False):
    hdr = struct.pack("<IIQ", t, 0, sector)
    descs = [(HDR, 16, 1, 1)]
    if data_len:
        descs.append((DATA, data_len, 1 | (0 if write_data else 2), 2))
    descs.append((STATUS, 1, 2, 0))
    if not data_len:
        descs[0] = (HDR, 16, 1, 1)
    return descs, [(HDR, hdr)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {}
    d, x = req(0, 0, 4096)
    seeds["read"] = image(4, d, [0], x)
    d, x = req(1, 8, 4096, write_data=True)
    seeds["write"] = image(4, d, [0], x + [(DATA, b"\xab" * 4096)])
    d, x = req(4, 0, 0)
    seeds["flush"] = image(4, d, [0], x)
    d, x = req(8, 0, 20)
    seeds["get_id"] = image(4, d, [0], x)
    seg = struct.pack("<QII", 16, 32, 0)
    d, x = req(11, 0, 16, write_data=True)
    seeds["discard"] = image(4, d, [0], x + [(DATA, seg)])
    d, x = req(13, 0, 16, write_data=True)
    seeds["write_zeroes"] = image(4, d, [0], x + [(DATA, struct.pack("<QII", 64, 8, 1))])
    # The same read through an indirect table.
    table = b"".join(struct.pack("<QIHH", *e) for e in
                     [(HDR, 16, 1, 1), (DATA, 512, 3, 2), (STATUS, 1, 2, 0)])
    seeds["indirect"] = image(4 | 16, [(IND, len(table), 4, 0)], [0],
                              [(HDR, struct.pack("<IIQ", 0, 0, 1)), (IND, table)])
    # Two requests at once, event index on.
    d, x = req(0, 0, 512)
    seeds["two_reads_event_idx"] = image(4 | 8, d, [0, 0], x)
    for name, blob in seeds.items():
        with open(os.path.join(out, "seed_" + name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
