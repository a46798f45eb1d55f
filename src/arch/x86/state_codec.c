// SPDX-License-Identifier: MIT
/*
 * The encoded form of the x86 KVM state (layout in state.h): every field
 * written explicitly, little-endian, in a fixed order, so the bytes do not
 * depend on the host's struct layout or padding.  Raw byte blocks are used
 * only for what is architecturally defined as bytes: the LAPIC register page
 * and the XSAVE area (Intel SDM formats).
 *
 * The writer and the reader below are deliberately tiny and local (the
 * snapshot container may swap in its own later).  Both are "sticky": after
 * the first failure every call is a no-op, so a serializer is a straight list
 * of fields and the error is checked once at the end.  The reader records
 * the first failure with the field's name and offset.
 */
#include "arch/x86/state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"

#define VCPU_MAGIC	0x4356586bu	/* "kXVC" */
#define VM_MAGIC	0x4d56586bu	/* "kXVM" */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
	bool count_only;	/* only measure: how long the encoding is */
};

static void w_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (w->err)
		return;
	if (w->count_only) {
		w->len += n;
		return;
	}
	if (n > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 4096;
		uint8_t *p;

		while (cap - w->len < n)
			cap *= 2;
		p = realloc(w->p, cap);
		if (!p) {
			w->err = -ENOMEM;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void w_le(struct wbuf *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	le_put(b, v, n);
	w_bytes(w, b, n);
}

#define w_u8(w, v)	w_le(w, (uint8_t)(v), 1)
#define w_u16(w, v)	w_le(w, (uint16_t)(v), 2)
#define w_u32(w, v)	w_le(w, (uint32_t)(v), 4)
#define w_u64(w, v)	w_le(w, (uint64_t)(v), 8)

static int w_finish(struct wbuf *w, const char *what, uint8_t **buf, size_t *len)
{
	if (w->err) {
		free(w->p);
		return err_set(w->err, "out of memory encoding the %s state", what);
	}
	*buf = w->p;
	*len = w->len;
	return 0;
}

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	const char *what;	/* "vCPU" or "VM" */
	int err;
};

/* Consume @n bytes for @field; NULL (and the message) when they are not there. */
static const uint8_t *r_take(struct rbuf *r, size_t n, const char *field)
{
	const uint8_t *p;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		r->err = err_set(-EINVAL, "%s state truncated: %s at offset %zu needs %zu "
				 "bytes, %zu left", r->what, field, r->off, n, r->len - r->off);
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t r_le(struct rbuf *r, size_t n, const char *field)
{
	const uint8_t *p = r_take(r, n, field);

	return p ? le_get(p, n) : 0;
}

#define r_u8(r, f)	((uint8_t)r_le(r, 1, f))
#define r_u16(r, f)	((uint16_t)r_le(r, 2, f))
#define r_u32(r, f)	((uint32_t)r_le(r, 4, f))
#define r_u64(r, f)	r_le(r, 8, f)

static void r_bytes(struct rbuf *r, void *dst, size_t n, const char *field)
{
	const uint8_t *p = r_take(r, n, field);

	if (p)
		memcpy(dst, p, n);
}

/* Record a semantic error (a count out of range...) unless one is recorded. */
#define r_fail(r, ...)                                                       \
	do {                                                                  \
		if (!(r)->err)                                                \
			(r)->err = err_set(-EINVAL, __VA_ARGS__);             \
	} while (0)

static int r_finish(struct rbuf *r)
{
	if (!r->err && r->off != r->len)
		r_fail(r, "%s state has %zu trailing bytes after offset %zu",
		       r->what, r->len - r->off, r->off);
	return r->err;
}

/* The header both kinds start with; refuses a wrong magic or version. */
static uint16_t r_header(struct rbuf *r, uint32_t magic, uint16_t known_flags)
{
	uint32_t m = r_u32(r, "magic");
	uint16_t version = r_u16(r, "layout version");
	uint16_t flags = r_u16(r, "flags");

	if (!r->err && m != magic)
		r_fail(r, "not an encoded %s state (magic 0x%08x, expected 0x%08x)",
		       r->what, m, magic);
	else if (!r->err && version != X86_STATE_VERSION)
		r_fail(r, "%s state has layout version %u, this kite reads version %u",
		       r->what, version, X86_STATE_VERSION);
	else if (!r->err && (flags & ~known_flags))
		r_fail(r, "%s state has unknown flags 0x%x", r->what, flags & ~known_flags);
	return flags;
}

static void w_segment(struct wbuf *w, const struct kvm_segment *s)
{
	w_u64(w, s->base);
	w_u32(w, s->limit);
	w_u16(w, s->selector);
	w_u8(w, s->type);
	w_u8(w, s->present);
	w_u8(w, s->dpl);
	w_u8(w, s->db);
	w_u8(w, s->s);
	w_u8(w, s->l);
	w_u8(w, s->g);
	w_u8(w, s->avl);
	w_u8(w, s->unusable);
}

static void r_segment(struct rbuf *r, struct kvm_segment *s)
{
	s->base = r_u64(r, "segment base");
	s->limit = r_u32(r, "segment limit");
	s->selector = r_u16(r, "segment selector");
	s->type = r_u8(r, "segment type");
	s->present = r_u8(r, "segment present");
	s->dpl = r_u8(r, "segment dpl");
	s->db = r_u8(r, "segment db");
	s->s = r_u8(r, "segment s");
	s->l = r_u8(r, "segment l");
	s->g = r_u8(r, "segment g");
	s->avl = r_u8(r, "segment avl");
	s->unusable = r_u8(r, "segment unusable");
}

/* The 18 registers of struct kvm_regs, in its order. */
#define REGS_LIST(X) X(rax) X(rbx) X(rcx) X(rdx) X(rsi) X(rdi) X(rsp) X(rbp) \
	X(r8) X(r9) X(r10) X(r11) X(r12) X(r13) X(r14) X(r15) X(rip) X(rflags)

static void w_regs(struct wbuf *w, const struct kvm_regs *g)
{
#define W_REG(f) w_u64(w, g->f);
	REGS_LIST(W_REG)
#undef W_REG
}

static void r_regs(struct rbuf *r, struct kvm_regs *g)
{
#define R_REG(f) g->f = r_u64(r, #f);
	REGS_LIST(R_REG)
#undef R_REG
}

/* Segments, then descriptor tables, control registers, PDPTRs. */
#define SEGS_LIST(X) X(cs) X(ds) X(es) X(fs) X(gs) X(ss) X(tr) X(ldt)
#define SREGS_U64_LIST(X) X(cr0) X(cr2) X(cr3) X(cr4) X(cr8) X(efer) X(apic_base) \
	X(flags) X(pdptrs[0]) X(pdptrs[1]) X(pdptrs[2]) X(pdptrs[3])

static void w_sregs(struct wbuf *w, const struct kvm_sregs2 *s)
{
#define W_SEG(f) w_segment(w, &s->f);
#define W_U64(f) w_u64(w, s->f);
	SEGS_LIST(W_SEG)
	w_u64(w, s->gdt.base);
	w_u16(w, s->gdt.limit);
	w_u64(w, s->idt.base);
	w_u16(w, s->idt.limit);
	SREGS_U64_LIST(W_U64)
#undef W_SEG
#undef W_U64
}

static void r_sregs(struct rbuf *r, struct kvm_sregs2 *s)
{
#define R_SEG(f) r_segment(r, &s->f);
#define R_U64(f) s->f = r_u64(r, #f);
	SEGS_LIST(R_SEG)
	s->gdt.base = r_u64(r, "gdt base");
	s->gdt.limit = r_u16(r, "gdt limit");
	s->idt.base = r_u64(r, "idt base");
	s->idt.limit = r_u16(r, "idt limit");
	SREGS_U64_LIST(R_U64)
#undef R_SEG
#undef R_U64
}

static void w_fpu(struct wbuf *w, const struct kvm_fpu *f)
{
	w_bytes(w, f->fpr, sizeof(f->fpr));
	w_u16(w, f->fcw);
	w_u16(w, f->fsw);
	w_u8(w, f->ftwx);
	w_u16(w, f->last_opcode);
	w_u64(w, f->last_ip);
	w_u64(w, f->last_dp);
	w_bytes(w, f->xmm, sizeof(f->xmm));
	w_u32(w, f->mxcsr);
}

static void r_fpu(struct rbuf *r, struct kvm_fpu *f)
{
	r_bytes(r, f->fpr, sizeof(f->fpr), "x87 registers");
	f->fcw = r_u16(r, "fcw");
	f->fsw = r_u16(r, "fsw");
	f->ftwx = r_u8(r, "ftwx");
	f->last_opcode = r_u16(r, "fop");
	f->last_ip = r_u64(r, "fip");
	f->last_dp = r_u64(r, "fdp");
	r_bytes(r, f->xmm, sizeof(f->xmm), "xmm registers");
	f->mxcsr = r_u32(r, "mxcsr");
}

static void w_events(struct wbuf *w, const struct kvm_vcpu_events *e)
{
	w_u8(w, e->exception.injected);
	w_u8(w, e->exception.nr);
	w_u8(w, e->exception.has_error_code);
	w_u8(w, e->exception.pending);
	w_u32(w, e->exception.error_code);
	w_u8(w, e->interrupt.injected);
	w_u8(w, e->interrupt.nr);
	w_u8(w, e->interrupt.soft);
	w_u8(w, e->interrupt.shadow);
	w_u8(w, e->nmi.injected);
	w_u8(w, e->nmi.pending);
	w_u8(w, e->nmi.masked);
	w_u32(w, e->sipi_vector);
	w_u32(w, e->flags);
	w_u8(w, e->smi.smm);
	w_u8(w, e->smi.pending);
	w_u8(w, e->smi.smm_inside_nmi);
	w_u8(w, e->smi.latched_init);
	w_u8(w, e->triple_fault.pending);
	w_u8(w, e->exception_has_payload);
	w_u64(w, e->exception_payload);
}

static void r_events(struct rbuf *r, struct kvm_vcpu_events *e)
{
	e->exception.injected = r_u8(r, "exception.injected");
	e->exception.nr = r_u8(r, "exception.nr");
	e->exception.has_error_code = r_u8(r, "exception.has_error_code");
	e->exception.pending = r_u8(r, "exception.pending");
	e->exception.error_code = r_u32(r, "exception.error_code");
	e->interrupt.injected = r_u8(r, "interrupt.injected");
	e->interrupt.nr = r_u8(r, "interrupt.nr");
	e->interrupt.soft = r_u8(r, "interrupt.soft");
	e->interrupt.shadow = r_u8(r, "interrupt.shadow");
	e->nmi.injected = r_u8(r, "nmi.injected");
	e->nmi.pending = r_u8(r, "nmi.pending");
	e->nmi.masked = r_u8(r, "nmi.masked");
	e->sipi_vector = r_u32(r, "sipi_vector");
	e->flags = r_u32(r, "events flags");
	e->smi.smm = r_u8(r, "smi.smm");
	e->smi.pending = r_u8(r, "smi.pending");
	e->smi.smm_inside_nmi = r_u8(r, "smi.smm_inside_nmi");
	e->smi.latched_init = r_u8(r, "smi.latched_init");
	e->triple_fault.pending = r_u8(r, "triple_fault.pending");
	e->exception_has_payload = r_u8(r, "exception_has_payload");
	e->exception_payload = r_u64(r, "exception_payload");
}

static void w_debugregs(struct wbuf *w, const struct kvm_debugregs *d)
{
	for (int i = 0; i < 4; i++)
		w_u64(w, d->db[i]);
	w_u64(w, d->dr6);
	w_u64(w, d->dr7);
	w_u64(w, d->flags);
}

static void r_debugregs(struct rbuf *r, struct kvm_debugregs *d)
{
	for (int i = 0; i < 4; i++)
		d->db[i] = r_u64(r, "dr0-3");
	d->dr6 = r_u64(r, "dr6");
	d->dr7 = r_u64(r, "dr7");
	d->flags = r_u64(r, "debugregs flags");
}

static int vcpu_state_check(const struct x86_vcpu_state *s)
{
	bool xsave = s->flags & X86_VCPU_STATE_XSAVE;

	if (s->flags & ~X86_VCPU_STATE_XSAVE)
		return err_set(-EINVAL, "vCPU state has unknown flags 0x%x", s->flags);
	if (s->nr_msrs > X86_STATE_MAX_MSRS || s->xcrs.nr_xcrs > KVM_MAX_XCRS)
		return err_set(-EINVAL, "vCPU state has %u MSRs (max %u) and %u XCRs (max %u)",
			       s->nr_msrs, X86_STATE_MAX_MSRS, s->xcrs.nr_xcrs, KVM_MAX_XCRS);
	if (xsave && (s->xsave_size < X86_XSAVE_MIN || s->xsave_size > X86_XSAVE_MAX))
		return err_set(-EINVAL, "vCPU state has a %u-byte XSAVE area (%u to %u)",
			       s->xsave_size, X86_XSAVE_MIN, X86_XSAVE_MAX);
	if (!xsave && s->xsave_size)
		return err_set(-EINVAL, "vCPU state has an XSAVE size without an XSAVE area");
	return 0;
}

/* The whole encoding; @s passed vcpu_state_check(). */
static void w_vcpu(struct wbuf *w, const struct x86_vcpu_state *s)
{
	uint32_t i;

	w_u32(w, VCPU_MAGIC);
	w_u16(w, X86_STATE_VERSION);
	w_u16(w, s->flags);
	w_u32(w, s->xsave_size);
	w_u32(w, s->xcrs.nr_xcrs);
	w_u32(w, s->nr_msrs);
	w_u32(w, s->tsc_khz);
	w_regs(w, &s->regs);
	w_sregs(w, &s->sregs);
	if (s->flags & X86_VCPU_STATE_XSAVE)
		w_bytes(w, s->xsave, s->xsave_size);
	else
		w_fpu(w, &s->fpu);
	for (i = 0; i < s->xcrs.nr_xcrs; i++) {
		w_u32(w, s->xcrs.xcrs[i].xcr);
		w_u64(w, s->xcrs.xcrs[i].value);
	}
	w_u32(w, s->xcrs.flags);
	for (i = 0; i < s->nr_msrs; i++) {
		w_u32(w, s->msrs[i].index);
		w_u64(w, s->msrs[i].data);
	}
	w_bytes(w, s->lapic.regs, sizeof(s->lapic.regs));
	w_events(w, &s->events);
	w_u32(w, s->mp_state.mp_state);
	w_debugregs(w, &s->debugregs);
}

int x86_vcpu_state_encode(const struct x86_vcpu_state *s, uint8_t **buf, size_t *len)
{
	struct wbuf w = { 0 };
	int ret = vcpu_state_check(s);

	if (ret)
		return ret;
	w_vcpu(&w, s);
	return w_finish(&w, "vCPU", buf, len);
}

/* Header fields after magic/version/flags: every size, checked up front. */
static void r_vcpu_sizes(struct rbuf *r, struct x86_vcpu_state *s)
{
	bool xsave = s->flags & X86_VCPU_STATE_XSAVE;

	s->xsave_size = r_u32(r, "xsave_size");
	s->xcrs.nr_xcrs = r_u32(r, "nr_xcrs");
	s->nr_msrs = r_u32(r, "nr_msrs");
	s->tsc_khz = r_u32(r, "tsc_khz");
	if (xsave && (s->xsave_size < X86_XSAVE_MIN || s->xsave_size > X86_XSAVE_MAX))
		r_fail(r, "vCPU state: XSAVE area of %u bytes at offset 8, expected %u to %u",
		       s->xsave_size, X86_XSAVE_MIN, X86_XSAVE_MAX);
	else if (!xsave && s->xsave_size)
		r_fail(r, "vCPU state: XSAVE size %u at offset 8 but no XSAVE area (flags)",
		       s->xsave_size);
	else if (s->xcrs.nr_xcrs > KVM_MAX_XCRS)
		r_fail(r, "vCPU state: %u XCRs at offset 12, at most %u", s->xcrs.nr_xcrs,
		       KVM_MAX_XCRS);
	else if (s->nr_msrs > X86_STATE_MAX_MSRS)
		r_fail(r, "vCPU state: %u MSRs at offset 16, at most %u", s->nr_msrs,
		       X86_STATE_MAX_MSRS);
}

/*
 * The header fixes the length: measure the encoding it describes (by the
 * writer itself, so the two cannot disagree) before reading on.  Every
 * truncated or padded buffer past the header fails here, naming both lengths.
 */
static int vcpu_len_check(const struct x86_vcpu_state *sizes, size_t len)
{
	struct wbuf m = { .count_only = true };

	w_vcpu(&m, sizes);
	if (m.len != len)
		return err_set(-EINVAL, "vCPU state is %zu bytes, its header (%u MSRs, %u XCRs, "
			       "%u-byte XSAVE area) describes %zu", len, sizes->nr_msrs,
			       sizes->xcrs.nr_xcrs, sizes->xsave_size, m.len);
	return 0;
}

int x86_vcpu_state_decode(const uint8_t *buf, size_t len, struct x86_vcpu_state *s)
{
	struct rbuf r = { .p = buf, .len = len, .what = "vCPU" };
	uint32_t i;

	memset(s, 0, sizeof(*s));
	s->flags = r_header(&r, VCPU_MAGIC, X86_VCPU_STATE_XSAVE);
	r_vcpu_sizes(&r, s);
	if (r.err)	/* the sizes below must not be used unchecked */
		return r.err;
	if (vcpu_len_check(s, len))
		return -EINVAL;
	r_regs(&r, &s->regs);
	r_sregs(&r, &s->sregs);
	if (s->flags & X86_VCPU_STATE_XSAVE)
		r_bytes(&r, s->xsave, s->xsave_size, "XSAVE area");
	else
		r_fpu(&r, &s->fpu);
	for (i = 0; i < s->xcrs.nr_xcrs; i++) {
		s->xcrs.xcrs[i].xcr = r_u32(&r, "XCR index");
		s->xcrs.xcrs[i].value = r_u64(&r, "XCR value");
	}
	s->xcrs.flags = r_u32(&r, "XCR flags");
	for (i = 0; i < s->nr_msrs; i++) {
		s->msrs[i].index = r_u32(&r, "MSR index");
		s->msrs[i].data = r_u64(&r, "MSR value");
	}
	r_bytes(&r, s->lapic.regs, sizeof(s->lapic.regs), "LAPIC page");
	r_events(&r, &s->events);
	s->mp_state.mp_state = r_u32(&r, "MP state");
	r_debugregs(&r, &s->debugregs);
	return r_finish(&r);
}

/* The 16 one-byte fields of struct kvm_pic_state, in its order. */
#define PIC_LIST(X) X(last_irr) X(irr) X(imr) X(isr) X(priority_add) X(irq_base) \
	X(read_reg_select) X(poll) X(special_mask) X(init_state) X(auto_eoi)         \
	X(rotate_on_auto_eoi) X(special_fully_nested_mode) X(init4) X(elcr) X(elcr_mask)
/* struct kvm_pit_channel_state's one-byte fields after latched_count. */
#define PIT_U8_LIST(X) X(count_latched) X(status_latched) X(status) X(read_state) \
	X(write_state) X(write_latch) X(rw_mode) X(mode) X(bcd) X(gate)

static void w_vm_body(struct wbuf *w, const struct x86_vm_state *s)
{
#define W_U8(f) w_u8(w, c->f);
	for (int i = 0; i < 2; i++) {
		const struct kvm_pic_state *c = &s->pic[i];

		PIC_LIST(W_U8)
	}
	w_u64(w, s->ioapic.base_address);
	w_u32(w, s->ioapic.ioregsel);
	w_u32(w, s->ioapic.id);
	w_u32(w, s->ioapic.irr);
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		w_u64(w, s->ioapic.redirtbl[i].bits);
	for (int i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *c = &s->pit.channels[i];

		w_u32(w, c->count);
		w_u16(w, c->latched_count);
		PIT_U8_LIST(W_U8)
		w_u64(w, (uint64_t)c->count_load_time);
	}
	w_u32(w, s->pit.flags);
	w_u64(w, s->clock.clock);
	w_u32(w, s->clock.flags);
	w_u64(w, s->clock.realtime);
	w_u64(w, s->clock.host_tsc);
#undef W_U8
}

int x86_vm_state_encode(const struct x86_vm_state *s, uint8_t **buf, size_t *len)
{
	const uint32_t known = X86_VM_STATE_IRQCHIP | X86_VM_STATE_PIT | X86_VM_STATE_CLOCK;
	struct wbuf w = { 0 };

	if (s->flags & ~known)
		return err_set(-EINVAL, "VM state has unknown flags 0x%x", s->flags & ~known);
	w_u32(&w, VM_MAGIC);
	w_u16(&w, X86_STATE_VERSION);
	w_u16(&w, s->flags);
	w_vm_body(&w, s);
	return w_finish(&w, "VM", buf, len);
}

int x86_vm_state_decode(const uint8_t *buf, size_t len, struct x86_vm_state *s)
{
	const uint16_t known = X86_VM_STATE_IRQCHIP | X86_VM_STATE_PIT | X86_VM_STATE_CLOCK;
	struct rbuf r = { .p = buf, .len = len, .what = "VM" };

	memset(s, 0, sizeof(*s));
	s->flags = r_header(&r, VM_MAGIC, known);
#define R_U8(f) c->f = r_u8(&r, #f);
	for (int i = 0; i < 2; i++) {
		struct kvm_pic_state *c = &s->pic[i];

		PIC_LIST(R_U8)
	}
	s->ioapic.base_address = r_u64(&r, "IOAPIC base");
	s->ioapic.ioregsel = r_u32(&r, "IOAPIC ioregsel");
	s->ioapic.id = r_u32(&r, "IOAPIC id");
	s->ioapic.irr = r_u32(&r, "IOAPIC irr");
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		s->ioapic.redirtbl[i].bits = r_u64(&r, "IOAPIC redirection entry");
	for (int i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &s->pit.channels[i];

		c->count = r_u32(&r, "PIT count");
		c->latched_count = r_u16(&r, "PIT latched_count");
		PIT_U8_LIST(R_U8)
		c->count_load_time = (int64_t)r_u64(&r, "PIT count_load_time");
	}
#undef R_U8
	s->pit.flags = r_u32(&r, "PIT flags");
	s->clock.clock = r_u64(&r, "clock");
	s->clock.flags = r_u32(&r, "clock flags");
	s->clock.realtime = r_u64(&r, "clock realtime");
	s->clock.host_tsc = r_u64(&r, "clock host_tsc");
	return r_finish(&r);
}
