#include "vmm/pvm.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define RFLAGS_CF (1ULL << 0)
#define RFLAGS_PF (1ULL << 2)
#define RFLAGS_AF (1ULL << 4)
#define RFLAGS_ZF (1ULL << 6)
#define RFLAGS_SF (1ULL << 7)
#define RFLAGS_OF (1ULL << 11)
#define RFLAGS_AC (1ULL << 18)

bool pvm_detect(enum pvm_mode mode)
{
	if (mode != PVM_AUTO)
		return mode == PVM_ON;
	/* The PVM vendor module replaces kvm_intel/kvm_amd on such hosts. */
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

const char *pvm_insn_name(enum pvm_insn_kind k)
{
	static const char *const names[PVM_KINDS] = { "int3", "clac", "stac", "popcnt", "fwait",
						      "ldmxcsr", "stmxcsr" };
	return k < PVM_KINDS ? names[k] : "?";
}

/* A decoded instruction: just the prefixes and ModRM forms the handled
 * instructions use, in 64-bit mode. */
struct pvm_insn {
	const uint8_t *b;
	unsigned n, pos;
	uint8_t rex;
	bool p66, pf3;
	int seg; /* -1, or 4 (fs) / 5 (gs) */
};

/* KVM's kvm_regs order differs from the x86 register encoding. */
static __u64 *pvm_gpr(struct kvm_regs *r, unsigned enc)
{
	__u64 *map[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi,
			      &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
			      &r->r14, &r->r15 };
	return map[enc & 15];
}

static int pvm_byte(struct pvm_insn *in)
{
	return in->pos < in->n ? in->b[in->pos++] : -1;
}

static void pvm_prefixes(struct pvm_insn *in)
{
	for (;;) {
		int c = in->pos < in->n ? in->b[in->pos] : -1;

		if (c == 0x66) in->p66 = true;
		else if (c == 0xf3) in->pf3 = true;
		else if (c == 0x64 || c == 0x65) in->seg = c == 0x64 ? 4 : 5;
		else if (c == 0x2e || c == 0x3e || c == 0x26 || c == 0x36 || c == 0xf2) { /* ignored */ }
		else break;
		in->pos++;
	}
	if (in->pos < in->n && (in->b[in->pos] & 0xf0) == 0x40)
		in->rex = in->b[in->pos++];
}

static int pvm_disp(struct pvm_insn *in, unsigned size, int64_t *out)
{
	int32_t d32;

	if (in->pos + size > in->n)
		return -EINVAL;
	if (size == 1)
		*out = (int8_t)in->b[in->pos];
	else {
		memcpy(&d32, in->b + in->pos, 4);
		*out = d32;
	}
	in->pos += size;
	return 0;
}

/* Decodes ModRM (+SIB, displacement). For a memory operand *lin gets the
 * linear address; the caller adds the instruction length for RIP-relative
 * forms through *riprel. */
static int pvm_modrm(struct pvm_insn *in, struct kvm_regs *r, const struct kvm_sregs *s,
		     unsigned *reg, unsigned *mod, unsigned *rm, uint64_t *lin, bool *riprel)
{
	int m = pvm_byte(in);
	int64_t disp = 0;
	uint64_t ea = 0;

	if (m < 0)
		return -EINVAL;
	*mod = (unsigned)m >> 6;
	*reg = (((unsigned)m >> 3) & 7) | ((in->rex & 4) ? 8 : 0);
	*rm = ((unsigned)m & 7) | ((in->rex & 1) ? 8 : 0);
	*riprel = false;
	if (*mod == 3)
		return 0;
	if ((m & 7) == 4) {
		int sib = pvm_byte(in);
		unsigned base, index;

		if (sib < 0)
			return -EINVAL;
		base = ((unsigned)sib & 7) | ((in->rex & 1) ? 8 : 0);
		index = (((unsigned)sib >> 3) & 7) | ((in->rex & 2) ? 8 : 0);
		if (index != 4)
			ea += *pvm_gpr(r, index) << ((unsigned)sib >> 6);
		if ((sib & 7) == 5 && *mod == 0) {
			if (pvm_disp(in, 4, &disp))
				return -EINVAL;
		} else {
			ea += *pvm_gpr(r, base);
		}
	} else if ((m & 7) == 5 && *mod == 0) {
		if (pvm_disp(in, 4, &disp))
			return -EINVAL;
		*riprel = true;
	} else {
		ea += *pvm_gpr(r, *rm);
	}
	if (*mod == 1 && pvm_disp(in, 1, &disp))
		return -EINVAL;
	if (*mod == 2 && pvm_disp(in, 4, &disp))
		return -EINVAL;
	ea += (uint64_t)disp;
	if (in->seg == 4)
		ea += s->fs.base;
	else if (in->seg == 5)
		ea += s->gs.base;
	*lin = ea;
	return 0;
}

static int pvm_mem(struct vcpu *v, uint64_t lin, void *buf, unsigned len, bool write)
{
	uint8_t *p = vcpu_linear_ptr(v, lin, len, write);

	/* Operands that straddle a page are not worth a slow path here. */
	if (!p || ((lin & 4095) + len) > 4096)
		return -EFAULT;
	if (write)
		memcpy(p, buf, len);
	else
		memcpy(buf, p, len);
	return 0;
}

static int pvm_popcnt(struct vcpu *v, struct pvm_insn *in, struct kvm_regs *r,
		      const struct kvm_sregs *s)
{
	unsigned reg, mod, rm, size = (in->rex & 8) ? 8 : in->p66 ? 2 : 4;
	uint64_t lin, src = 0;
	__u64 *dst;
	bool riprel;

	if (pvm_modrm(in, r, s, &reg, &mod, &rm, &lin, &riprel))
		return -EINVAL;
	if (mod == 3)
		src = *pvm_gpr(r, rm);
	else if (pvm_mem(v, lin + (riprel ? r->rip + in->pos : 0), &src, size, false))
		return -EFAULT;
	if (size < 8)
		src &= (1ULL << (size * 8)) - 1;
	dst = pvm_gpr(r, reg);
	if (size == 2)
		*dst = (*dst & ~0xffffULL) | (uint64_t)__builtin_popcountll(src);
	else
		*dst = (uint64_t)__builtin_popcountll(src); /* 32-bit writes zero-extend */
	r->rflags &= ~(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF);
	if (!src)
		r->rflags |= RFLAGS_ZF;
	return 0;
}

static int pvm_mxcsr(struct vcpu *v, struct pvm_insn *in, struct kvm_regs *r,
		     const struct kvm_sregs *s, bool store)
{
	unsigned reg, mod, rm;
	uint64_t lin;
	bool riprel;
	struct kvm_fpu fpu;
	uint32_t val;

	if (pvm_modrm(in, r, s, &reg, &mod, &rm, &lin, &riprel) || mod == 3)
		return -EINVAL;
	if (riprel)
		lin += r->rip + in->pos;
	if (ioctl(v->fd, KVM_GET_FPU, &fpu) < 0)
		return -errno;
	if (store) {
		val = fpu.mxcsr;
		return pvm_mem(v, lin, &val, 4, true);
	}
	if (pvm_mem(v, lin, &val, 4, false))
		return -EFAULT;
	fpu.mxcsr = val;
	return ioctl(v->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

static int pvm_inject_bp(struct vcpu *v)
{
	struct kvm_vcpu_events ev;

	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	ev.exception.injected = 1;
	ev.exception.nr = 3;
	ev.exception.has_error_code = 0;
	ev.exception.pending = 0;
	ev.flags = 0;
	return ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0 ? -errno : 0;
}

/* Decodes and executes one instruction; returns its kind or -errno. */
static int pvm_execute(struct vcpu *v, struct pvm_insn *in, struct kvm_regs *r,
		       const struct kvm_sregs *s)
{
	int op, op2, modrm;

	pvm_prefixes(in);
	op = pvm_byte(in);
	if (op == 0xcc)
		return PVM_INT3;
	if (op == 0x9b)
		return PVM_FWAIT;
	if (op != 0x0f)
		return -ENOTSUP;
	op2 = pvm_byte(in);
	if (op2 == 0x01) {
		modrm = pvm_byte(in);
		if (modrm == 0xca || modrm == 0xcb) {
			if (modrm == 0xca)
				r->rflags &= ~RFLAGS_AC;
			else
				r->rflags |= RFLAGS_AC;
			return modrm == 0xca ? PVM_CLAC : PVM_STAC;
		}
		return -ENOTSUP;
	}
	if (op2 == 0xb8 && in->pf3)
		return pvm_popcnt(v, in, r, s) ? -EFAULT : PVM_POPCNT;
	if (op2 == 0xae && in->pos < in->n && ((in->b[in->pos] >> 3) & 7) == 2)
		return pvm_mxcsr(v, in, r, s, false) ? -EFAULT : PVM_LDMXCSR;
	if (op2 == 0xae && in->pos < in->n && ((in->b[in->pos] >> 3) & 7) == 3)
		return pvm_mxcsr(v, in, r, s, true) ? -EFAULT : PVM_STMXCSR;
	return -ENOTSUP;
}

int pvm_emulate(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	uint8_t code[15];
	struct pvm_insn in = { .b = code, .seg = -1 };
	int kind;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	/* Only 64-bit code is decoded; anything else is reported. */
	if (!s.cs.l)
		return -ENOTSUP;
	in.n = (unsigned)vcpu_fetch_insn(v, &r, &s, code, sizeof(code));
	kind = pvm_execute(v, &in, &r, &s);
	if (kind < 0)
		return kind;
	r.rip += in.pos;
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	/* #BP is a trap: it is delivered with RIP after the int3. */
	if (kind == PVM_INT3 && pvm_inject_bp(v))
		return -EIO;
	v->emul_counts[kind]++;
	return 0;
}
