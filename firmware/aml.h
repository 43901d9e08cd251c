/* firmware/aml: a small emitter for ACPI Machine Language, enough for the
 * DSDT objects lq-vmm describes (names, integers, strings, packages,
 * devices, resource templates). Objects with a PkgLength are built by
 * opening them, emitting their contents and closing them; the length is
 * filled in on close. Errors (overflow, unbalanced opens) are sticky and
 * reported by aml_finish(). */
#ifndef LQ_FIRMWARE_AML_H
#define LQ_FIRMWARE_AML_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AML_MAX_DEPTH 8

struct aml {
	uint8_t *buf;
	size_t cap, len;
	size_t open[AML_MAX_DEPTH]; /* offsets where each open PkgLength goes */
	unsigned depth;
	int err;
};

void aml_init(struct aml *a, void *buf, size_t cap);
/* Name (seg, ...): follow with exactly one data object. seg is 4 chars. */
void aml_name(struct aml *a, const char *seg);
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* EISA id such as "PNP0501" compressed into a DWord. */
void aml_eisaid(struct aml *a, const char *id);
void aml_package_open(struct aml *a, uint8_t nr_elements);
void aml_device_open(struct aml *a, const char *seg);
void aml_scope_open(struct aml *a, const char *path);
/* Buffer holding a resource template; close with aml_close(). The end tag
 * is added on close. */
void aml_resources_open(struct aml *a);
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_irq(struct aml *a, uint8_t irq);
/* Root-bridge windows (producer ranges, fixed min and max). */
void aml_res_bus_range(struct aml *a, uint16_t min, uint16_t max);
void aml_res_mem32_range(struct aml *a, uint32_t min, uint32_t max);
void aml_close(struct aml *a);
/* Length of the AML emitted, or -errno (-ENOSPC, -EINVAL). */
ssize_t aml_finish(struct aml *a);

#endif
