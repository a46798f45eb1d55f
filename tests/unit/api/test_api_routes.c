// SPDX-License-Identifier: MIT
/*
 * The control API's routing, JSON parsing and error mapping, without HTTP:
 * api_handle() against a fake VM (through struct api_vm_ops) and a fake
 * device class.  The HTTP side is tested over a real socket in
 * tests/integration/api.sh.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "api/routes.h"
#include "harness.h"

/* ---- a fake VM ---- */

struct vm {
	enum vm_state state;
	int pauses, resumes, shutdowns, cads;
	struct dev_registry reg;
};

static enum vm_state fake_state(struct vm *vm) { return vm->state; }
static const char *fake_state_name(enum vm_state s)
{
	return s == VM_STATE_RUNNING ? "Running" : s == VM_STATE_PAUSED ? "Paused" : "ShuttingDown";
}
static unsigned int fake_nr_vcpus(const struct vm *vm) { (void)vm; return 2; }
static uint64_t fake_mem(const struct vm *vm) { (void)vm; return 256ULL << 20; }
static struct dev_registry *fake_devices(struct vm *vm) { return &vm->reg; }

static int fake_pause(struct vm *vm)
{
	vm->pauses++;
	vm->state = VM_STATE_PAUSED;
	return 0;
}

static int fake_resume(struct vm *vm)
{
	vm->resumes++;
	vm->state = VM_STATE_RUNNING;
	return 0;
}

static void fake_shutdown(struct vm *vm)
{
	vm->shutdowns++;
	vm->state = VM_STATE_SHUTTING_DOWN;
}

static int fake_cad(struct vm *vm)
{
	vm->cads++;
	return 0;
}

static uint64_t fake_exit_count(const struct vm *vm, unsigned int vcpu, unsigned int reason)
{
	(void)vm;
	return reason == 2 ? 10 + vcpu : 0;	/* "io": 10 on vCPU 0, 11 on vCPU 1 */
}

static const char *fake_reason_name(unsigned int reason)
{
	return reason == 2 ? "io" : reason == 29 ? "mmio" : NULL;
}

/* Loading a snapshot into a kite without a VM: the last request, and what to answer. */
static struct vm_boot_request last_load;
static int load_calls, load_err;
static struct vm vm;

static struct vm *fake_boot_request(struct vm_boot *b, const struct vm_boot_request *req,
				    int *err)
{
	(void)b;
	load_calls++;
	last_load = *req;
	*err = load_err;
	if (load_err) {
		err_set(load_err, "fake: cannot load");
		return NULL;
	}
	return &vm;
}

/* Migration: the last parameters, whether one is active, what to answer. */
static struct mig_params last_mig;
static bool mig_active;
static int mig_err, mig_cancels;

static int fake_migrate_start(struct vm *v, const struct mig_params *p)
{
	(void)v;
	if (mig_err)
		return err_set(mig_err, "fake: cannot migrate");
	last_mig = *p;
	mig_active = true;
	return 0;
}

static void fake_migrate_status(struct vm *v, struct mig_status *out)
{
	(void)v;
	memset(out, 0, sizeof(*out));
	out->state = mig_active ? MIG_ACTIVE : MIG_FAILED;
	out->round = 3;
	out->bytes_sent = 1234;
	out->throttle_pct = 20;
	snprintf(out->error, sizeof(out->error), "%s", mig_active ? "" : "boom");
}

static int fake_migrate_cancel(struct vm *v)
{
	(void)v;
	if (!mig_active)
		return err_set(-ENOENT, "no migration is in progress");
	mig_cancels++;
	mig_active = false;
	return 0;
}

static bool fake_migrate_active(struct vm *v)
{
	(void)v;
	return mig_active;
}

static const struct api_vm_ops fake_ops = {
	.get_state = fake_state, .state_name = fake_state_name, .pause = fake_pause, .resume = fake_resume,
	.shutdown = fake_shutdown, .ctrl_alt_del = fake_cad, .nr_vcpus = fake_nr_vcpus,
	.mem_size = fake_mem, .devices = fake_devices, .exit_count = fake_exit_count,
	.exit_reason_name = fake_reason_name, .boot_request = fake_boot_request,
	.migrate_start = fake_migrate_start, .migrate_status = fake_migrate_status,
	.migrate_cancel = fake_migrate_cancel, .migrate_active = fake_migrate_active,
};

/* ---- a fake device ---- */

struct fake_dev {
	uint64_t scr, count;
	uint8_t blob[64];
	size_t blob_len;
	bool enabled;
	char label[DEV_STR_MAX];
	int resets;
	char last_arg[64];
	bool last_arg_null;
};

static struct fake_dev fd0;

static void scr_get(struct device *d, struct dev_value *v) { v->u64 = ((struct fake_dev *)d->priv)->scr; }
static int scr_set(struct device *d, const struct dev_value *v)
{
	if (v->u64 > 0xff)
		return -EINVAL;
	((struct fake_dev *)d->priv)->scr = v->u64;
	return 0;
}
static void en_get(struct device *d, struct dev_value *v) { v->b = ((struct fake_dev *)d->priv)->enabled; }
static int en_set(struct device *d, const struct dev_value *v)
{
	((struct fake_dev *)d->priv)->enabled = v->b;
	return 0;
}
static void label_get(struct device *d, struct dev_value *v) { strcpy(v->str, ((struct fake_dev *)d->priv)->label); }
static int label_set(struct device *d, const struct dev_value *v)
{
	strcpy(((struct fake_dev *)d->priv)->label, v->str);
	return 0;
}
static void count_get(struct device *d, struct dev_value *v) { v->u64 = ((struct fake_dev *)d->priv)->count; }

static void blob_get(struct device *d, struct dev_value *v)
{
	struct fake_dev *f = d->priv;

	if (dev_value_alloc(v, f->blob_len))
		memcpy(v->bytes, f->blob, f->blob_len);
}

/* Opaque state: a version byte 1, then at most 63 bytes. */
static int blob_set(struct device *d, const struct dev_value *v)
{
	struct fake_dev *f = d->priv;

	if (v->len > sizeof(f->blob) || (v->len && v->bytes[0] != 1))
		return err_set(-EINVAL, "blob: layout version or length is wrong");
	memcpy(f->blob, v->bytes, v->len);
	f->blob_len = v->len;
	return 0;
}

static int reset_run(struct device *d, const char *arg)
{
	struct fake_dev *f = d->priv;

	f->resets++;
	f->last_arg_null = !arg;
	snprintf(f->last_arg, sizeof(f->last_arg), "%s", arg ? arg : "");
	return 0;
}

static int fail_run(struct device *d, const char *arg)
{
	(void)d;
	(void)arg;
	return err_set(-EINVAL, "fail: always fails");
}

static const struct dev_attr fake_attrs[] = {
	{ "scr", DEV_ATTR_U64, DEV_ATTR_STATE, "scratch", scr_get, scr_set },
	{ "enabled", DEV_ATTR_BOOL, DEV_ATTR_CONFIG, "on/off", en_get, en_set },
	{ "label", DEV_ATTR_STR, DEV_ATTR_CONFIG, "a label", label_get, label_set },
	{ "count", DEV_ATTR_U64, DEV_ATTR_INFO, "a counter", count_get, NULL },
	{ "blob", DEV_ATTR_BYTES, DEV_ATTR_STATE, "opaque state", blob_get, blob_set },
};

static const struct dev_cmd fake_cmds[] = {
	{ "reset", "reset it", reset_run },
	{ "fail", "fails", fail_run },
};

static const struct dev_class fake_class = {
	.type = "fake", .state_version = 3,
	.attrs = fake_attrs, .nr_attrs = 5, .cmds = fake_cmds, .nr_cmds = 2,
};

static struct device dev0;
static struct api_ctx ctx;

static void setup(void)
{
	memset(&fd0, 0, sizeof(fd0));
	memset(&dev0, 0, sizeof(dev0));
	memset(&vm, 0, sizeof(vm));
	strcpy(dev0.id, "fake0");
	dev0.cls = &fake_class;
	dev0.priv = &fd0;
	dev_add_resource(&dev0, DEV_RES_PIO, 0x3f8, 8);
	dev_add_resource(&dev0, DEV_RES_IRQ, 4, 1);
	vm.reg.devs[0] = &dev0;
	vm.reg.nr = 1;
	vm.state = VM_STATE_RUNNING;
	ctx = (struct api_ctx){ .vm = &vm, .ops = &fake_ops };
}

/* Run one request; the reply's body parsed into *json (NULL for none). */
static unsigned int call(const char *method, const char *path, const char *body,
			 struct json_object **json)
{
	struct api_request req = { method, path, body, body ? strlen(body) : 0 };
	struct api_reply rep;
	unsigned int status;

	api_handle(&ctx, &req, &rep);
	status = rep.status;
	if (json)
		*json = rep.body ? json_tokener_parse(rep.body) : NULL;
	api_reply_free(&rep);
	return status;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* The reply is @status with a non-empty fault_message containing @needle. */
static bool faults(unsigned int status, const char *method, const char *path,
		   const char *body, const char *needle)
{
	struct json_object *j;
	unsigned int got = call(method, path, body, &j);
	const char *m = jstr(j, "fault_message");
	bool ok = got == status && m && m[0] && strstr(m, needle);

	if (!ok)
		printf("# %s %s %s: %u %s\n", method, path, body ? body : "", got, m ? m : "(no fault)");
	json_object_put(j);
	return ok;
}

/* ---- tests ---- */

static void get_vm_reports_state_vcpus_and_memory(void)
{
	struct json_object *j, *v;

	setup();
	CHECK_EQ(call("GET", "/vm", NULL, &j), 200);
	CHECK(!strcmp(jstr(j, "state"), "Running"));
	CHECK(json_object_object_get_ex(j, "vcpus", &v) && json_object_get_int(v) == 2);
	CHECK(json_object_object_get_ex(j, "mem_size_mib", &v) && json_object_get_int(v) == 256);
	json_object_put(j);
}

static void patch_vm_pauses_and_resumes_idempotently(void)
{
	setup();
	CHECK_EQ(call("PATCH", "/vm", "{\"state\":\"Paused\"}", NULL), 204);
	CHECK_EQ(vm.state, VM_STATE_PAUSED);
	CHECK_EQ(call("PATCH", "/vm", "{\"state\": \"Paused\"}\n", NULL), 204);
	CHECK_EQ(vm.pauses, 1);
	CHECK_EQ(call("PATCH", "/vm", "{\"state\":\"Resumed\"}", NULL), 204);
	CHECK_EQ(call("PATCH", "/vm", "{\"state\":\"Resumed\"}", NULL), 204);
	CHECK_EQ(vm.resumes, 1);
	CHECK_EQ(vm.state, VM_STATE_RUNNING);
}

static void patch_vm_bad_bodies_are_400(void)
{
	setup();
	CHECK(faults(400, "PATCH", "/vm", "{\"state\":\"Frozen\"}", "unknown state"));
	CHECK(faults(400, "PATCH", "/vm", "{\"state\":1}", "must be a string"));
	CHECK(faults(400, "PATCH", "/vm", "{}", "missing field 'state'"));
	CHECK(faults(400, "PATCH", "/vm", "{\"state\":\"Paused\",\"x\":1}", "unknown field 'x'"));
	CHECK(faults(400, "PATCH", "/vm", NULL, "empty"));
	CHECK_EQ(vm.pauses, 0);
}

static void malformed_json_is_400_with_fault_message(void)
{
	static const char *const bad[] = {
		"{", "{\"state\":", "not json", "{\"state\":\"Paused\"} trailing",
		"[\"Paused\"]", "\"Paused\"", "{\"state\":\"Paused\",}", "{\"a\":[[[[[[[[[[1]]]]]]]]]]}",
	};
	size_t i;

	setup();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(faults(400, "PATCH", "/vm", bad[i], ""));
	CHECK(faults(400, "PUT", "/actions", "{\"action_type\":", "malformed JSON"));
	CHECK_EQ(vm.pauses, 0);
}

static void patch_vm_while_shutting_down_is_409(void)
{
	setup();
	vm.state = VM_STATE_SHUTTING_DOWN;
	CHECK(faults(409, "PATCH", "/vm", "{\"state\":\"Paused\"}", "shutting down"));
	CHECK_EQ(vm.pauses, 0);
}

static void actions_shutdown_and_ctrl_alt_del_are_204(void)
{
	setup();
	CHECK_EQ(call("PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", NULL), 204);
	CHECK_EQ(vm.cads, 1);
	CHECK_EQ(call("PUT", "/actions", "{\"action_type\":\"Shutdown\"}", NULL), 204);
	CHECK_EQ(vm.shutdowns, 1);
	CHECK(faults(409, "PUT", "/actions", "{\"action_type\":\"Shutdown\"}", "shutting down"));
}

static void unknown_action_is_400(void)
{
	setup();
	CHECK(faults(400, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}",
		     "unknown action_type"));
	CHECK(faults(400, "PUT", "/actions", "{\"action\":\"Shutdown\"}", "unknown field"));
	CHECK_EQ(vm.shutdowns, 0);
}

static void unknown_paths_are_404(void)
{
	static const char *const bad[] = {
		"/", "/vmm", "/vm/x", "//vm", "/devices//attributes", "/devices/fake0/x",
		"/devices/fake0/attributes/scr/x", "vm", "/devices/fake0/commands",
	};
	size_t i;

	setup();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(faults(404, "GET", bad[i], NULL, "no such path"));
}

static void trailing_slash_is_accepted(void)
{
	setup();
	CHECK_EQ(call("GET", "/vm/", NULL, NULL), 200);
	CHECK_EQ(call("GET", "/devices/fake0/", NULL, NULL), 200);
}

static void wrong_method_is_405_with_allow_header(void)
{
	struct api_request req = { "DELETE", "/vm", NULL, 0 };
	struct api_reply rep;

	setup();
	api_handle(&ctx, &req, &rep);
	CHECK_EQ(rep.status, 405);
	CHECK(!strcmp(rep.allow, "GET, PATCH"));
	CHECK_STR_CONTAINS(rep.body, "not allowed");
	api_reply_free(&rep);
	CHECK(faults(405, "GET", "/actions", NULL, "allowed: PUT"));
	CHECK(faults(405, "POST", "/devices/fake0/attributes/scr", NULL, "allowed: GET, PUT"));
	CHECK(faults(405, "GET", "/devices/fake0/commands/reset", NULL, "allowed: PUT"));
}

static void devices_list_ids_types_and_resources(void)
{
	struct json_object *j, *d, *res, *r0, *v;

	setup();
	CHECK_EQ(call("GET", "/devices", NULL, &j), 200);
	CHECK(json_object_is_type(j, json_type_array) && json_object_array_length(j) == 1);
	d = json_object_array_get_idx(j, 0);
	CHECK(!strcmp(jstr(d, "id"), "fake0") && !strcmp(jstr(d, "type"), "fake"));
	CHECK(json_object_object_get_ex(d, "resources", &res));
	CHECK_EQ(json_object_array_length(res), 2);
	r0 = json_object_array_get_idx(res, 0);
	CHECK(!strcmp(jstr(r0, "kind"), "pio"));
	CHECK(json_object_object_get_ex(r0, "base", &v) && json_object_get_int(v) == 0x3f8);
	CHECK(json_object_object_get_ex(r0, "len", &v) && json_object_get_int(v) == 8);
	json_object_put(j);
}

static void device_get_describes_attributes_and_commands(void)
{
	struct json_object *j, *attrs, *cmds, *a, *v;

	setup();
	CHECK_EQ(call("GET", "/devices/fake0", NULL, &j), 200);
	CHECK(json_object_object_get_ex(j, "attributes", &attrs));
	CHECK(json_object_object_get_ex(j, "commands", &cmds));
	CHECK_EQ(json_object_array_length(attrs), 5);
	CHECK_EQ(json_object_array_length(cmds), 2);
	a = json_object_array_get_idx(attrs, 3);
	CHECK(!strcmp(jstr(a, "name"), "count") && !strcmp(jstr(a, "type"), "u64"));
	CHECK(!strcmp(jstr(a, "access"), "info") && !strcmp(jstr(a, "doc"), "a counter"));
	CHECK(json_object_object_get_ex(a, "writable", &v) && !json_object_get_boolean(v));
	CHECK(!strcmp(jstr(json_object_array_get_idx(cmds, 0), "name"), "reset"));
	json_object_put(j);
}

static void unknown_device_attribute_or_command_is_404(void)
{
	setup();
	CHECK(faults(404, "GET", "/devices/nope", NULL, "no device 'nope'"));
	CHECK(faults(404, "GET", "/devices/nope/attributes/scr", NULL, "no device"));
	CHECK(faults(404, "GET", "/devices/fake0/attributes/nope", NULL, "no attribute 'nope'"));
	CHECK(faults(404, "PUT", "/devices/fake0/attributes/nope", "{\"value\":1}", "no attribute"));
	CHECK(faults(404, "PUT", "/devices/fake0/commands/nope", NULL, "no command 'nope'"));
}

static void attribute_round_trip_while_paused(void)
{
	struct json_object *j, *v;

	setup();
	fd0.scr = 0x12;
	CHECK_EQ(call("GET", "/devices/fake0/attributes/scr", NULL, &j), 200);
	CHECK(!strcmp(jstr(j, "name"), "scr") && !strcmp(jstr(j, "access"), "state"));
	CHECK(json_object_object_get_ex(j, "value", &v) && json_object_get_int(v) == 0x12);
	json_object_put(j);
	vm.state = VM_STATE_PAUSED;
	CHECK_EQ(call("PUT", "/devices/fake0/attributes/scr", "{\"value\":171}", NULL), 204);
	CHECK_EQ(call("GET", "/devices/fake0/attributes/scr", NULL, &j), 200);
	CHECK(json_object_object_get_ex(j, "value", &v) && json_object_get_int(v) == 171);
	json_object_put(j);
}

static void writing_state_while_running_is_409(void)
{
	setup();
	fd0.scr = 5;
	CHECK(faults(409, "PUT", "/devices/fake0/attributes/scr", "{\"value\":7}", "pause"));
	CHECK_EQ(fd0.scr, 5);
}

static void config_attributes_are_writable_while_running(void)
{
	struct json_object *j, *v;

	setup();
	CHECK_EQ(call("PUT", "/devices/fake0/attributes/enabled", "{\"value\":true}", NULL), 204);
	CHECK(fd0.enabled);
	CHECK_EQ(call("PUT", "/devices/fake0/attributes/label", "{\"value\":\"h\\u00e9\"}", NULL), 204);
	CHECK(!strcmp(fd0.label, "h\xc3\xa9"));
	CHECK_EQ(call("GET", "/devices/fake0/attributes/label", NULL, &j), 200);
	CHECK(json_object_object_get_ex(j, "value", &v) && !strcmp(json_object_get_string(v), "h\xc3\xa9"));
	json_object_put(j);
}

static void wrong_value_types_are_400(void)
{
	static const char *const bad_u64[] = {
		"{\"value\":\"7\"}", "{\"value\":-1}", "{\"value\":1.5}", "{\"value\":true}",
		"{\"value\":null}", "{\"value\":18446744073709551616}", "{\"value\":1e3}",
		"{\"value\":[1]}", "{}", "{\"value\":1,\"extra\":2}",
	};
	size_t i;

	setup();
	vm.state = VM_STATE_PAUSED;
	for (i = 0; i < sizeof(bad_u64) / sizeof(bad_u64[0]); i++)
		CHECK(faults(400, "PUT", "/devices/fake0/attributes/scr", bad_u64[i], ""));
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/enabled", "{\"value\":1}",
		     "true or false"));
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/label", "{\"value\":5}",
		     "must be a string"));
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/label", "{\"value\":\"a\\u0000b\"}",
		     "NUL"));
	CHECK_EQ(fd0.scr, 0);
}

static void out_of_range_and_read_only_writes_are_400(void)
{
	char big[DEV_STR_MAX + 32];

	setup();
	vm.state = VM_STATE_PAUSED;
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/scr", "{\"value\":256}", "out of range"));
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/count", "{\"value\":1}", "read-only"));
	snprintf(big, sizeof(big), "{\"value\":\"%0*d\"}", DEV_STR_MAX, 0);
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/label", big, "too long"));
}

static void u64_extremes_round_trip(void)
{
	struct json_object *j;
	struct api_request req = { "GET", "/devices/fake0/attributes/count", NULL, 0 };
	struct api_reply rep;

	setup();
	fd0.count = UINT64_MAX;
	api_handle(&ctx, &req, &rep);
	CHECK_EQ(rep.status, 200);
	CHECK_STR_CONTAINS(rep.body, "\"value\":18446744073709551615");
	api_reply_free(&rep);
	/* The largest u64 parses exactly; the setter then refuses it as out of range. */
	vm.state = VM_STATE_PAUSED;
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/scr",
		     "{\"value\":18446744073709551615}", "out of range"));
	CHECK_EQ(call("GET", "/vm", NULL, &j), 200);
	json_object_put(j);
}

static void commands_run_with_or_without_arg(void)
{
	setup();
	CHECK_EQ(call("PUT", "/devices/fake0/commands/reset", NULL, NULL), 204);
	CHECK_EQ(fd0.resets, 1);
	CHECK(fd0.last_arg_null);
	CHECK_EQ(call("PUT", "/devices/fake0/commands/reset", "{\"arg\":\"hard\"}", NULL), 204);
	CHECK(!fd0.last_arg_null && !strcmp(fd0.last_arg, "hard"));
	CHECK_EQ(call("PUT", "/devices/fake0/commands/reset", "{}", NULL), 204);
	CHECK(fd0.last_arg_null);
	CHECK_EQ(fd0.resets, 3);
	CHECK(faults(400, "PUT", "/devices/fake0/commands/reset", "{\"arg\":1}", "must be a string"));
	CHECK(faults(400, "PUT", "/devices/fake0/commands/reset", "{\"args\":\"x\"}", "unknown field"));
	CHECK(faults(400, "PUT", "/devices/fake0/commands/fail", NULL, "always fails"));
	CHECK_EQ(fd0.resets, 3);
}

static void metrics_have_exits_devices_and_api_counters(void)
{
	struct json_object *j, *vcpus, *v1, *ex, *n, *devs, *d, *api;

	setup();
	fd0.count = 42;
	ctx.stats.requests = 9;
	CHECK_EQ(call("GET", "/metrics", NULL, &j), 200);
	CHECK(json_object_object_get_ex(j, "vcpus", &vcpus));
	CHECK_EQ(json_object_array_length(vcpus), 2);
	v1 = json_object_array_get_idx(vcpus, 1);
	CHECK(json_object_object_get_ex(v1, "exits", &ex));
	CHECK(json_object_object_get_ex(ex, "io", &n) && json_object_get_int(n) == 11);
	CHECK(json_object_object_get_ex(ex, "mmio", &n) && json_object_get_int(n) == 0);
	CHECK(json_object_object_get_ex(j, "exits_total", &ex));
	CHECK(json_object_object_get_ex(ex, "io", &n) && json_object_get_int(n) == 21);
	CHECK(json_object_object_get_ex(j, "devices", &devs));
	CHECK(json_object_object_get_ex(devs, "fake0", &d));
	CHECK(json_object_object_get_ex(d, "count", &n) && json_object_get_int(n) == 42);
	CHECK(!json_object_object_get_ex(d, "scr", &n));	/* state, not a counter */
	CHECK(json_object_object_get_ex(j, "api", &api));
	CHECK(json_object_object_get_ex(api, "requests", &n) && json_object_get_int(n) == 9);
	json_object_put(j);
}

static void attribute_list_has_every_value(void)
{
	struct json_object *j;

	setup();
	CHECK_EQ(call("GET", "/devices/fake0/attributes", NULL, &j), 200);
	CHECK(json_object_is_type(j, json_type_array));
	CHECK_EQ(json_object_array_length(j), 5);
	CHECK(!strcmp(jstr(json_object_array_get_idx(j, 1), "name"), "enabled"));
	json_object_put(j);
}

static void bytes_attributes_are_hex_strings(void)
{
	struct json_object *j;
	char *big;
	size_t n = 2 * (DEV_BYTES_MAX + 1);

	setup();
	memcpy(fd0.blob, "\x01\x00\xab\xff", 4);
	fd0.blob_len = 4;
	CHECK_EQ(call("GET", "/devices/fake0/attributes/blob", NULL, &j), 200);
	CHECK(!strcmp(jstr(j, "type"), "bytes"));
	CHECK(!strcmp(jstr(j, "value"), "0100abff"));
	json_object_put(j);
	CHECK(faults(409, "PUT", "/devices/fake0/attributes/blob", "{\"value\":\"01\"}", "pause"));
	vm.state = VM_STATE_PAUSED;
	CHECK_EQ(call("PUT", "/devices/fake0/attributes/blob", "{\"value\":\"01C0De\"}", NULL),
		 204);
	CHECK_EQ(fd0.blob_len, 3);
	CHECK(!memcmp(fd0.blob, "\x01\xc0\xde", 3));
	CHECK_EQ(call("GET", "/devices/fake0/attributes/blob", NULL, &j), 200);
	CHECK(!strcmp(jstr(j, "value"), "01c0de"));
	json_object_put(j);
	CHECK_EQ(call("PUT", "/devices/fake0/attributes/blob", "{\"value\":\"\"}", NULL), 204);
	CHECK_EQ(fd0.blob_len, 0);
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/blob", "{\"value\":\"012\"}",
		     "two hex digits per byte"));
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/blob", "{\"value\":\"01zz\"}",
		     "character 2 is not one"));
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/blob", "{\"value\":[1]}",
		     "must be a hex string"));
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/blob", "{\"value\":\"02\"}",
		     "device 'fake0': blob: layout version"));
	big = malloc(n + 16);
	CHECK(big != NULL);
	memcpy(big, "{\"value\":\"", 10);
	memset(big + 10, 'a', n);
	memcpy(big + 10 + n, "\"}", 3);
	CHECK(faults(400, "PUT", "/devices/fake0/attributes/blob", big, "too long"));
	free(big);
	CHECK_EQ(fd0.blob_len, 0);
}

static struct vm_boot fake_boot;

/* A kite started with only --api-sock: no VM until PUT /snapshot/load. */
static void without_vm_only_get_vm_and_load_are_served(void)
{
	struct json_object *j;

	setup();
	ctx.vm = NULL;
	ctx.boot = &fake_boot;
	load_calls = 0;
	load_err = 0;
	CHECK_EQ(call("GET", "/vm", NULL, &j), 200);
	CHECK(!strcmp(jstr(j, "state"), "NotStarted"));
	json_object_put(j);
	CHECK(faults(409, "PATCH", "/vm", "{\"state\":\"Paused\"}", "no VM yet"));
	CHECK(faults(409, "GET", "/devices", NULL, "PUT /snapshot/load"));
	CHECK(faults(409, "PUT", "/snapshot/create",
		     "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\"}", "no VM yet"));
	CHECK(faults(409, "GET", "/metrics", NULL, "no VM yet"));
	CHECK_EQ(vm.pauses, 0);
	CHECK_EQ(load_calls, 0);
	/* Bad bodies never reach the loader. */
	CHECK(faults(400, "PUT", "/snapshot/load", "{}", "missing field 'snapshot_path'"));
	CHECK(faults(400, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/s\",\"x\":1}",
		     "unknown field"));
	CHECK(faults(400, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/s\",\"resume_vm\":1}",
		     "'resume_vm', 'keep_identity' and 'enable_diff_snapshots' must be"));
	CHECK(faults(400, "PUT", "/snapshot/load", "{\"snapshot_path\":\"\"}", "empty"));
	CHECK(faults(400, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/s\","
		     "\"mem_backend\":{\"backend_type\":\"Uffd\",\"backend_path\":\"/m\"}}",
		     "not supported"));
	CHECK(faults(400, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/s\","
		     "\"mem_backend\":{\"backend_type\":\"File\"}}", "backend_path"));
	CHECK(faults(400, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/s\","
		     "\"mem_file_path\":\"/m\",\"mem_backend\":{\"backend_type\":\"File\","
		     "\"backend_path\":\"/m\"}}", "not both"));
	CHECK_EQ(load_calls, 0);
	/* A failed load is the client's (400) or kite's (500); kite still has no VM. */
	load_err = -EINVAL;
	CHECK(faults(400, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/s\"}", "fake: cannot"));
	load_err = -ENOMEM;
	CHECK(faults(500, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/s\"}", "fake: cannot"));
	load_err = -EALREADY;
	CHECK(faults(409, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/s\"}", "fake: cannot"));
	CHECK(ctx.vm == NULL);
	CHECK_EQ(load_calls, 3);
	/* Firecracker's mem_backend shape, resume_vm. */
	load_err = 0;
	CHECK_EQ(call("PUT", "/snapshot/load", "{\"snapshot_path\":\"/snap\",\"mem_backend\":"
		      "{\"backend_type\":\"File\",\"backend_path\":\"/mem\"},"
		      "\"resume_vm\":true,\"keep_identity\":true,\"enable_diff_snapshots\":true}",
		      NULL), 204);
	CHECK(!strcmp(last_load.snapshot_path, "/snap"));
	CHECK(!strcmp(last_load.mem_file_path, "/mem"));
	CHECK(last_load.resume);
	CHECK(last_load.keep_identity);
	CHECK(last_load.diff_snapshots);
	CHECK(ctx.vm == &vm);
	/* Now the VM is served, and a second load is refused without reaching the loader. */
	CHECK_EQ(call("GET", "/vm", NULL, &j), 200);
	CHECK(!strcmp(jstr(j, "state"), "Running"));
	json_object_put(j);
	CHECK(faults(409, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/s\"}", "already runs"));
	CHECK_EQ(load_calls, 4);
}

static void load_on_a_kite_with_a_vm_is_409(void)
{
	setup();
	load_calls = 0;
	CHECK(faults(409, "PUT", "/snapshot/load", "{\"snapshot_path\":\"/s\",\"mem_file_path\":"
		     "\"/m\",\"resume_vm\":false}", "already runs"));
	CHECK_EQ(load_calls, 0);
}

static void migrate_put_get_delete(void)
{
	struct json_object *j, *v;

	setup();
	mig_active = false;
	mig_err = 0;
	mig_cancels = 0;
	CHECK(faults(400, "PUT", "/migrate", "{}", "missing field 'destination'"));
	CHECK(faults(400, "PUT", "/migrate", "{\"destination\":\"unix:/x\",\"downtime_ms\":0}",
		     "downtime_ms' must be 1..60000"));
	CHECK(faults(400, "PUT", "/migrate", "{\"destination\":\"unix:/x\",\"timeout_s\":\"9\"}",
		     "must be an integer"));
	CHECK(faults(400, "PUT", "/migrate", "{\"destination\":\"unix:/x\",\"compress\":\"lz4\"}",
		     "unknown compress"));
	CHECK(faults(400, "PUT", "/migrate", "{\"destination\":\"unix:/x\",\"auto_converge\":1}",
		     "true or false"));
	CHECK(!mig_active);
	mig_err = -ECONNREFUSED;
	CHECK(faults(400, "PUT", "/migrate", "{\"destination\":\"tcp:127.0.0.1:1\"}",
		     "fake: cannot migrate"));
	mig_err = 0;
	CHECK_EQ(call("PUT", "/migrate", "{\"destination\":\"unix:/run/m.sock\",\"downtime_ms\":"
		      "20,\"timeout_s\":9,\"compress\":\"zstd\",\"auto_converge\":false}", NULL),
		 204);
	CHECK(!strcmp(last_mig.destination, "unix:/run/m.sock"));
	CHECK_EQ(last_mig.downtime_ms, 20);
	CHECK_EQ(last_mig.timeout_s, 9);
	CHECK(last_mig.zstd);
	CHECK(!last_mig.auto_converge);
	/* While it runs it owns pause, resume and snapshots. */
	CHECK(faults(409, "PATCH", "/vm", "{\"state\":\"Paused\"}", "migration is in progress"));
	CHECK_EQ(vm.pauses, 0);
	CHECK(faults(409, "PUT", "/snapshot/create",
		     "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\"}", "migration"));
	CHECK_EQ(call("GET", "/migrate", NULL, &j), 200);
	CHECK(!strcmp(jstr(j, "state"), "Active"));
	CHECK(json_object_object_get_ex(j, "round", &v) && json_object_get_int(v) == 3);
	CHECK(json_object_object_get_ex(j, "bytes_sent", &v) && json_object_get_int(v) == 1234);
	CHECK(json_object_object_get_ex(j, "throttle_pct", &v) && json_object_get_int(v) == 20);
	json_object_put(j);
	CHECK_EQ(call("DELETE", "/migrate", NULL, NULL), 204);
	CHECK_EQ(mig_cancels, 1);
	CHECK(faults(409, "DELETE", "/migrate", NULL, "no migration"));
	CHECK_EQ(call("GET", "/migrate", NULL, &j), 200);
	CHECK(!strcmp(jstr(j, "state"), "Failed"));
	CHECK(!strcmp(jstr(j, "error"), "boom"));
	json_object_put(j);
	CHECK_EQ(call("PATCH", "/vm", "{\"state\":\"Paused\"}", NULL), 204);
}

int main(void)
{
	RUN(get_vm_reports_state_vcpus_and_memory);
	RUN(patch_vm_pauses_and_resumes_idempotently);
	RUN(patch_vm_bad_bodies_are_400);
	RUN(malformed_json_is_400_with_fault_message);
	RUN(patch_vm_while_shutting_down_is_409);
	RUN(actions_shutdown_and_ctrl_alt_del_are_204);
	RUN(unknown_action_is_400);
	RUN(unknown_paths_are_404);
	RUN(trailing_slash_is_accepted);
	RUN(wrong_method_is_405_with_allow_header);
	RUN(devices_list_ids_types_and_resources);
	RUN(device_get_describes_attributes_and_commands);
	RUN(unknown_device_attribute_or_command_is_404);
	RUN(attribute_round_trip_while_paused);
	RUN(writing_state_while_running_is_409);
	RUN(config_attributes_are_writable_while_running);
	RUN(wrong_value_types_are_400);
	RUN(out_of_range_and_read_only_writes_are_400);
	RUN(u64_extremes_round_trip);
	RUN(commands_run_with_or_without_arg);
	RUN(metrics_have_exits_devices_and_api_counters);
	RUN(attribute_list_has_every_value);
	RUN(bytes_attributes_are_hex_strings);
	RUN(without_vm_only_get_vm_and_load_are_served);
	RUN(load_on_a_kite_with_a_vm_is_409);
	RUN(migrate_put_get_delete);
	return harness_done();
}
