#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/platform.h"
#include "vmm/vm_virtio.h"
#include "vmm/pvm.h"
#include "vmm/vcpu.h"

/* Just below the BIOS area, as other VMMs do: three pages for the VMX
 * real-mode TSS and one for the identity map, inside the 32-bit hole. */
#define VM_TSS_ADDR 0xfffbd000ULL
#define VM_IDENTITY_MAP_ADDR 0xfffbc000ULL

void vm_set_irq(void *opaque, unsigned gsi, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_warn("KVM_IRQ_LINE gsi %u failed: %s", gsi, strerror(errno));
}

void vm_request_exit(struct vm *vm, enum vm_exit_reason why, int status)
{
	uint64_t one = 1;
	bool first;

	pthread_mutex_lock(&vm->lock);
	first = vm->exit_reason == VM_EXIT_NONE;
	if (first) {
		vm->exit_reason = why;
		vm->exit_status = status;
	}
	pthread_mutex_unlock(&vm->lock);
	if (first && write(vm->exit_efd, &one, sizeof(one)) < 0)
		log_error("cannot signal VM exit: %s", strerror(errno));
	/* Stop the caller's own vCPU too (and all others) promptly. */
	for (unsigned i = 0; first && i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

static int vm_check_caps(struct vm *vm)
{
	static const struct { int cap; const char *name; } need[] = {
		{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
		{ KVM_CAP_PIT2, "in-kernel PIT" },
		{ KVM_CAP_IMMEDIATE_EXIT, "immediate_exit" },
		{ KVM_CAP_USER_MEMORY, "user memory regions" },
		{ KVM_CAP_EXT_CPUID, "KVM_GET_SUPPORTED_CPUID" },
	};
	int api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);

	if (api != KVM_API_VERSION) {
		log_error("/dev/kvm speaks API version %d, lq-vmm needs %d", api, KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (unsigned i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0) {
			log_error("this KVM lacks %s, which lq-vmm needs", need[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int vm_setup_kvm(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		log_error("cannot open /dev/kvm: %s (is KVM enabled, and may this user use it?)",
			  strerror(errno));
		return -errno;
	}
	if (vm_check_caps(vm))
		return -ENOTSUP;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		log_error("KVM_CREATE_VM failed: %s", strerror(errno));
		return -errno;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return -EINVAL;
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)VM_TSS_ADDR) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &(uint64_t){ VM_IDENTITY_MAP_ADDR }) < 0 ||
	    ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0 ||
	    ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		log_error("KVM platform set-up (TSS, irqchip, PIT) failed: %s", strerror(errno));
		return -errno;
	}
	/* No catch-up of missed PIT ticks: a guest whose tick handler runs
	 * slower than the tick (guest ring 0 on PVM hosts) would otherwise be
	 * buried in re-injected interrupts and never make progress. */
	if (ioctl(vm->vm_fd, KVM_REINJECT_CONTROL, &(struct kvm_reinject_control){ .pit_reinject = 0 }) < 0)
		log_warn("cannot turn off PIT tick re-injection: %s", strerror(errno));
	return 0;
}

static int vm_setup_memory(struct vm *vm)
{
	int err = guest_mem_init(&vm->mem, vm->cfg->memory);

	if (err) {
		log_error("cannot allocate %llu MiB of guest memory: %s",
			  (unsigned long long)(vm->cfg->memory >> 20), strerror(-err));
		return err;
	}
	for (unsigned i = 0; i < vm->mem.nr; i++) {
		const struct guest_mem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region kr = {
			.slot = i, .guest_phys_addr = r->gpa, .memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &kr) < 0) {
			log_error("KVM_SET_USER_MEMORY_REGION %u failed: %s", i, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static bool vm_pvm_logged;

int vm_create(struct vm *vm, const struct vm_config *cfg, struct serial *serial)
{
	int err;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->evl.epfd = -1;
	vm->serial = serial;
	vm->nr_vcpus = cfg->cpus;
	pthread_mutex_init(&vm->lock, NULL);
	vm_pause_init(&vm->pause);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	vm->exit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_efd < 0)
		return -errno;
	vm->pvm = pvm_detect(cfg->pvm);
	if (vm->pvm && !vm_pvm_logged) {
		vm_pvm_logged = true; /* once, not on every guest reboot */
		log_info("host KVM is PVM-based: hiding XSAVE/CX16 and finishing the instructions its emulator cannot run");
	}
	err = vm_setup_kvm(vm);
	if (!err)
		err = vm_setup_memory(vm);
	if (!err)
		err = platform_devices_create(vm);
	if (!err)
		err = vm_virtio_create(vm);
	if (!err)
		err = boot_load(vm);
	if (!err)
		err = x86_cpuid_build(vm);
	if (err)
		return err;
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		err = vcpu_create(vm, i, &vm->vcpus[i]);
		if (err)
			return err;
	}
	return 0;
}

int vm_start(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		int err = vcpu_start(&vm->vcpus[i]);

		if (err) {
			log_error("cannot start vcpu %u thread: %s", i, strerror(-err));
			return err;
		}
	}
	return 0;
}

void vm_stop(struct vm *vm)
{
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
}

void vm_destroy(struct vm *vm)
{
	vm_stop(vm);
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm_virtio_destroy(vm);
	platform_devices_destroy(vm);
	free(vm->cpuid);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	guest_mem_free(&vm->mem);
	if (vm->exit_efd >= 0)
		close(vm->exit_efd);
	pthread_mutex_destroy(&vm->lock);
	vm_pause_destroy(&vm->pause);
}
