/* VIRTIO_PCI_CAP_PCI_CFG (virtio 1.2, 4.1.4.9): a window in PCI config
 * space onto BAR 0, for drivers (firmware, early boot code) that can do
 * config cycles but cannot map the BAR yet. The driver writes bar,
 * offset and length, then writing pci_cfg_data stores `length` bytes at
 * that offset of the BAR and reading it loads them. An access that the
 * spec does not allow (another BAR, a length other than 1, 2 or 4, an
 * offset that is not a multiple of length or runs past the BAR) does
 * nothing: pci_cfg_data keeps its bytes and the device is untouched. */
#include "virtio/pci_internal.h"

#include <errno.h>
#include <string.h>

#include "devices/bus.h"

#define VIRTIO_PCI_CAP_PCI_CFG 5
/* Offsets inside the capability (from its id byte). */
#define CFGW_BAR 4
#define CFGW_OFFSET 8
#define CFGW_LENGTH 12
#define CFGW_DATA 16
#define CFGW_SIZE 20

int virtio_pci_cfg_window_add(struct virtio_pci *vp)
{
	uint8_t body[CFGW_SIZE - 2] = { 0 };
	int cap;

	body[0] = CFGW_SIZE; /* cap_len */
	body[1] = VIRTIO_PCI_CAP_PCI_CFG;
	cap = pci_dev_add_cap(&vp->pci, PCI_CAP_ID_VNDR, body, sizeof(body));
	if (cap < 0)
		return cap;
	vp->pci.wmask[cap + CFGW_BAR] = 0xff;
	memset(&vp->pci.wmask[cap + CFGW_OFFSET], 0xff, 12); /* offset, length, data */
	return cap;
}

/* The BAR range the window names, or false if the access is not allowed. */
static bool virtio_pci_cfg_window(const struct virtio_pci *vp, uint32_t *off, uint32_t *len)
{
	unsigned cap = (unsigned)vp->cfg_cap;

	*off = pci_cfg_get32(&vp->pci, cap + CFGW_OFFSET);
	*len = pci_cfg_get32(&vp->pci, cap + CFGW_LENGTH);
	if (vp->pci.cfg[cap + CFGW_BAR] != 0)
		return false;
	if (*len != 1 && *len != 2 && *len != 4)
		return false;
	return *off % *len == 0 && *off <= VIRTIO_PCI_BAR_SIZE - *len;
}

static bool virtio_pci_cfg_touches_data(const struct virtio_pci *vp, unsigned off, unsigned len)
{
	unsigned data = (unsigned)vp->cfg_cap + CFGW_DATA;

	return vp->cfg_cap > 0 && off < data + 4 && off + len > data;
}

void virtio_pci_cfg_window_written(struct virtio_pci *vp, unsigned off, unsigned len)
{
	uint32_t at, n;

	if (!virtio_pci_cfg_touches_data(vp, off, len) || !virtio_pci_cfg_window(vp, &at, &n))
		return;
	virtio_pci_bar_ops.write(vp, at, &vp->pci.cfg[vp->cfg_cap + CFGW_DATA], n);
}

void virtio_pci_cfg_window_reading(struct virtio_pci *vp, unsigned off, unsigned len)
{
	uint32_t at, n;

	if (!virtio_pci_cfg_touches_data(vp, off, len) || !virtio_pci_cfg_window(vp, &at, &n))
		return;
	virtio_pci_bar_ops.read(vp, at, &vp->pci.cfg[vp->cfg_cap + CFGW_DATA], n);
}
