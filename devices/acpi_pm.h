/* devices/acpi_pm: the ACPI fixed hardware of the board: PM1 event
 * block (status/enable), PM1 control (sleep requests, so the guest can
 * power off), the 24-bit PM timer and the reset register. The power
 * button lets the host ask the guest to shut down gracefully. */
#ifndef LQ_DEVICES_ACPI_PM_H
#define LQ_DEVICES_ACPI_PM_H

#include <stdbool.h>

#include "devices/bus.h"
#include "firmware/acpi.h"

struct acpi_pm_callbacks {
	void (*power_off)(void *ctx); /* guest entered S5 */
	void (*reset)(void *ctx);     /* guest wrote the reset value */
	irq_set_fn set_irq;           /* drives the SCI line */
	void *ctx;
};

#define ACPI_PM1_TMR_STS (1u << 0)
#define ACPI_PM1_PWRBTN_STS (1u << 8)
#define ACPI_PM1_CNT_SCI_EN (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_EN (1u << 13)
#define ACPI_PM_TIMER_HZ 3579545u

struct acpi_pm;

/* Uses the ports, SCI and reset value of cfg. NULL on allocation failure. */
struct acpi_pm *acpi_pm_create(const struct acpi_config *cfg, const struct acpi_pm_callbacks *cb);
int acpi_pm_attach(struct acpi_pm *pm, struct bus *pio);
/* A press of the fixed power button: sets PWRBTN_STS, raises the SCI if
 * the guest enabled it. Returns true if the guest had it enabled (an
 * OS that listens), false otherwise. */
bool acpi_pm_power_button(struct acpi_pm *pm);
void acpi_pm_destroy(struct acpi_pm *pm);

#endif
