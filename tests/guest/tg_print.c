/* A small printf for the report lines: formats a whole call into a
 * buffer, then writes it to the UART (ring 0) or to the ring-3 log. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "tg_arch.h"
#include "tg_console.h"
#include "tg_string.h"

#define TG_LINE_MAX 256
#define TG_LOG_MAX 4096

struct tg_buf {
	char *p;
	unsigned len, cap;
};

static volatile int tg_print_lock;
/* Text printed in ring 3, waiting for ring 0 to send it. */
static char tg_log[TG_LOG_MAX];
static unsigned tg_log_len;
static bool tg_log_lost;

static void tg_lock(void)
{
	while (__atomic_exchange_n(&tg_print_lock, 1, __ATOMIC_ACQUIRE))
		tg_pause();
}

static void tg_unlock(void)
{
	__atomic_store_n(&tg_print_lock, 0, __ATOMIC_RELEASE);
}

static bool tg_in_ring3(void)
{
	uint16_t cs;

	__asm__("mov %%cs, %0" : "=r"(cs));
	return (cs & 3) == 3;
}

static void tg_put(struct tg_buf *b, char c)
{
	if (b->len < b->cap)
		b->p[b->len++] = c;
}

static void tg_put_str(struct tg_buf *b, const char *s, int max)
{
	if (!s)
		s = "(null)";
	for (; *s && max != 0; max--)
		tg_put(b, *s++);
}

static void tg_put_num(struct tg_buf *b, uint64_t v, unsigned base, unsigned width, bool neg)
{
	char digits[24];
	unsigned n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		digits[n++] = '-';
	while (width > n) {
		tg_put(b, '0');
		width--;
	}
	while (n)
		tg_put(b, digits[--n]);
}

/* Reads one integer argument of the length the modifiers said. */
static uint64_t tg_arg(va_list *ap, unsigned longs, bool is_signed, bool *neg)
{
	int64_t s;

	*neg = false;
	if (!is_signed)
		return longs ? va_arg(*ap, unsigned long long) : va_arg(*ap, unsigned int);
	s = longs ? va_arg(*ap, long long) : va_arg(*ap, int);
	if (s < 0) {
		*neg = true;
		return (uint64_t)0 - (uint64_t)s;
	}
	return (uint64_t)s;
}

static void tg_format(struct tg_buf *b, const char *fmt, va_list *ap)
{
	for (; *fmt; fmt++) {
		unsigned width = 0, longs = 0;
		int prec = -1;
		bool neg;
		uint64_t v;

		if (*fmt != '%') {
			tg_put(b, *fmt);
			continue;
		}
		fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		if (fmt[0] == '.' && fmt[1] == '*') {
			prec = va_arg(*ap, int);
			fmt += 2;
		}
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
			v = tg_arg(ap, longs, true, &neg);
			tg_put_num(b, v, 10, width, neg);
			break;
		case 'u':
		case 'x':
			v = tg_arg(ap, longs, false, &neg);
			tg_put_num(b, v, *fmt == 'u' ? 10 : 16, width, false);
			break;
		case 'p':
			tg_put_str(b, "0x", -1);
			tg_put_num(b, (uintptr_t)va_arg(*ap, void *), 16, 0, false);
			break;
		case 's':
			tg_put_str(b, va_arg(*ap, const char *), prec);
			break;
		case 'c':
			tg_put(b, (char)va_arg(*ap, int));
			break;
		case '\0':
			return;
		default:
			tg_put(b, *fmt);
			break;
		}
	}
}

void tg_printf(const char *fmt, ...)
{
	char line[TG_LINE_MAX];
	struct tg_buf b = { line, 0, sizeof(line) };
	va_list ap;

	va_start(ap, fmt);
	tg_format(&b, fmt, &ap);
	va_end(ap);
	tg_lock();
	if (!tg_in_ring3()) {
		tg_serial_write(line, b.len);
	} else if (tg_log_len + b.len <= sizeof(tg_log)) {
		memcpy(tg_log + tg_log_len, line, b.len);
		tg_log_len += b.len;
	} else {
		tg_log_lost = true;
	}
	tg_unlock();
}

void tg_snprintf(char *buf, unsigned size, const char *fmt, ...)
{
	struct tg_buf b = { buf, 0, size ? size - 1 : 0 };
	va_list ap;

	if (!size)
		return;
	va_start(ap, fmt);
	tg_format(&b, fmt, &ap);
	va_end(ap);
	buf[b.len] = '\0';
}

void tg_log_flush(void)
{
	static const char lost[] = "LQTG: (ring-3 output lost: log full)\n";

	tg_lock();
	tg_serial_write(tg_log, tg_log_len);
	if (tg_log_lost)
		tg_serial_write(lost, sizeof(lost) - 1);
	tg_log_len = 0;
	tg_log_lost = false;
	tg_unlock();
}
