/* devices/rtc: MC146818-style CMOS real-time clock at ports 0x70/0x71.
 * Time registers read the host's UTC clock (BCD or binary, 12/24 h as the
 * guest selects); the CMOS memory holds the memory-size bytes firmware
 * and old guests look for. No alarm or periodic interrupts. */
#ifndef LQ_DEVICES_RTC_H
#define LQ_DEVICES_RTC_H

#include <stdint.h>

#include "devices/bus.h"

#define RTC_PORT 0x70

struct rtc;

struct rtc *rtc_create(uint64_t ram_below_4g, uint64_t ram_above_4g);
void rtc_destroy(struct rtc *r);
int rtc_attach(struct rtc *r, struct bus *pio);

#endif
