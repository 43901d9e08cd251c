#include "vmm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/pvm.h"
#include "vmm/vm.h"
#include "vmm/vm_pause.h"

#define VCPU_KICK_SIGNAL SIGUSR1
/* The API reads the counters while the vCPU runs (vmm/metrics.c): a
 * relaxed store by their only writer keeps them untorn at the cost of a
 * plain add. kvm_run.immediate_exit is written by kickers on other
 * threads, hence atomic stores there too. */
#define VCPU_COUNT(c) __atomic_store_n(&(c), (c) + 1, __ATOMIC_RELAXED)
#define VCPU_IMMEDIATE_EXIT(run, val) __atomic_store_n(&(run)->immediate_exit, (val), __ATOMIC_RELAXED)

int vcpu_create(struct vm *vm, unsigned id, struct vcpu *v)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		log_error("KVM_CREATE_VCPU %u failed: %s", id, strerror(errno));
		return -errno;
	}
	v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	return x86_vcpu_setup(v);
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->vm->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

void *vcpu_linear_ptr(struct vcpu *v, uint64_t lin, unsigned len, bool write)
{
	struct kvm_translation tr = { .linear_address = lin };

	if (ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid || (write && !tr.writeable))
		return NULL;
	return guest_mem_ptr(&v->vm->mem, tr.physical_address, len);
}

int vcpu_fetch_insn(struct vcpu *v, const struct kvm_regs *regs, const struct kvm_sregs *sregs,
		    uint8_t *buf, unsigned len)
{
	uint64_t lin = sregs->cs.base + regs->rip;
	unsigned done = 0;

	/* Byte ranges may straddle a page: translate each page separately. */
	while (done < len) {
		uint64_t a = lin + done;
		unsigned chunk = 4096 - (unsigned)(a & 4095);
		uint8_t *p;

		if (chunk > len - done)
			chunk = len - done;
		p = vcpu_linear_ptr(v, a, chunk, false);
		if (!p)
			break;
		memcpy(buf + done, p, chunk);
		done += chunk;
	}
	return (int)done;
}

static void vcpu_dump_seg(FILE *f, const char *name, const struct kvm_segment *s)
{
	fprintf(f, "  %-3s sel=%04x base=%016llx limit=%08x type=%x dpl=%u p=%u l=%u db=%u\n", name,
		s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl, s->present, s->l,
		s->db);
}

void vcpu_dump(struct vcpu *v, FILE *f)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	uint8_t code[16];
	int n;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(f, "vcpu %u: registers unavailable: %s\n", v->id, strerror(errno));
		return;
	}
	fprintf(f, "vcpu %u registers:\n"
		"  rip=%016llx rsp=%016llx rflags=%016llx\n"
		"  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		"  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n"
		"  r9 =%016llx r10=%016llx r11=%016llx r12=%016llx\n"
		"  r13=%016llx r14=%016llx r15=%016llx\n"
		"  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx\n",
		v->id, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp,
		r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cr0, s.cr2, s.cr3, s.cr4,
		s.efer);
	vcpu_dump_seg(f, "cs", &s.cs);
	vcpu_dump_seg(f, "ss", &s.ss);
	vcpu_dump_seg(f, "tr", &s.tr);
	fprintf(f, "  gdt=%016llx/%04x idt=%016llx/%04x\n", s.gdt.base, s.gdt.limit, s.idt.base,
		s.idt.limit);
	n = vcpu_fetch_insn(v, &r, &s, code, sizeof(code));
	fprintf(f, "  code at rip:");
	for (int i = 0; i < n; i++)
		fprintf(f, " %02x", code[i]);
	fprintf(f, n ? "\n" : " (not mapped)\n");
}

static void vcpu_crash(struct vcpu *v, const char *fmt, const char *what)
{
	log_error(fmt, v->id, what);
	vcpu_dump(v, stderr);
	vm_request_exit(v->vm, VM_EXIT_CRASH, 2);
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	VCPU_COUNT(v->stats.io);
	for (uint32_t i = 0; i < run->io.count; i++) {
		bus_access(&v->vm->pio, run->io.port, data, run->io.size, out);
		data += run->io.size;
	}
}

static void vcpu_handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_exit(v->vm, VM_EXIT_POWEROFF, 0);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_exit(v->vm, VM_EXIT_REBOOT, 0);
		break;
	default:
		vcpu_crash(v, "vcpu %u: guest crash event (%s)", "system event");
		break;
	}
}

static void vcpu_handle_internal_error(struct vcpu *v)
{
	char why[96];

	if (v->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && v->vm->pvm &&
	    pvm_emulate(v) == 0) {
		VCPU_COUNT(v->stats.emulated);
		return;
	}
	snprintf(why, sizeof(why), "%s (suberror %u)",
		 v->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			 "instruction emulation failure: the host KVM cannot run this guest instruction" :
			 "KVM internal error",
		 v->run->internal.suberror);
	vcpu_crash(v, "vcpu %u: %s; see the code bytes at rip below", why);
}

/* Returns false when the vCPU must stop. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char why[64];

	VCPU_COUNT(v->stats.exits);
	if (run->exit_reason < VCPU_EXIT_REASONS)
		VCPU_COUNT(v->stats.by_reason[run->exit_reason]);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		VCPU_COUNT(v->stats.mmio);
		bus_access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
			   run->mmio.is_write);
		return true;
	case KVM_EXIT_INTR:
		VCPU_COUNT(v->stats.interrupted);
		return true;
	case KVM_EXIT_SHUTDOWN:
		vcpu_crash(v, "vcpu %u: %s", "guest triple fault (shutdown exit): the guest crashed");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_handle_system_event(v);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_handle_internal_error(v);
		return run->exit_reason == KVM_EXIT_INTERNAL_ERROR ? !atomic_load(&v->stop) : true;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "hardware entry failure %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vcpu_crash(v, "vcpu %u: %s", why);
		return false;
	case KVM_EXIT_HLT:
		vcpu_crash(v, "vcpu %u: %s", "halted with no in-kernel irqchip to wake it");
		return false;
	default:
		snprintf(why, sizeof(why), "unhandled KVM exit reason %u", run->exit_reason);
		vcpu_crash(v, "vcpu %u: %s", why);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!atomic_load(&v->stop)) {
		if (vm_pause_wanted(&v->vm->pause)) {
			vm_pause_park(v);
			continue; /* look at stop again */
		}
		if (atomic_exchange(&v->dump, false))
			vcpu_dump(v, stderr);
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				VCPU_IMMEDIATE_EXIT(v->run, 0);
				VCPU_COUNT(v->stats.interrupted);
				continue;
			}
			log_error("vcpu %u: KVM_RUN failed: %s", v->id, strerror(errno));
			vm_request_exit(v->vm, VM_EXIT_ERROR, 1);
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	vm_pause_vcpu_exited(v);
	return NULL;
}

static void vcpu_kick_handler(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN with EINTR */
}

static void vcpu_install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

int vcpu_start(struct vcpu *v)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int err;

	pthread_once(&once, vcpu_install_kick_handler);
	err = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (err)
		return -err;
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	atomic_store(&v->stop, true);
	if (v->run)
		VCPU_IMMEDIATE_EXIT(v->run, 1);
	if (v->started)
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
	if (v->vm)
		vm_pause_wake(v->vm); /* a parked vCPU must see stop too */
}

void vcpu_poke(struct vcpu *v)
{
	if (v->run)
		VCPU_IMMEDIATE_EXIT(v->run, 1);
	if (v->started)
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_request_dump(struct vcpu *v)
{
	atomic_store(&v->dump, true);
	vcpu_poke(v);
}

void vcpu_join(struct vcpu *v)
{
	if (v->started)
		pthread_join(v->thread, NULL);
	v->started = false;
}
