#include "devices/acpi_pm.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

/* Offsets from the PM1a event block; control and timer are placed by
 * the config and dispatched by their own ranges. */
enum { PM1_STS = 0, PM1_EN = 2 };

struct acpi_pm {
	struct acpi_pm_callbacks cb;
	struct acpi_config cfg;
	pthread_mutex_t lock;
	uint16_t sts, en, cnt;
	int sci_level;
};

/* Called with the lock held: the SCI is the OR of enabled status bits. */
static void acpi_pm_update_sci(struct acpi_pm *pm)
{
	int level = (pm->sts & pm->en) != 0;

	if (level != pm->sci_level && pm->cb.set_irq) {
		pm->sci_level = level;
		pm->cb.set_irq(pm->cb.ctx, pm->cfg.sci_irq, level);
	}
}

static uint32_t acpi_pm_timer_now(void)
{
	struct timespec ts;
	unsigned __int128 ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = (unsigned __int128)ts.tv_sec * 1000000000u + (unsigned long)ts.tv_nsec;
	return (uint32_t)(ns * ACPI_PM_TIMER_HZ / 1000000000u) & 0xffffff;
}

static void put_le(void *data, unsigned len, uint32_t v)
{
	memcpy(data, &v, len); /* x86 host: little endian */
}

static uint32_t get_le(const void *data, unsigned len)
{
	uint32_t v = 0;

	memcpy(&v, data, len);
	return v;
}

/* PM1 event block: 16-bit STS then 16-bit EN; byte accesses allowed. */
static int acpi_pm_evt_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct acpi_pm *pm = opaque;
	uint32_t v;

	if (off + len > 4)
		return -EINVAL;
	pthread_mutex_lock(&pm->lock);
	v = (uint32_t)pm->sts | (uint32_t)pm->en << 16;
	pthread_mutex_unlock(&pm->lock);
	put_le(data, len, v >> (8 * off));
	return 0;
}

static int acpi_pm_evt_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct acpi_pm *pm = opaque;
	uint32_t v, mask;

	if (off + len > 4)
		return -EINVAL;
	v = get_le(data, len) << (8 * off);
	mask = (len == 4 ? 0xffffffffu : ((1u << (8 * len)) - 1)) << (8 * off);
	pthread_mutex_lock(&pm->lock);
	pm->sts &= (uint16_t)~(v & mask & 0xffff); /* status bits are write-one-to-clear */
	pm->en = (uint16_t)((((uint32_t)pm->en << 16 & ~mask) | (v & mask)) >> 16);
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

static int acpi_pm_cnt_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct acpi_pm *pm = opaque;
	uint32_t v;

	if (off + len > 2)
		return -EINVAL;
	pthread_mutex_lock(&pm->lock);
	v = pm->cnt | ACPI_PM1_CNT_SCI_EN; /* hardware is always in ACPI mode */
	pthread_mutex_unlock(&pm->lock);
	put_le(data, len, v >> (8 * off));
	return 0;
}

static int acpi_pm_cnt_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct acpi_pm *pm = opaque;
	uint32_t v, mask;
	unsigned typ;
	bool sleep;

	if (off + len > 2)
		return -EINVAL;
	v = get_le(data, len) << (8 * off);
	mask = ((1u << (8 * len)) - 1) << (8 * off);
	pthread_mutex_lock(&pm->lock);
	/* SLP_EN is write-only: it triggers, it is not stored. */
	pm->cnt = (uint16_t)(((pm->cnt & ~mask) | (v & mask)) & ~ACPI_PM1_CNT_SLP_EN);
	sleep = v & mask & ACPI_PM1_CNT_SLP_EN;
	typ = (pm->cnt >> ACPI_PM1_CNT_SLP_TYP_SHIFT) & 7;
	pthread_mutex_unlock(&pm->lock);
	if (!sleep)
		return 0;
	if (typ == ACPI_S5_SLP_TYP)
		pm->cb.power_off(pm->cb.ctx);
	else
		log_warn("acpi: guest asked for sleep type %u, which this board does not have", typ);
	return 0;
}

static int acpi_pm_tmr_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque;
	if (off + len > 4)
		return -EINVAL;
	put_le(data, len, acpi_pm_timer_now() >> (8 * off));
	return 0;
}

static int acpi_pm_ro_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	(void)opaque, (void)off, (void)data, (void)len;
	return 0; /* the timer is read-only; writes are ignored */
}

static int acpi_pm_reset_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque, (void)off;
	memset(data, 0, len);
	return 0;
}

static int acpi_pm_reset_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct acpi_pm *pm = opaque;

	(void)off;
	if (len == 1 && *(const uint8_t *)data == pm->cfg.reset_value)
		pm->cb.reset(pm->cb.ctx);
	return 0;
}

static const struct bus_ops acpi_pm_evt_ops = { acpi_pm_evt_read, acpi_pm_evt_write };
static const struct bus_ops acpi_pm_cnt_ops = { acpi_pm_cnt_read, acpi_pm_cnt_write };
static const struct bus_ops acpi_pm_tmr_ops = { acpi_pm_tmr_read, acpi_pm_ro_write };
static const struct bus_ops acpi_pm_reset_ops = { acpi_pm_reset_read, acpi_pm_reset_write };

struct acpi_pm *acpi_pm_create(const struct acpi_config *cfg, const struct acpi_pm_callbacks *cb)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pm->cfg = *cfg;
	pm->cb = *cb;
	pthread_mutex_init(&pm->lock, NULL);
	return pm;
}

int acpi_pm_attach(struct acpi_pm *pm, struct bus *pio)
{
	int err = bus_register(pio, pm->cfg.pm1a_evt_port, 4, &acpi_pm_evt_ops, pm);

	if (!err)
		err = bus_register(pio, pm->cfg.pm1a_cnt_port, 2, &acpi_pm_cnt_ops, pm);
	if (!err && pm->cfg.pm_tmr_port)
		err = bus_register(pio, pm->cfg.pm_tmr_port, 4, &acpi_pm_tmr_ops, pm);
	if (!err && pm->cfg.reset_port)
		err = bus_register(pio, pm->cfg.reset_port, 1, &acpi_pm_reset_ops, pm);
	return err;
}

bool acpi_pm_power_button(struct acpi_pm *pm)
{
	bool listening;

	pthread_mutex_lock(&pm->lock);
	pm->sts |= ACPI_PM1_PWRBTN_STS;
	listening = pm->en & ACPI_PM1_PWRBTN_STS;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return listening;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}
