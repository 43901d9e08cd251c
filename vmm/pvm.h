/* vmm/pvm: running guests on PVM-based KVM hosts.
 *
 * On such hosts (KVM without hardware virtualization, as inside many cloud
 * VMs) guest ring 0 runs through KVM's instruction emulator, which gives up
 * on some instructions with an emulation-failure exit. lq-vmm finishes
 * those instructions itself (the set is small and listed in pvm.c), so
 * unmodified guests keep running; anything else is reported with its bytes. */
#ifndef LQ_VMM_PVM_H
#define LQ_VMM_PVM_H

#include <stdbool.h>

#include "vmm/config.h"

struct vcpu;

enum pvm_insn_kind { PVM_INT3, PVM_CLAC, PVM_STAC, PVM_POPCNT, PVM_FWAIT, PVM_LDMXCSR,
		     PVM_STMXCSR, PVM_KINDS };

/* True when /dev/kvm is PVM-based (or forced by --pvm on|off). */
bool pvm_detect(enum pvm_mode mode);
/* Completes the instruction that failed emulation: 0 when the guest can go
 * on, -ENOTSUP (with a message naming the bytes) when it cannot. */
int pvm_emulate(struct vcpu *v);
const char *pvm_insn_name(enum pvm_insn_kind k);

#endif
