/* tests/guest: string and memory helpers (no libc here). */
#ifndef TG_STRING_H
#define TG_STRING_H

#include <stdbool.h>
#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t tg_strlen(const char *s);
/* True if the alen bytes at a are exactly the string b. */
bool tg_streq_n(const char *a, size_t alen, const char *b);

#endif
