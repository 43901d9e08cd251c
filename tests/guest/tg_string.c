/* The memory functions the compiler may call on its own (struct copies,
 * zeroing loops), freestanding or not. They keep their standard names
 * because the compiler emits exactly those.
 *
 * String instructions rather than byte loops: on PVM hosts ring-0 code is
 * emulated at roughly a microsecond per instruction, and a `rep stosq`
 * iteration costs far less there than a loop iteration of several
 * instructions (natively, in ring 3, both are fast). */
#include <stddef.h>
#include <stdint.h>

#include "tg_string.h"

void *memset(void *dst, int c, size_t n)
{
	uint64_t v = (uint8_t)c * 0x0101010101010101ULL;
	void *d = dst;
	size_t q = n / 8, r = n % 8;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(r) : "a"(v) : "memory");
	return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;
	const void *s = src;
	size_t q = n / 8, r = n % 8;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(q) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(r) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t tg_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

bool tg_streq_n(const char *a, size_t alen, const char *b)
{
	size_t blen = tg_strlen(b);

	return alen == blen && !memcmp(a, b, alen);
}
