#include "vmm/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "firmware/acpi.h"
#include "vmm/platform.h"
#include "vmm/vm.h"

#define BOOT_KERNEL_MAX (512u << 20)

static int boot_read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		err = -errno;
		log_error("kernel %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > BOOT_KERNEL_MAX) {
		log_error("kernel %s: not a regular file of 1 byte to 512 MiB", path);
		err = -EINVAL;
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			log_error("kernel %s: read failed", path);
			goto out;
		}
		done += (size_t)n;
	}
	*out = buf;
	*len = done;
	buf = NULL;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return err;
}

static int boot_write_acpi(struct vm *vm)
{
	struct acpi_config ac;
	void *dst = guest_mem_ptr(&vm->mem, BOOT_ACPI_ADDR, BOOT_ACPI_SIZE);
	ssize_t n;

	platform_acpi_config(vm, &ac);
	if (!dst)
		return -EFAULT;
	n = acpi_build(dst, BOOT_ACPI_SIZE, BOOT_ACPI_ADDR, &ac);
	if (n < 0) {
		log_error("building ACPI tables failed: %s", strerror((int)-n));
		return (int)n;
	}
	return 0;
}

const char *boot_linux_extra_cmdline(const struct vm *vm)
{
	/* PVM keeps XSAVE and the SSE family visible in CPUID whatever
	 * KVM_SET_CPUID2 says (CX16 does get hidden), and KVM's emulator
	 * cannot run XSAVE or SIMD code in guest ring 0: so ask the kernel
	 * itself to leave them alone (blake2s, crc32c, AES, SHA in C). */
	return vm->pvm ? "noxsave clearcpuid=ssse3,sse4_1,sse4_2,pclmulqdq,aes,sha_ni" : NULL;
}

int boot_load(struct vm *vm)
{
	uint8_t *img = NULL;
	size_t len = 0;
	int err;

	err = boot_write_tables(vm);
	if (!err)
		err = boot_write_acpi(vm);
	if (!err)
		err = boot_read_file(vm->cfg->kernel, &img, &len);
	if (err)
		goto out;
	if (len >= 4 && !memcmp(img, "\177ELF", 4)) {
		err = boot_elf(vm, img, len);
		if (!err)
			err = boot_write_cmdline(vm, vm->entry.linux_kernel ?
						     boot_linux_extra_cmdline(vm) : NULL);
	} else {
		err = boot_linux_bzimage(vm, img, len);
		if (!err)
			err = boot_write_cmdline(vm, boot_linux_extra_cmdline(vm));
	}
out:
	free(img);
	return err;
}
