#!/usr/bin/env bash
# Writes seed images for fuzz_qcow2_header with qemu-img / qemu-io: small
# (512-byte and 4 KiB clusters) so each is a few KiB, covering v2 and v3,
# data, zero and compressed clusters (zlib, zstd), refcount widths.
#   tests/fuzz/make_qcow2_seeds.sh OUTDIR
set -euo pipefail
out="${1:?usage: make_qcow2_seeds.sh OUTDIR}"
mkdir -p "$out"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mk() { # name, create options, qemu-io commands...
  local name=$1 opts=$2
  shift 2
  qemu-img create -q -f qcow2 $opts "$t/$name" 64k
  for c in "$@"; do qemu-io -f qcow2 -c "$c" "$t/$name" >/dev/null; done
  cp "$t/$name" "$out/$name"
}
mk v3-empty-512 "-o cluster_size=512"
mk v3-data-512 "-o cluster_size=512" "write -P 0xab 0 3k" "write -z 4k 1k" "write -P 1 60k 512"
mk v2-data-512 "-o cluster_size=512,compat=0.10" "write -P 0xcd 1k 2k"
mk v3-rc8-512 "-o cluster_size=512,refcount_bits=8" "write -P 0x11 0 2k"
mk v3-rc64-512 "-o cluster_size=512,refcount_bits=64" "write -P 0x12 0 2k"
mk v3-rc1-512 "-o cluster_size=512,refcount_bits=1" "write -P 0x13 0 2k"
mk v3-data-4k "-o cluster_size=4096" "write -P 0x21 0 8k" "write -z 16k 4k"
head -c 65536 /dev/zero | tr '\0' 'z' > "$t/src.raw"
qemu-img convert -q -c -O qcow2 -o cluster_size=4096 "$t/src.raw" "$out/v3-zlib-4k"
qemu-img convert -q -c -O qcow2 -o cluster_size=4096,compression_type=zstd "$t/src.raw" "$out/v3-zstd-4k"
ls -l "$out"
