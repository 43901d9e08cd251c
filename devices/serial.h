/* devices/serial: a 16550A-compatible UART (COM1 at 0x3f8, IRQ 4).
 * The guest side is driven from vCPU threads through the port-I/O bus;
 * the host side pushes input with serial_receive() from the event loop
 * and gets output through the sink callback. All entry points lock. */
#ifndef LQ_DEVICES_SERIAL_H
#define LQ_DEVICES_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "devices/bus.h"

#define SERIAL_COM1_PORT 0x3f8
#define SERIAL_COM1_IRQ 4
#define SERIAL_RX_SIZE 4096

struct serial_sink {
	/* Guest transmitted bytes. Called with the UART lock held. */
	void (*write)(void *ctx, const void *buf, size_t len);
	/* The receive buffer has room again after being full. */
	void (*rx_space)(void *ctx);
	void *ctx;
};

struct serial;

struct serial *serial_create(unsigned irq, irq_set_fn set_irq, void *irq_ctx,
			     const struct serial_sink *sink);
void serial_destroy(struct serial *s);
int serial_attach(struct serial *s, struct bus *pio, uint16_t port);
/* Queues host input for the guest; returns bytes taken (may be short). */
size_t serial_receive(struct serial *s, const void *buf, size_t len);
size_t serial_rx_free(struct serial *s);
/* Bytes transmitted by the guest since creation (counters). */
uint64_t serial_tx_bytes(struct serial *s);

#endif
