/* vmm/kernel_unpack: decompresses a bzImage's payload (the vmlinux ELF) on
 * the host.
 *
 * Why: the kernel's own decompressor runs in guest ring 0 before anything
 * else; where that is emulated (PVM hosts) it costs over half a minute,
 * and on any host it is time spent before the guest can do work. Loading
 * the ELF directly skips it. Formats: lz4 (legacy frame), zstd, gzip, xz. */
#ifndef LQ_VMM_KERNEL_UNPACK_H
#define LQ_VMM_KERNEL_UNPACK_H

#include <stddef.h>
#include <stdint.h>

/* On success *out is a malloc'd vmlinux of *out_len bytes. -ENOTSUP for a
 * format not handled here (the caller falls back to the guest's own
 * decompressor), -EINVAL for a corrupt payload. */
int kernel_unpack(const uint8_t *payload, size_t len, uint8_t **out, size_t *out_len);
const char *kernel_unpack_format(const uint8_t *payload, size_t len);

#endif
