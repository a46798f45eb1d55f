// SPDX-License-Identifier: MIT
/*
 * The command line of a restored copy's identity: --net id=ID,... with
 * --restore changes a saved network device (MAC, back end) instead of
 * adding one, in whatever order the options come; --keep-identity.
 */
#include <errno.h>
#include <stdint.h>

#include "cli/options.h"
#include "harness.h"

/* Run cli_parse on a NULL-terminated list (copied: getopt permutes argv). */
static int parse(const char *const *args, struct vm_config *cfg)
{
	static char *argv[64];
	enum cli_action action;
	int argc = 0;

	while (args[argc] && argc < 63) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	err_clear();
	return cli_parse(argc, argv, &action, cfg);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void restore_net_with_a_mac_changes_only_the_mac(void)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
	struct vm_config cfg;
	const struct vm_net_override *o = &cfg.net_overrides[0];

	CHECK_EQ(parse(ARGS("kite", "run", "--restore", "s.snap", "--net",
			    "id=net0,mac=52:54:00:aa:bb:cc"), &cfg), 0);
	CHECK_EQ(cfg.nr_nets, 0);
	CHECK_EQ(cfg.nr_net_overrides, 1);
	CHECK(!strcmp(o->net.id, "net0"));
	CHECK(o->mac && !o->backend);
	CHECK(!memcmp(o->net.mac, mac, 6));
	CHECK(!cfg.keep_identity);
}

static void restore_net_before_restore_and_with_a_back_end_first_is_the_same(void)
{
	struct vm_config cfg;
	const struct vm_net_override *o = &cfg.net_overrides[0];

	CHECK_EQ(parse(ARGS("kite", "run", "--net", "tap=ktap7,id=uplink", "--restore", "s.snap",
			    "--net", "user,hostfwd=tcp::8080-:80,id=net1,mac=02:00:00:00:00:01"),
		       &cfg), 0);
	CHECK_EQ(cfg.nr_net_overrides, 2);
	CHECK(!strcmp(o[0].net.id, "uplink"));
	CHECK(o[0].backend && !o[0].mac);
	CHECK_EQ(o[0].net.kind, NET_TAP);
	CHECK(!strcmp(o[0].net.ifname, "ktap7"));
	CHECK(!strcmp(o[1].net.id, "net1"));
	CHECK(o[1].backend && o[1].mac);
	CHECK_EQ(o[1].net.kind, NET_USER);
	CHECK_EQ(o[1].net.nr_hostfwd, 1);
	CHECK(!strcmp(o[1].net.hostfwd[0], "tcp::8080-:80"));
}

static void net_without_restore_still_adds_a_device(void)
{
	struct vm_config cfg;

	CHECK_EQ(parse(ARGS("kite", "run", "--net", "user,id=n", "--kernel", "k"), &cfg), 0);
	CHECK_EQ(cfg.nr_nets, 1);
	CHECK_EQ(cfg.nr_net_overrides, 0);
	CHECK(!strcmp(cfg.nets[0].id, "n"));
	/* without a kernel it still shapes a machine that is not there */
	CHECK_EQ(parse(ARGS("kite", "run", "--api-sock", "a.sock", "--net", "user"), &cfg),
		 -EINVAL);
}

static void keep_identity_goes_with_restore_only(void)
{
	struct vm_config cfg;

	CHECK_EQ(parse(ARGS("kite", "run", "--keep-identity", "--restore", "s.snap"), &cfg), 0);
	CHECK(cfg.keep_identity);
	CHECK_EQ(parse(ARGS("kite", "run", "--kernel", "k", "--keep-identity"), &cfg), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "--keep-identity only goes with --restore");
}

static void bad_restore_net_options_are_refused_with_a_message(void)
{
	static const struct { const char *arg, *msg; } bad[] = {
		{ "mac=52:54:00:aa:bb:cc", "say which saved device with id=ID" },
		{ "id=net0", "nothing to change" },
		{ "id=net0,queues=2", "'queues' cannot change" },
		{ "id=net0,tap=a,user", "two back ends" },
		{ "id=net0,mac=52:54:00:aa:bb", "use six hex bytes" },
		{ "id=net0,mac=01:00:00:00:00:01", "multicast" },
		{ "id=net0,mac=02:00:00:00:00:01,hostfwd=tcp::1-:2", "hostfwd goes with a new user" },
		{ "id=net0,tap=t0,hostfwd=tcp::1-:2", "hostfwd is for the user back end" },
		{ "id=net0,tap", "tap=NAME needs an interface name" },
		{ "id=bad/id,user", "use letters, digits" },
	};
	struct vm_config cfg;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(ARGS("kite", "run", "--restore", "s", "--net", bad[i].arg), &cfg);

		if (ret != -EINVAL || !strstr(err_msg(), bad[i].msg))
			printf("# --net %s: %d '%s'\n", bad[i].arg, ret, err_msg());
		CHECK_EQ(ret, -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), bad[i].msg);
	}
	CHECK_EQ(parse(ARGS("kite", "run", "--restore", "s", "--net", "id=a,user", "--net",
			    "id=a,mac=02:00:00:00:00:01"), &cfg), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "id 'a' is given twice");
	CHECK_EQ(parse(ARGS("kite", "run", "--restore", "s", "--net", "id=a,user", "--net",
			    "id=b,user", "--net", "id=c,user", "--net", "id=d,user", "--net",
			    "id=e,user"), &cfg), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "at most 4 network devices");
}

int main(void)
{
	RUN(restore_net_with_a_mac_changes_only_the_mac);
	RUN(restore_net_before_restore_and_with_a_back_end_first_is_the_same);
	RUN(net_without_restore_still_adds_a_device);
	RUN(keep_identity_goes_with_restore_only);
	RUN(bad_restore_net_options_are_refused_with_a_message);
	return harness_done();
}
