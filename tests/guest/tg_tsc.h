/* tests/guest: time from the TSC. Calibrated once against the PIT (or the
 * ACPI PM timer); until then a generous 4 GHz guess keeps every bounded
 * wait bounded. Rough by design: it times waits and the timer test. */
#ifndef TG_TSC_H
#define TG_TSC_H

#include <stdint.h>

#include "tg_acpi.h"

extern uint64_t tg_tsc_khz;

/* Measures the TSC; prints "LQTG: tsc=<MHz> MHz (<source>)". */
void tg_tsc_calibrate(const struct tg_acpi *a);
uint64_t tg_tsc_deadline_us(uint64_t us);
void tg_tsc_delay_us(uint64_t us);

#endif
