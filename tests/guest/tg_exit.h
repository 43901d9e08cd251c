/* tests/guest: how the guest ends.
 *
 * PASS: "LQTG: PASS", then ACPI S5 power-off (exit status 0 under QEMU
 *   and lq-vmm). If the guest is still running 1 s later, it prints
 *   "LQTG: poweroff failed" and writes 2 to the debug exit port.
 * FAIL: "LQTG: FAIL <what>", then writes 1 to the debug exit port 0xf4
 *   (QEMU's isa-debug-exit turns value v into status (v << 1) | 1: 3).
 * Either way, if nothing stopped the VM, cli; hlt for good. */
#ifndef TG_EXIT_H
#define TG_EXIT_H

#include "tg_acpi.h"

#define TG_DEBUG_EXIT_PORT 0xf4
#define TG_EXIT_CODE_FAIL 1
#define TG_EXIT_CODE_POWEROFF_FAILED 2

/* Remembered for the exits: set once ACPI is parsed. */
void tg_exit_set_acpi(const struct tg_acpi *a);

__attribute__((noreturn)) void tg_exit_pass(void);
__attribute__((noreturn)) void tg_exit_fail(const char *what);
/* Power off now, without a verdict line (the bench option). */
__attribute__((noreturn)) void tg_exit_poweroff(void);
/* Reboot through the FADT reset register; FAIL if there is none or it
 * does not take effect. */
__attribute__((noreturn)) void tg_exit_reset(void);
/* Empty IDT, then an exception: the VMM must see a triple fault. */
__attribute__((noreturn)) void tg_exit_triple_fault(void);

#endif
