/* vmm/platform: the virtual board: which legacy devices sit at which
 * ports and IRQs, and the ACPI description that tells the guest so. */
#ifndef LQ_VMM_PLATFORM_H
#define LQ_VMM_PLATFORM_H

#include "firmware/acpi.h"

#define PLATFORM_LAPIC_ADDR 0xfee00000u
#define PLATFORM_IOAPIC_ADDR 0xfec00000u
#define PLATFORM_PM1A_EVT_PORT 0x600
#define PLATFORM_PM1A_CNT_PORT 0x604
#define PLATFORM_PM_TMR_PORT 0x608
#define PLATFORM_RESET_PORT 0x60c /* 0xcf9 is inside PCI conf1 0xcf8-0xcfb */
#define PLATFORM_RESET_VALUE 0x06
#define PLATFORM_SCI_IRQ 9

struct vm;

void platform_acpi_config(const struct vm *vm, struct acpi_config *ac);
/* Creates the legacy devices and registers them on vm->pio. */
int platform_devices_create(struct vm *vm);
void platform_devices_destroy(struct vm *vm);

#endif
