/* devices/i8042: just enough of the PS/2 controller for the reset line.
 * No keyboard is attached; the guest's "pulse reset" command (0xfe on the
 * command port, or bit 0 cleared through the output port) calls reset. */
#ifndef LQ_DEVICES_I8042_H
#define LQ_DEVICES_I8042_H

#include "devices/bus.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

struct i8042;

struct i8042 *i8042_create(void (*reset)(void *ctx), void *ctx);
void i8042_destroy(struct i8042 *k);
int i8042_attach(struct i8042 *k, struct bus *pio);

#endif
