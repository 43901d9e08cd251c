/* tests/guest: output on COM1 (8250/16550, polled). Every result the
 * guest reports is one line starting with "LQTG: ". */
#ifndef TG_CONSOLE_H
#define TG_CONSOLE_H

void tg_serial_init(void);
/* Ring 0 only (port I/O). */
void tg_serial_write(const char *s, unsigned n);

/* printf subset: %s %.*s %c %d %u %x with optional l/ll and a
 * zero-padded width (%08x), %p. Whole calls are serialised between CPUs.
 * Works in both rings: in ring 3 (no port access) the text is kept in a
 * buffer that tg_log_flush() writes out once back in ring 0. */
void tg_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tg_log_flush(void);
/* Formats into buf (always NUL-terminated, truncated to size). */
void tg_snprintf(char *buf, unsigned size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
