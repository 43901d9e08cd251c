/* ELF notes that tell a loader where to enter the guest.
 *
 * - "Xen" / XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit PVH entry QEMU uses.
 *   The descriptor is 8 bytes (high half zero): QEMU reads a size_t from
 *   a 64-bit ELF's note, Xen and lq-vmm accept 4 or 8 bytes.
 * - "limiquantix" / 1: the 64-bit entry lq-vmm uses (long mode, paging on).
 *
 * The section is 4-aligned so the PT_NOTE's p_align is 4: QEMU pads the
 * note name to p_align, not to 4 as the ELF spec says. */

#define TG_NOTE(name, namesz, type, desc) \
	.balign 4;                        \
	.long namesz;                     \
	.long 8;                          \
	.long type;                       \
	.asciz name;                      \
	.balign 4;                        \
	.quad desc

	.section .note.tg, "a", @note
	.balign 4
	TG_NOTE("Xen", 4, 18, tg_start32)
	TG_NOTE("limiquantix", 12, 1, tg_start64)

	.section .note.GNU-stack, "", @progbits
