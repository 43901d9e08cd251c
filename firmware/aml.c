#include "firmware/aml.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

enum {
	AML_ZERO_OP = 0x00, AML_ONE_OP = 0x01, AML_NAME_OP = 0x08,
	AML_BYTE_PREFIX = 0x0a, AML_WORD_PREFIX = 0x0b, AML_DWORD_PREFIX = 0x0c,
	AML_STRING_PREFIX = 0x0d, AML_QWORD_PREFIX = 0x0e, AML_SCOPE_OP = 0x10,
	AML_BUFFER_OP = 0x11, AML_PACKAGE_OP = 0x12, AML_EXT_PREFIX = 0x5b,
	AML_DEVICE_OP = 0x82, AML_ONES_OP = 0xff,
};

/* A resource template's buffer holds a BufferSize before its bytes. */
#define AML_OPEN_BUFFER_FLAG ((size_t)1 << 63)

void aml_init(struct aml *a, void *buf, size_t cap)
{
	*a = (struct aml){ .buf = buf, .cap = cap };
}

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		a->err = -ENOSPC;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

static void aml_nameseg(struct aml *a, const char *seg)
{
	char s[4] = { '_', '_', '_', '_' };
	size_t n = strlen(seg);

	if (n == 0 || n > 4) {
		a->err = a->err ? a->err : -EINVAL;
		return;
	}
	memcpy(s, seg, n); /* short names are padded with '_' */
	aml_bytes(a, s, 4);
}

void aml_name(struct aml *a, const char *seg)
{
	aml_byte(a, AML_NAME_OP);
	aml_nameseg(a, seg);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		aml_byte(a, AML_ZERO_OP);
	else if (v == 1)
		aml_byte(a, AML_ONE_OP);
	else if (v == UINT64_MAX)
		aml_byte(a, AML_ONES_OP);
	else if (v <= 0xff)
		aml_byte(a, AML_BYTE_PREFIX), aml_le(a, v, 1);
	else if (v <= 0xffff)
		aml_byte(a, AML_WORD_PREFIX), aml_le(a, v, 2);
	else if (v <= 0xffffffffu)
		aml_byte(a, AML_DWORD_PREFIX), aml_le(a, v, 4);
	else
		aml_byte(a, AML_QWORD_PREFIX), aml_le(a, v, 8);
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v;

	if (strlen(id) != 7) {
		a->err = a->err ? a->err : -EINVAL;
		return;
	}
	/* Three 5-bit letters and four hex digits, stored big endian. */
	v = (uint32_t)((id[0] - '@') & 0x1f) << 26 | (uint32_t)((id[1] - '@') & 0x1f) << 21 |
	    (uint32_t)((id[2] - '@') & 0x1f) << 16;
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
			     c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
		if (d > 15) {
			a->err = a->err ? a->err : -EINVAL;
			return;
		}
		v |= d << (4 * (6 - i));
	}
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, __builtin_bswap32(v), 4);
}

static void aml_open(struct aml *a, size_t flag)
{
	if (a->depth == AML_MAX_DEPTH) {
		a->err = a->err ? a->err : -EINVAL;
		return;
	}
	a->open[a->depth++] = a->len | flag;
}

void aml_package_open(struct aml *a, uint8_t nr_elements)
{
	aml_byte(a, AML_PACKAGE_OP);
	aml_open(a, 0);
	aml_byte(a, nr_elements);
}

void aml_device_open(struct aml *a, const char *seg)
{
	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	aml_open(a, 0);
	aml_nameseg(a, seg);
}

void aml_scope_open(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_open(a, 0);
	if (path[0] == '\\') {
		aml_byte(a, '\\');
		path++;
	}
	if (*path)
		aml_nameseg(a, path);
}

void aml_resources_open(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	aml_open(a, AML_OPEN_BUFFER_FLAG);
}

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	/* Small I/O port descriptor: 16-bit decode, fixed base. */
	const uint8_t d[8] = { 0x47, 0x01, (uint8_t)base, (uint8_t)(base >> 8),
			       (uint8_t)base, (uint8_t)(base >> 8), 1, len };
	aml_bytes(a, d, sizeof(d));
}

void aml_res_irq(struct aml *a, uint8_t irq)
{
	/* Small IRQ descriptor without flags: edge, active high. */
	uint16_t mask = irq < 16 ? (uint16_t)(1u << irq) : 0;
	const uint8_t d[3] = { 0x22, (uint8_t)mask, (uint8_t)(mask >> 8) };

	if (irq >= 16)
		a->err = a->err ? a->err : -EINVAL;
	aml_bytes(a, d, sizeof(d));
}

void aml_res_bus_range(struct aml *a, uint16_t min, uint16_t max)
{
	/* Word address space descriptor, type 2 (bus numbers), flags
	 * MinFixed|MaxFixed; granularity, min, max, translation, length. */
	uint8_t d[16] = { 0x88, 13, 0, 2, 0x0c, 0 };
	uint16_t f[5] = { 0, min, max, 0, (uint16_t)(max - min + 1) };

	memcpy(&d[6], f, sizeof(f));
	aml_bytes(a, d, sizeof(d));
}

void aml_res_mem32_range(struct aml *a, uint32_t min, uint32_t max)
{
	/* DWord address space descriptor, type 0 (memory), MinFixed|MaxFixed,
	 * read-write non-cacheable. */
	uint8_t d[26] = { 0x87, 23, 0, 0, 0x0c, 0x01 };
	uint32_t f[5] = { 0, min, max, 0, max - min + 1 };

	memcpy(&d[6], f, sizeof(f));
	aml_bytes(a, d, sizeof(d));
}

/* PkgLength: one byte up to 63, else a lead byte giving the count of
 * following bytes and the low nibble, then 8 bits per byte. */
static unsigned aml_pkglen_size(size_t body)
{
	if (body + 1 <= 0x3f)
		return 1;
	if (body + 2 <= 0xfff)
		return 2;
	if (body + 3 <= 0xfffff)
		return 3;
	return 4;
}

static void aml_pkglen_encode(uint8_t *p, size_t total, unsigned n)
{
	if (n == 1) {
		p[0] = (uint8_t)total;
		return;
	}
	p[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
	for (unsigned i = 1; i < n; i++)
		p[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

void aml_close(struct aml *a)
{
	size_t at, body, total;
	bool is_buffer;
	uint8_t size_obj[5];
	unsigned size_len = 0, n;

	if (a->err)
		return;
	if (a->depth == 0) {
		a->err = -EINVAL;
		return;
	}
	at = a->open[--a->depth];
	is_buffer = at & AML_OPEN_BUFFER_FLAG;
	at &= ~AML_OPEN_BUFFER_FLAG;
	if (is_buffer) {
		const uint8_t end_tag[2] = { 0x79, 0x00 }; /* checksum 0: not checked */
		uint32_t blen;

		aml_bytes(a, end_tag, sizeof(end_tag));
		if (a->err)
			return;
		blen = (uint32_t)(a->len - at);
		/* BufferSize as an integer object in front of the bytes. */
		if (blen <= 0xff) {
			size_obj[0] = AML_BYTE_PREFIX;
			size_obj[1] = (uint8_t)blen;
			size_len = 2;
		} else {
			size_obj[0] = AML_WORD_PREFIX;
			size_obj[1] = (uint8_t)blen;
			size_obj[2] = (uint8_t)(blen >> 8);
			size_len = 3;
		}
	}
	body = a->len - at + size_len;
	n = aml_pkglen_size(body);
	total = body + n;
	if (n + size_len > a->cap - a->len) {
		a->err = -ENOSPC;
		return;
	}
	memmove(a->buf + at + n + size_len, a->buf + at, a->len - at);
	aml_pkglen_encode(a->buf + at, total, n);
	memcpy(a->buf + at + n, size_obj, size_len);
	a->len += n + size_len;
}

ssize_t aml_finish(struct aml *a)
{
	if (!a->err && a->depth)
		a->err = -EINVAL;
	return a->err ? a->err : (ssize_t)a->len;
}
