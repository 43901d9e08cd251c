/* The BSP's path through the test guest (README.md has the contract). */
#include "tg_acpi.h"
#include "tg_arch.h"
#include "tg_boot.h"
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_exit.h"
#include "tg_lapic.h"
#include "tg_string.h"
#include "tg_tests.h"
#include "tg_tsc.h"

void tg_main(uint64_t start_info);

/* Failed test names, comma separated, for the verdict line. */
static char tg_failed[64];

static void tg_note_failure(const char *what)
{
	size_t n = tg_strlen(tg_failed), w = tg_strlen(what);

	if (n + w + 2 > sizeof(tg_failed))
		return;
	if (n)
		tg_failed[n++] = ',';
	memcpy(tg_failed + n, what, w + 1);
}

static uint64_t tg_ms_since(uint64_t t0)
{
	return (tg_rdtsc() - t0) / tg_tsc_khz;
}

/* Runs the selected tests; prints how long each took (ring-0 work is
 * slow on PVM hosts, so this is where to look when a run is slow). */
static void tg_run_tests(const struct tg_opts *o, const struct tg_boot *b,
			 const struct tg_acpi *a)
{
	uint64_t t0, ms[3] = { 0, 0, 0 };

	if (o->tests & TG_TEST_MEM) {
		t0 = tg_rdtsc();
		if (!tg_test_mem(b))
			tg_note_failure("mem");
		ms[0] = tg_ms_since(t0);
	}
	if (o->tests & TG_TEST_SMP) {
		t0 = tg_rdtsc();
		if (!tg_test_smp(a))
			tg_note_failure("smp");
		ms[1] = tg_ms_since(t0);
	}
	if (o->tests & TG_TEST_TIMER) {
		t0 = tg_rdtsc();
		if (!tg_test_timer())
			tg_note_failure("timer");
		ms[2] = tg_ms_since(t0);
	}
	if ((o->tests & TG_TEST_BLK) && !tg_test_blk(false))
		tg_note_failure("blk");
	if ((o->tests & TG_TEST_BLKBAD) && !tg_test_blk(true))
		tg_note_failure("blkbad");
	if ((o->tests & TG_TEST_RNG) && !tg_test_rng())
		tg_note_failure("rng");
	if ((o->tests & TG_TEST_CONSOLE) && !tg_test_console())
		tg_note_failure("console");
	if ((o->tests & TG_TEST_MSIX) && !tg_test_msix())
		tg_note_failure("msix");
	if ((o->tests & TG_TEST_PCICFG) && !tg_test_pcicfg(false))
		tg_note_failure("pcicfg");
	if ((o->tests & TG_TEST_PCICFGBAD) && !tg_test_pcicfg(true))
		tg_note_failure("pcicfgbad");
	if ((o->tests & TG_TEST_NET) && !tg_test_net())
		tg_note_failure("net");
	if ((o->tests & TG_TEST_NETMQ) && !tg_test_netmq())
		tg_note_failure("netmq");
	tg_printf("LQTG: time mem=%llu ms smp=%llu ms timer=%llu ms\n", (unsigned long long)ms[0],
		  (unsigned long long)ms[1], (unsigned long long)ms[2]);
}

static __attribute__((noreturn)) void tg_verdict(const struct tg_opts *o, const struct tg_acpi *a)
{
	if (o->fail)
		tg_note_failure("requested");
	if (o->wait_pwrbtn) {
		if (tg_failed[0])
			tg_exit_fail(tg_failed);
		tg_printf("LQTG: PASS\n");
		tg_wait_powerbutton(a);
	}
	if (o->idle) {
		/* For console tests: stay up until the VMM is told to stop. */
		if (tg_failed[0])
			tg_printf("LQTG: FAIL %s\n", tg_failed);
		else
			tg_printf("LQTG: PASS\n");
		tg_printf("LQTG: idle\n");
		tg_halt_forever();
	}
	if (tg_failed[0])
		tg_exit_fail(tg_failed);
	tg_exit_pass();
}

struct tg_acpi_job {
	uint64_t hint;
	struct tg_acpi *a;
};

/* Ring 3: the table walk and the DSDT scan are thousands of loop
 * iterations, which ring 0 on a PVM host would take milliseconds over. */
static uint64_t tg_acpi_user(void *arg)
{
	struct tg_acpi_job *j = arg;

	tg_acpi_init(j->hint, j->a);
	return 0;
}

void tg_main(uint64_t start_info)
{
	static struct tg_boot boot;
	static struct tg_acpi acpi;
	static struct tg_acpi_job job;
	struct tg_opts opts;
	uint64_t mapped;
	bool big;

	/* First: a benchmark times exec-to-this-line. */
	tg_serial_init();
	tg_printf("LQTG: hello\n");

	if (!tg_boot_read(start_info, &boot))
		tg_printf("LQTG: no hvm_start_info at 0x%llx\n", (unsigned long long)start_info);
	tg_opts_parse(boot.cmdline, &opts);
	if (opts.triple) {
		tg_printf("LQTG: triple fault requested\n");
		tg_exit_triple_fault();
	}
	tg_idt_init();
	tg_desc_load(0);
	if (!boot.n_memmap)
		tg_exit_fail("no memmap in hvm_start_info");
	mapped = tg_paging_init(&boot, !opts.pages_2m, &big);
	job = (struct tg_acpi_job){ boot.rsdp, &acpi };
	tg_user_run(tg_acpi_user, &job);
	tg_exit_set_acpi(&acpi);
	if (opts.reset) {
		tg_printf("LQTG: reset requested\n");
		tg_exit_reset();
	}
	if (opts.bench)
		tg_exit_poweroff();

	tg_printf("LQTG: paging: %llu GiB mapped with %s pages\n",
		  (unsigned long long)(mapped >> 30), big ? "1 GiB" : "2 MiB");
	tg_printf("LQTG: mem=%llu MiB\n",
		  (unsigned long long)((tg_boot_ram_bytes(&boot) + (1u << 19)) >> 20));
	if (!tg_lapic_enable())
		tg_exit_fail("LAPIC is in x2APIC mode");
	tg_irq_mask_legacy(acpi.ioapic_addr, acpi.n_ioapics);
	tg_tsc_calibrate(&acpi);

	if (opts.bench_blk) {
		if (!tg_bench_blk())
			tg_exit_fail("bench");
		tg_exit_poweroff();
	}
	if (opts.bench_net) {
		if (!tg_bench_net())
			tg_exit_fail("bench");
		tg_exit_poweroff();
	}
	tg_run_tests(&opts, &boot, &acpi);
	tg_verdict(&opts, &acpi);
}
