/* Interrupt and exception dispatch. Any CPU exception is a failure of the
 * guest (or of the VMM under it): report where it happened and exit. */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_exit.h"
#include "tg_lapic.h"

void (*volatile tg_timer_hook)(void);
void (*volatile tg_sci_hook)(void);
volatile uint64_t tg_virtio_irqs;

static void tg_exception(const struct tg_frame *f)
{
	tg_printf("LQTG: exception %llu rip=0x%llx err=0x%llx\n", (unsigned long long)f->vector,
		  (unsigned long long)f->rip, (unsigned long long)f->err);
	tg_printf("LQTG: cs=0x%llx rsp=0x%llx rflags=0x%llx", (unsigned long long)f->cs,
		  (unsigned long long)f->rsp, (unsigned long long)f->rflags);
	if (f->vector == 14)
		tg_printf(" cr2=0x%llx", (unsigned long long)tg_read_cr2());
	tg_printf("\n");
	tg_exit_fail("exception");
}

void tg_trap(struct tg_frame *f)
{
	if (f->vector < 32) {
		tg_user_trap(f);
		tg_exception(f);
	} else if (f->vector == TG_VEC_TIMER) {
		void (*hook)(void) = tg_timer_hook;

		if (hook)
			hook();
	}
	else if (f->vector == TG_VEC_SCI) {
		void (*hook)(void) = tg_sci_hook;

		if (hook)
			hook();
		tg_lapic_eoi();
	}
	else if (f->vector == TG_VEC_VIRTIO) {
		tg_virtio_irqs++;
		tg_lapic_eoi();
	}
	/* TG_VEC_SPURIOUS: nothing to do, and no EOI by definition. */
}
