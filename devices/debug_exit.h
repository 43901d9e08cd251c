/* devices/debug_exit: the test-exit port (0xf4), compatible with QEMU's
 * isa-debug-exit so one test guest runs under both: writing v ends the
 * VM with exit status (v << 1) | 1, which can never be 0 (success is
 * reserved for an orderly ACPI power-off). */
#ifndef LQ_DEVICES_DEBUG_EXIT_H
#define LQ_DEVICES_DEBUG_EXIT_H

#include "devices/bus.h"

#define DEBUG_EXIT_PORT 0xf4

struct debug_exit {
	void (*exit)(void *ctx, int status);
	void *ctx;
};

int debug_exit_attach(struct debug_exit *d, struct bus *pio);

#endif
