#include "vmm/platform.h"

#include <errno.h>

#include "common/log.h"
#include "devices/acpi_pm.h"
#include "devices/i8042.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "vmm/vm.h"
#include "vmm/vm_virtio.h"

void platform_acpi_config(const struct vm *vm, struct acpi_config *ac)
{
	*ac = (struct acpi_config){
		.ncpus = vm->nr_vcpus,
		.lapic_addr = PLATFORM_LAPIC_ADDR,
		.ioapic_addr = PLATFORM_IOAPIC_ADDR,
		.sci_irq = PLATFORM_SCI_IRQ,
		.pm1a_evt_port = PLATFORM_PM1A_EVT_PORT,
		.pm1a_cnt_port = PLATFORM_PM1A_CNT_PORT,
		.pm_tmr_port = PLATFORM_PM_TMR_PORT,
		.reset_port = PLATFORM_RESET_PORT,
		.reset_value = PLATFORM_RESET_VALUE,
		.com1_port = vm->serial ? SERIAL_COM1_PORT : 0,
		.com1_irq = SERIAL_COM1_IRQ,
		.pci_win_base = VM_PCI_WINDOW_START,
		.pci_win_end = VM_PCI_WINDOW_END,
	};
}

static void platform_power_off(void *ctx)
{
	vm_request_exit(ctx, VM_EXIT_POWEROFF, 0);
}

static void platform_reset(void *ctx)
{
	vm_request_exit(ctx, VM_EXIT_REBOOT, 0);
}

static void platform_debug_exit(void *ctx, int status)
{
	vm_request_exit(ctx, VM_EXIT_DEBUG, status);
}

int platform_devices_create(struct vm *vm)
{
	struct acpi_config ac;
	struct acpi_pm_callbacks cb = { platform_power_off, platform_reset, vm_set_irq, vm };
	int err;

	platform_acpi_config(vm, &ac);
	vm->i8042 = i8042_create(platform_reset, vm);
	vm->rtc = rtc_create(guest_mem_low_size(&vm->mem), guest_mem_high_size(&vm->mem));
	vm->pm = acpi_pm_create(&ac, &cb);
	if (!vm->i8042 || !vm->rtc || !vm->pm)
		return -ENOMEM;
	vm->dbg = (struct debug_exit){ platform_debug_exit, vm };
	err = i8042_attach(vm->i8042, &vm->pio);
	if (!err)
		err = rtc_attach(vm->rtc, &vm->pio);
	if (!err)
		err = acpi_pm_attach(vm->pm, &vm->pio);
	if (!err)
		err = debug_exit_attach(&vm->dbg, &vm->pio);
	if (!err && vm->serial)
		err = serial_attach(vm->serial, &vm->pio, SERIAL_COM1_PORT);
	if (err)
		log_error("registering legacy devices failed: %d", err);
	return err;
}

void platform_devices_destroy(struct vm *vm)
{
	i8042_destroy(vm->i8042);
	rtc_destroy(vm->rtc);
	acpi_pm_destroy(vm->pm);
	vm->i8042 = NULL;
	vm->rtc = NULL;
	vm->pm = NULL;
}
