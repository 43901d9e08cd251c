/* Ring 3 for the BSP: the bulk of the work runs there because, on the
 * PVM hosts this project targets, guest ring-3 code runs at native speed
 * while ring-0 code is emulated (~100x slower). */
#include <stddef.h>

#include "tg_console.h"
#include "tg_cpu.h"

/* tg_isr.S */
uint64_t tg_user_call(uint64_t (*fn)(void *), void *arg, void *ustack_top, void *rsp0_slot,
		      uint64_t rflags);
extern char tg_user_exit[];
__attribute__((noreturn)) void tg_user_resume(uint64_t result);

static uint8_t tg_ustack[TG_USTACK_SIZE] __attribute__((section(".bss.noinit"), aligned(16)));

#define TG_RFLAGS_BASE 0x002 /* bit 1 is always set */
#define TG_RFLAGS_IF 0x200

static uint64_t tg_user_enter(uint64_t (*fn)(void *), void *arg, uint64_t rflags)
{
	void *rsp0 = (char *)&tg_cpus[0].tss + offsetof(struct tg_tss, rsp0);
	uint64_t r = tg_user_call(fn, arg, tg_ustack + sizeof(tg_ustack), rsp0, rflags);

	tg_log_flush();
	return r;
}

uint64_t tg_user_run(uint64_t (*fn)(void *), void *arg)
{
	return tg_user_enter(fn, arg, TG_RFLAGS_BASE);
}

uint64_t tg_user_run_irq(uint64_t (*fn)(void *), void *arg)
{
	return tg_user_enter(fn, arg, TG_RFLAGS_BASE | TG_RFLAGS_IF);
}

bool tg_user_trap(const struct tg_frame *f)
{
	if (f->vector != 6 || (f->cs & 3) != 3 || f->rip != (uintptr_t)tg_user_exit)
		return false;
	tg_user_resume(f->rdi);
}
