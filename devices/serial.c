#include "devices/serial.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Register offsets; DLAB=1 turns 0/1 into the divisor latch. */
enum { UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
       UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7 };

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define MCR_OUT2 0x08
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_DCD 0x80
#define MSR_DSR 0x20
#define MSR_CTS 0x10

struct serial {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;
	int irq_level;
	unsigned irq;
	irq_set_fn set_irq;
	void *irq_ctx;
	struct serial_sink sink;
	bool rx_was_full;
	uint8_t rx[SERIAL_RX_SIZE];
	size_t rx_head, rx_count;
	uint64_t tx_bytes;
};

static uint8_t serial_iir(const struct serial *s)
{
	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return IIR_THRI;
	return IIR_NONE;
}

/* Level-style line: asserted while an enabled condition is pending. The
 * in-kernel IOAPIC pin is edge-triggered for ISA IRQs, so every new
 * condition after the guest acknowledged the previous one gives an edge. */
static void serial_update_irq(struct serial *s)
{
	int level = serial_iir(s) != IIR_NONE;

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->set_irq)
			s->set_irq(s->irq_ctx, s->irq, level);
	}
}

static void serial_tx(struct serial *s, uint8_t byte)
{
	if (s->mcr & MCR_LOOP) {
		if (s->rx_count < SERIAL_RX_SIZE) {
			s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_SIZE] = byte;
			s->rx_count++;
		}
	} else if (s->sink.write) {
		s->sink.write(s->sink.ctx, &byte, 1);
	}
	s->tx_bytes++;
	/* Transmission is instantaneous: THR is empty again at once. */
	s->thri_pending = true;
}

static uint8_t serial_rx_pop(struct serial *s)
{
	uint8_t byte;
	bool notify;

	if (!s->rx_count)
		return 0;
	byte = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_SIZE;
	s->rx_count--;
	notify = s->rx_was_full;
	s->rx_was_full = false;
	if (notify && s->sink.rx_space)
		s->sink.rx_space(s->sink.ctx);
	return byte;
}

static int serial_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct serial *s = opaque;
	uint8_t v = 0;

	if (len != 1)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RBR_THR:
		v = (s->lcr & LCR_DLAB) ? s->dll : serial_rx_pop(s);
		break;
	case UART_IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR_FCR:
		v = serial_iir(s);
		/* Reading IIR while it reports THRE acknowledges that condition. */
		if (v == IIR_THRI)
			s->thri_pending = false;
		if (s->fcr & 1)
			v |= IIR_FIFO;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
		break;
	case UART_MSR:
		if (s->mcr & MCR_LOOP)
			v = (uint8_t)(((s->mcr & 0x0c) << 4) | ((s->mcr & 0x03) << 4));
		else
			v = MSR_DCD | MSR_DSR | MSR_CTS;
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	*(uint8_t *)data = v;
	return 0;
}

static int serial_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct serial *s = opaque;
	uint8_t v = *(const uint8_t *)data;

	if (len != 1)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			serial_tx(s, v);
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRE interrupts with an empty THR raises one. */
			if (!(s->ier & IER_THRI) && (v & IER_THRI))
				s->thri_pending = true;
			s->ier = v & 0x0f;
		}
		break;
	case UART_IIR_FCR:
		s->fcr = v & 0xc9;
		if (v & 0x02) { /* clear receive FIFO */
			s->rx_head = s->rx_count = 0;
		}
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static const struct bus_ops serial_ops = { .read = serial_read, .write = serial_write };

struct serial *serial_create(unsigned irq, irq_set_fn set_irq, void *irq_ctx,
			     const struct serial_sink *sink)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->irq = irq;
	s->set_irq = set_irq;
	s->irq_ctx = irq_ctx;
	if (sink)
		s->sink = *sink;
	s->mcr = MCR_OUT2;
	s->dll = 12; /* 9600 baud until the guest programs it */
	return s;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int serial_attach(struct serial *s, struct bus *pio, uint16_t port)
{
	return bus_register(pio, port, 8, &serial_ops, s);
}

size_t serial_receive(struct serial *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->rx_count < SERIAL_RX_SIZE) {
		s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_SIZE] = p[n++];
		s->rx_count++;
	}
	if (s->rx_count == SERIAL_RX_SIZE)
		s->rx_was_full = true;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial_rx_free(struct serial *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = SERIAL_RX_SIZE - s->rx_count;
	if (!n)
		s->rx_was_full = true;
	pthread_mutex_unlock(&s->lock);
	return n;
}

uint64_t serial_tx_bytes(struct serial *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->tx_bytes;
	pthread_mutex_unlock(&s->lock);
	return n;
}
