#include "devices/rtc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

enum { RTC_SEC = 0, RTC_MIN = 2, RTC_HOUR = 4, RTC_WDAY = 6, RTC_MDAY = 7,
       RTC_MON = 8, RTC_YEAR = 9, RTC_REG_A = 0x0a, RTC_REG_B = 0x0b,
       RTC_REG_C = 0x0c, RTC_REG_D = 0x0d, RTC_CENTURY = 0x32 };

#define RTC_B_24H 0x02
#define RTC_B_BINARY 0x04
#define RTC_D_VRT 0x80

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[128];
};

static uint8_t rtc_encode(const struct rtc *r, unsigned v)
{
	if (r->cmos[RTC_REG_B] & RTC_B_BINARY)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t rtc_time_reg(const struct rtc *r, uint8_t idx)
{
	struct timespec ts;
	struct tm tm;
	unsigned hour;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	switch (idx) {
	case RTC_SEC: return rtc_encode(r, (unsigned)tm.tm_sec);
	case RTC_MIN: return rtc_encode(r, (unsigned)tm.tm_min);
	case RTC_HOUR:
		if (r->cmos[RTC_REG_B] & RTC_B_24H)
			return rtc_encode(r, (unsigned)tm.tm_hour);
		hour = (unsigned)tm.tm_hour % 12;
		return (uint8_t)(rtc_encode(r, hour ? hour : 12) | (tm.tm_hour >= 12 ? 0x80 : 0));
	case RTC_WDAY: return rtc_encode(r, (unsigned)tm.tm_wday + 1);
	case RTC_MDAY: return rtc_encode(r, (unsigned)tm.tm_mday);
	case RTC_MON: return rtc_encode(r, (unsigned)tm.tm_mon + 1);
	case RTC_YEAR: return rtc_encode(r, (unsigned)tm.tm_year % 100);
	default: return rtc_encode(r, (unsigned)(tm.tm_year + 1900) / 100);
	}
}

static int rtc_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct rtc *r = opaque;
	uint8_t v, idx;

	if (len != 1)
		return -EINVAL;
	if (off == 0) {
		*(uint8_t *)data = 0xff;
		return 0;
	}
	pthread_mutex_lock(&r->lock);
	idx = r->index;
	switch (idx) {
	case RTC_SEC: case RTC_MIN: case RTC_HOUR: case RTC_WDAY:
	case RTC_MDAY: case RTC_MON: case RTC_YEAR: case RTC_CENTURY:
		v = rtc_time_reg(r, idx);
		break;
	case RTC_REG_A:
		v = r->cmos[idx] & 0x7f; /* never "update in progress" */
		break;
	case RTC_REG_C:
		v = 0; /* no interrupt sources */
		break;
	default:
		v = r->cmos[idx];
		break;
	}
	pthread_mutex_unlock(&r->lock);
	*(uint8_t *)data = v;
	return 0;
}

static int rtc_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct rtc *r = opaque;
	uint8_t v = *(const uint8_t *)data;

	if (len != 1)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	if (off == 0) {
		r->index = v & 0x7f; /* bit 7 is the NMI mask */
	} else if (r->index == RTC_REG_B) {
		r->cmos[RTC_REG_B] = v;
	} else if (r->index > RTC_REG_D && r->index != RTC_CENTURY) {
		/* Time registers are read-only views of the host clock; the
		 * guest cannot set the host's time. */
		r->cmos[r->index] = v;
	}
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static const struct bus_ops rtc_ops = { .read = rtc_read, .write = rtc_write };

static void rtc_set16(struct rtc *r, unsigned idx, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	r->cmos[idx] = (uint8_t)v;
	r->cmos[idx + 1] = (uint8_t)(v >> 8);
}

struct rtc *rtc_create(uint64_t ram_below_4g, uint64_t ram_above_4g)
{
	struct rtc *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->cmos[RTC_REG_A] = 0x26;
	r->cmos[RTC_REG_B] = RTC_B_24H;
	r->cmos[RTC_REG_D] = RTC_D_VRT;
	/* Conventional memory-size bytes: 1-16 MiB in KiB (0x30), above
	 * 16 MiB in 64 KiB units (0x34), above 4 GiB in 64 KiB units (0x5b). */
	rtc_set16(r, 0x30, ram_below_4g > (16 << 20) ? 15 << 10 : (ram_below_4g >> 10) - 1024);
	rtc_set16(r, 0x34, ram_below_4g > (16 << 20) ? (ram_below_4g - (16 << 20)) >> 16 : 0);
	r->cmos[0x5b] = (uint8_t)(ram_above_4g >> 16);
	r->cmos[0x5c] = (uint8_t)(ram_above_4g >> 24);
	r->cmos[0x5d] = (uint8_t)(ram_above_4g >> 32);
	return r;
}

void rtc_destroy(struct rtc *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int rtc_attach(struct rtc *r, struct bus *pio)
{
	return bus_register(pio, RTC_PORT, 2, &rtc_ops, r);
}
