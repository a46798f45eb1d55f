// SPDX-License-Identifier: MIT
/*
 * The DSDT's AML, decoded the way an interpreter reads it: every term of
 * every scope, device and method body must parse and end exactly at its
 * package length, and the objects the guest evaluates (\_S5, \_SB.VGEN,
 * \_SB.GED0) must have the names, types and values kite means.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "arch/x86/platform/platform.h"
#include "guest_ram.h"
#include "harness.h"

#define MAX_OBJS	64
#define MAX_ELEMS	8

enum obj_kind { OBJ_INT, OBJ_STRING, OBJ_BUFFER, OBJ_PACKAGE, OBJ_METHOD, OBJ_DEVICE };

/* One named object: "\_SB_.VGEN.ADDR". */
struct obj {
	char path[64];
	enum obj_kind kind;
	uint64_t ival;				/* OBJ_INT */
	const uint8_t *data;			/* string, buffer bytes, method body */
	uint32_t len;
	unsigned int nelem;			/* OBJ_PACKAGE */
	uint64_t elem[MAX_ELEMS];		/* integer elements (others: ~0) */
	uint8_t method_flags;
};

struct aml_dec {
	const uint8_t *p, *end;
	bool err;
	struct obj objs[MAX_OBJS];
	unsigned int nobjs;
};

static uint8_t next(struct aml_dec *d)
{
	if (d->p >= d->end) {
		d->err = true;
		return 0;
	}
	return *d->p++;
}

/* PkgLength (ACPI 6.3, 20.2.4); returns where the package ends. */
static const uint8_t *pkg_end(struct aml_dec *d)
{
	const uint8_t *start = d->p;
	uint8_t lead = next(d);
	uint32_t len = lead & 0x3f, n = lead >> 6, i;

	if (n)
		len = lead & 0x0f;
	for (i = 0; i < n; i++)
		len |= (uint32_t)next(d) << (4 + 8 * i);
	if (d->err || len > (uint32_t)(d->end - start)) {
		d->err = true;
		return d->end;
	}
	return start + len;
}

static bool lead_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

/* NameString into "\X.Y" form, appended to @scope for relative names. */
static void name_string(struct aml_dec *d, const char *scope, char *out, size_t size)
{
	unsigned int segs = 1, i;
	size_t n = 0;

	if (d->p < d->end && *d->p == '\\') {
		d->p++;
		n = (size_t)snprintf(out, size, "\\");
	} else {
		n = (size_t)snprintf(out, size, "%s", scope);
	}
	if (d->p < d->end && *d->p == 0x2e) {
		d->p++;
		segs = 2;
	} else if (d->p < d->end && *d->p == 0x2f) {
		d->p++;
		segs = next(d);
	}
	for (i = 0; i < segs && !d->err; i++) {
		if (d->end - d->p < 4 || !lead_char(d->p[0])) {
			d->err = true;
			return;
		}
		n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%.4s",
				      out[n - 1] == '\\' ? "" : ".", (const char *)d->p);
		d->p += 4;
	}
}

/* An integer constant; false (nothing consumed) if the next term is none. */
static bool integer(struct aml_dec *d, uint64_t *v)
{
	static const unsigned int size[16] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8 };
	uint8_t op = d->p < d->end ? *d->p : 0xfe;
	unsigned int i;

	if (op == 0x00 || op == 0x01 || op == 0xff) {
		d->p++;
		*v = op == 0xff ? ~0ull : op;
		return true;
	}
	if (op > 0x0e || !size[op])
		return false;
	d->p++;
	for (*v = 0, i = 0; i < size[op]; i++)
		*v |= (uint64_t)next(d) << (8 * i);
	return true;
}

static void data_object(struct aml_dec *d, struct obj *o);

static void package(struct aml_dec *d, struct obj *o)
{
	const uint8_t *end = pkg_end(d);
	unsigned int i;

	o->kind = OBJ_PACKAGE;
	o->nelem = next(d);
	for (i = 0; i < o->nelem && !d->err; i++) {
		struct obj e = { .kind = OBJ_INT };

		data_object(d, &e);
		if (i < MAX_ELEMS)
			o->elem[i] = e.kind == OBJ_INT ? e.ival : ~0ull;
	}
	if (d->p != end)
		d->err = true;
}

static void data_object(struct aml_dec *d, struct obj *o)
{
	const uint8_t *end;
	uint64_t size;

	if (integer(d, &o->ival)) {
		o->kind = OBJ_INT;
		return;
	}
	switch (next(d)) {
	case 0x0d:					/* String */
		o->kind = OBJ_STRING;
		o->data = d->p;
		while (next(d) && !d->err)
			;
		o->len = (uint32_t)(d->p - o->data - 1);
		return;
	case 0x11:					/* Buffer */
		end = pkg_end(d);
		o->kind = OBJ_BUFFER;
		if (!integer(d, &size) || size != (uint64_t)(end - d->p))
			d->err = true;
		o->data = d->p;
		o->len = (uint32_t)(end - d->p);
		d->p = end;
		return;
	case 0x12:
		package(d, o);
		return;
	default:
		d->err = true;
	}
}

static struct obj *add_obj(struct aml_dec *d, const char *path, enum obj_kind kind)
{
	struct obj *o;

	if (d->nobjs == MAX_OBJS) {
		d->err = true;
		return &d->objs[0];
	}
	o = &d->objs[d->nobjs++];
	memset(o, 0, sizeof(*o));
	snprintf(o->path, sizeof(o->path), "%s", path);
	o->kind = kind;
	return o;
}

/* A TermList of Name, Scope, Device and Method terms, up to @end. */
static void term_list(struct aml_dec *d, const char *scope, const uint8_t *end)
{
	char path[64];

	while (d->p < end && !d->err) {
		uint8_t op = next(d);
		const uint8_t *pend = NULL;
		struct obj *o;

		if (op == 0x08) {				/* Name */
			name_string(d, scope, path, sizeof(path));
			data_object(d, add_obj(d, path, OBJ_INT));
			continue;
		}
		if (op == 0x5b && next(d) == 0x82) {		/* Device */
			pend = pkg_end(d);
			name_string(d, scope, path, sizeof(path));
			add_obj(d, path, OBJ_DEVICE);
		} else if (op == 0x10 || op == 0x14) {		/* Scope, Method */
			pend = pkg_end(d);
			name_string(d, scope, path, sizeof(path));
		} else {
			d->err = true;
			return;
		}
		if (op == 0x14) {
			o = add_obj(d, path, OBJ_METHOD);
			o->method_flags = next(d);
			o->data = d->p;
			o->len = (uint32_t)(pend - d->p);
			d->p = pend;
			continue;
		}
		term_list(d, path, pend);
		if (d->p != pend)
			d->err = true;
	}
}

static const struct obj *find(const struct aml_dec *d, const char *path)
{
	for (unsigned int i = 0; i < d->nobjs; i++)
		if (!strcmp(d->objs[i].path, path))
			return &d->objs[i];
	return NULL;
}

static bool is_string(const struct obj *o, const char *s)
{
	return o && o->kind == OBJ_STRING && o->len == strlen(s) && !memcmp(o->data, s, o->len);
}

/* Write the tables for @cfg and decode the DSDT into @d; *@dsdt: a copy of
 * its bytes that stays valid until the next call (NULL on failure). */
static void decode_dsdt(const struct x86_acpi_config *cfg, struct aml_dec *d,
			const uint8_t **dsdt)
{
	static uint8_t copy[GUEST_RAM_SIZE];
	const uint8_t *rsdp, *xsdt, *fadt, *t;
	struct guest_ram g;
	uint32_t len = 0;
	int ret;

	memset(d, 0, sizeof(*d));
	*dsdt = NULL;
	guest_ram_init(&g, GUEST_RAM_SIZE);
	ret = x86_acpi_write(&g.as, cfg, NULL);
	rsdp = g.mem + X86_ACPI_START;
	xsdt = g.mem + rd64(rsdp + 24) % GUEST_RAM_SIZE;
	fadt = g.mem + rd64(xsdt + 36) % GUEST_RAM_SIZE;
	t = g.mem + rd64(fadt + 140) % GUEST_RAM_SIZE;
	if (!ret && !memcmp(t, "DSDT", 4))
		len = rd32(t + 4);
	if (len >= 36 && len <= GUEST_RAM_SIZE - (size_t)(t - g.mem) && !byte_sum(t, len))
		memcpy(copy, t, len);
	else
		len = 0;
	guest_ram_free(&g);
	CHECK_EQ(ret, 0);
	CHECK(len);
	*dsdt = copy;
	d->p = copy + 36;
	d->end = copy + len;
	term_list(d, "\\", d->end);
}

static const struct x86_acpi_config with_vmgenid = {
	.ncpus = 2, .pci = true, .vmgenid_addr = 0x123456780ull, .ged_gsi = 3,
};

static void dsdt_decodes_whole_in_every_configuration(void)
{
	static const struct x86_acpi_config cfgs[] = {
		{ .ncpus = 1 },
		{ .ncpus = 1, .pci = true },
		{ .ncpus = 4, .vmgenid_addr = X86_VMGENID_ADDR, .ged_gsi = X86_GED_GSI },
		{ .ncpus = 4, .pci = true, .vmgenid_addr = X86_VMGENID_ADDR,
		  .ged_gsi = X86_GED_GSI },
	};

	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		struct aml_dec d;
		const uint8_t *t;
		const struct obj *s5;

		decode_dsdt(&cfgs[i], &d, &t);
		s5 = find(&d, "\\_S5_");
		CHECK(t && !d.err);
		CHECK(s5 && s5->kind == OBJ_PACKAGE && s5->nelem == 2);
		CHECK_EQ(s5->elem[0], X86_PM_SLP_TYP_S5);
		CHECK_EQ(!!find(&d, "\\_SB_.PCI0"), cfgs[i].pci);
		CHECK_EQ(!!find(&d, "\\_SB_.VGEN"), cfgs[i].vmgenid_addr != 0);
		CHECK_EQ(!!find(&d, "\\_SB_.GED0"), cfgs[i].vmgenid_addr != 0);
	}
}

static void vgen_names_the_generation_counter_and_its_address(void)
{
	const struct obj *addr;
	struct aml_dec d;
	const uint8_t *t;

	decode_dsdt(&with_vmgenid, &d, &t);
	CHECK(t && !d.err);
	CHECK(find(&d, "\\_SB_.VGEN") && find(&d, "\\_SB_.VGEN")->kind == OBJ_DEVICE);
	CHECK(is_string(find(&d, "\\_SB_.VGEN._HID"), "KITE0001"));
	/* Linux's vmgenid driver and Windows bind by this _CID (case-folded). */
	CHECK(is_string(find(&d, "\\_SB_.VGEN._CID"), "VM_Gen_Counter"));
	CHECK(is_string(find(&d, "\\_SB_.VGEN._DDN"), "VM_Gen_Counter"));
	addr = find(&d, "\\_SB_.VGEN.ADDR");
	CHECK(addr && addr->kind == OBJ_PACKAGE);
	CHECK_EQ(addr->nelem, 2);
	CHECK_EQ(addr->elem[0], 0x23456780);		/* low 32 bits */
	CHECK_EQ(addr->elem[1], 0x1);			/* high 32 bits */
}

static void ged_has_one_edge_interrupt_and_an_evt_that_notifies_vgen(void)
{
	/* Extended Interrupt: consumer, edge, active high, exclusive; GSI 3; end tag */
	static const uint8_t crs[] = { 0x89, 6, 0, 0x03, 1, 3, 0, 0, 0, 0x79, 0 };
	/* If (LEqual (Arg0, 3)) { Notify (\_SB.VGEN, 0x80) } */
	static const uint8_t evt[] = { 0xa0, 18, 0x93, 0x68, 0x0a, 3, 0x86, '\\', 0x2e,
				       '_', 'S', 'B', '_', 'V', 'G', 'E', 'N', 0x0a, 0x80 };
	const struct obj *o;
	struct aml_dec d;
	const uint8_t *t;

	decode_dsdt(&with_vmgenid, &d, &t);
	CHECK(t && !d.err);
	CHECK(is_string(find(&d, "\\_SB_.GED0._HID"), "ACPI0013"));
	o = find(&d, "\\_SB_.GED0._CRS");
	CHECK(o && o->kind == OBJ_BUFFER);
	CHECK_EQ(o->len, sizeof(crs));
	CHECK(!memcmp(o->data, crs, sizeof(crs)));
	o = find(&d, "\\_SB_.GED0._EVT");
	CHECK(o && o->kind == OBJ_METHOD);
	CHECK_EQ(o->method_flags, 1);			/* one argument, not serialized */
	CHECK_EQ(o->len, sizeof(evt));
	CHECK(!memcmp(o->data, evt, sizeof(evt)));
}

static void misaligned_vmgenid_address_or_bad_gsi_returns_einval(void)
{
	struct x86_acpi_config odd = with_vmgenid, gsi = with_vmgenid;
	struct guest_ram g;
	int r0, r1;

	odd.vmgenid_addr |= 4;
	gsi.ged_gsi = 256;
	guest_ram_init(&g, GUEST_RAM_SIZE);
	r0 = x86_acpi_write(&g.as, &odd, NULL);
	r1 = x86_acpi_write(&g.as, &gsi, NULL);
	guest_ram_free(&g);
	CHECK_EQ(r0, -EINVAL);
	CHECK_EQ(r1, -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "generation ID");
}

/* Write the DSDT of @cfg to @dir/dsdt.dat and run @script (a shell command
 * in @dir, its output in @dir/log); its exit status, -1 if it did not run. */
static int run_on_dsdt(const struct x86_acpi_config *cfg, const char *script)
{
	char dir[] = "/tmp/kite-dsdt-XXXXXX", cmd[1024], path[64];
	struct aml_dec d;
	const uint8_t *t;
	FILE *f;
	int rc = -1;

	if (!mkdtemp(dir))
		return -1;
	decode_dsdt(cfg, &d, &t);
	snprintf(path, sizeof(path), "%s/dsdt.dat", dir);
	f = t ? fopen(path, "wb") : NULL;
	if (f && fwrite(t, 1, rd32(t + 4), f) == rd32(t + 4) && fclose(f) == 0) {
		snprintf(cmd, sizeof(cmd), "cd %s && (%s) >log 2>&1", dir, script);
		rc = system(cmd);
		if (rc) {
			snprintf(cmd, sizeof(cmd), "sed 's/^/# /' %s/log | tail -n 20", dir);
			if (system(cmd))
				printf("# no log\n");
		}
	} else if (f) {
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return rc;
}

/* iasl -d must disassemble it, show the devices, and compile it again. */
static void dsdt_with_vmgenid_round_trips_through_iasl(void)
{
	static const char script[] =
		"iasl -d dsdt.dat && grep -q VM_Gen_Counter dsdt.dsl && "
		"grep -q 'ACPI0013' dsdt.dsl && grep -qE 'Notify \\(\\\\_SB\\.VGEN, 0x80' dsdt.dsl && "
		"grep -q 'Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive' dsdt.dsl && "
		"iasl -tc dsdt.dsl";
	int rc;

	if (system("command -v iasl >/dev/null 2>&1") != 0)
		SKIP("iasl not installed");
	rc = run_on_dsdt(&with_vmgenid, script);
	CHECK_EQ(rc, 0);
}

/*
 * ACPICA's interpreter (acpiexec, the code Linux runs) loads the table,
 * repairs _CID to the "VM_GEN_COUNTER" Linux's vmgenid driver matches,
 * returns ADDR's two halves, and _EVT(GSI) notifies VGEN with 0x80 while
 * _EVT of another GSI does nothing.
 */
static void acpica_evaluates_addr_and_evt_notifies_vgen(void)
{
	static const char script[] =
		"printf '%s\\n' 'evaluate \\_SB.VGEN._CID' 'evaluate \\_SB.VGEN.ADDR' "
		"'evaluate \\_SB.GED0._EVT 4' 'evaluate \\_SB.GED0._EVT 3' quit | "
		"acpiexec -di dsdt.dat > out 2>&1; cat out; "
		"grep -q '\"VM_GEN_COUNTER\"' out && "
		"grep -q 'Integer. = 0000000023456780' out && "
		"grep -q 'Integer. = 0000000000000001' out && "
		"test $(grep -c 'Device Notify' out) = 1 && "
		"grep -q 'Device Notify on .VGEN. .* Value 0x80' out && "
		"! grep -qiE 'error|exception' out";
	int rc;

	if (system("command -v acpiexec >/dev/null 2>&1") != 0)
		SKIP("acpiexec not installed");
	rc = run_on_dsdt(&with_vmgenid, script);
	CHECK_EQ(rc, 0);
}

int main(void)
{
	RUN(dsdt_decodes_whole_in_every_configuration);
	RUN(vgen_names_the_generation_counter_and_its_address);
	RUN(ged_has_one_edge_interrupt_and_an_evt_that_notifies_vgen);
	RUN(misaligned_vmgenid_address_or_bad_gsi_returns_einval);
	RUN(dsdt_with_vmgenid_round_trips_through_iasl);
	RUN(acpica_evaluates_addr_and_evt_notifies_vgen);
	return harness_done();
}
