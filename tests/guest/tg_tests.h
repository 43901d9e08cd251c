/* tests/guest: the tests. Each prints its own result line(s) and returns
 * true on success. */
#ifndef TG_TESTS_H
#define TG_TESTS_H

#include <stdbool.h>

#include "tg_acpi.h"
#include "tg_boot.h"

/* "LQTG: memtest ok pages=<n>" / "LQTG: memtest FAIL ..." */
bool tg_test_mem(const struct tg_boot *b);
/* "LQTG: cpus=<n>", and "LQTG: smp FAIL expected=<m> got=<n>" */
bool tg_test_smp(const struct tg_acpi *a);
/* "LQTG: ticks=<n>", and "LQTG: timer FAIL" if none */
bool tg_test_timer(void);

/* virtio-blk: "LQTG: blk ok ...", "LQTG: blkro ok" (read-only disk), or
 * with bad, "LQTG: blkbad ok" (a looping chain gets NEEDS_RESET). */
bool tg_test_blk(bool bad);
/* virtio-rng: "LQTG: rng ok bytes=<n>" */
bool tg_test_rng(void);
/* virtio-console: "LQTG: console ok"; the host sees "LQTG: hvc hello". */
bool tg_test_console(void);
/* MSI-X through virtio-blk: "LQTG: msix ok irqs=<n> suppressed=<m>". */
bool tg_test_msix(void);
/* The PCI config-space window (VIRTIO_PCI_CAP_PCI_CFG) of virtio-blk,
 * against direct BAR access: "LQTG: pcicfg ok"; with bad, forbidden
 * windows as well: "LQTG: pcicfgbad ok". */
bool tg_test_pcicfg(bool bad);
/* virtio-net with a host peer on the tap (tests/kvm/virtio_net.py):
 * "LQTG: net ready ...", then "LQTG: net ok tx=.. bad=3 rx=.. merged=..". */
bool tg_test_net(void);
/* virtio-net with two queue pairs: "LQTG: netmq ok tx=.. rx=.. rxq0=.. rxq1=..". */
bool tg_test_netmq(void);
/* wait=powerbutton: "LQTG: waiting for the power button", then
 * "LQTG: tick <n>" every 100 ms until the SCI reports the power button,
 * then "LQTG: power button" and ACPI S5. Does not return. */
__attribute__((noreturn)) void tg_wait_powerbutton(const struct tg_acpi *a);
/* bench=blk: "LQTG: bench blk <row> qd=.. bs=.. iops=.. mbps=.." lines. */
bool tg_bench_blk(void);
/* bench=net: "LQTG: bench net <tx|rx> size=.. pps=.. mbps=.." lines, with
 * a host peer flooding the tap for the rx rows (tools/bench/net). */
bool tg_bench_net(void);

/* C entry of an AP, called by the trampoline with its arrival index. */
void tg_ap_main(unsigned idx);

#endif
