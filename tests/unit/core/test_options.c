// SPDX-License-Identifier: MIT
/* Unit tests of the command line: sizes and `kite run` options. */
#include <errno.h>
#include <stdint.h>

#include "cli/options.h"
#include "core/log.h"
#include "harness.h"

static void parse_size_accepts_plain_hex_and_suffixed_sizes(void)
{
	static const struct { const char *s; uint64_t v; } cases[] = {
		{ "0x1000", 0x1000 },
		{ "4096", 4096 },
		{ "0", 0 },
		{ "64K", 64ULL << 10 },
		{ "64k", 64ULL << 10 },
		{ "64KiB", 64ULL << 10 },
		{ "64KB", 64ULL << 10 },
		{ "1M", 1ULL << 20 },
		{ "256m", 256ULL << 20 },
		{ "3G", 3ULL << 30 },
		{ "1T", 1ULL << 40 },
		{ "16777215T", 16777215ULL << 40 },	/* the largest T that fits */
		{ "18446744073709551615", UINT64_MAX },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int ret = parse_size(cases[i].s, &v);

		if (ret || v != cases[i].v)
			printf("# parse_size(\"%s\") = %d, %" PRIu64 "\n", cases[i].s, ret, v);
		CHECK_EQ(ret, 0);
		CHECK_EQ(v, cases[i].v);
	}
}

static void parse_size_refuses_garbage_and_leaves_the_output_alone(void)
{
	static const char *const bad[] = {
		"", "abc", "12Q", "-5M", "+5M", "1.5G", "5MM", " 5M", "5M ", "K", "0x",
		"5B", "5iB", "5KiBB",
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 12345;
		int ret = parse_size(bad[i], &v);

		if (ret != -EINVAL)
			printf("# parse_size(\"%s\") = %d, %" PRIu64 "\n", bad[i], ret, v);
		CHECK_EQ(ret, -EINVAL);
		CHECK_EQ(v, 12345);
		CHECK_STR_CONTAINS(err_msg(), "not a size");
	}
}

static void parse_size_refuses_null(void)
{
	uint64_t v = 1;

	CHECK_EQ(parse_size(NULL, &v), -EINVAL);
	CHECK_EQ(v, 1);
}

static void parse_size_refuses_leading_whitespace_of_any_kind(void)
{
	static const char *const bad[] = { "\t5M", "\n5M", " 5M" };
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 12345;

		CHECK(parse_size(bad[i], &v) < 0);
		CHECK_EQ(v, 12345);
	}
}

static void parse_size_refuses_overflow(void)
{
	static const char *const big[] = {
		"99999999999999999999G",	/* the number alone overflows */
		"99999999999999999999",
		"17179869184G",			/* 2^34 G = 2^64 */
		"16777216T",			/* 2^24 T = 2^64 */
		"18446744073709551615K",
	};
	unsigned int i;

	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		uint64_t v = 12345;
		int ret = parse_size(big[i], &v);

		if (ret >= 0)
			printf("# parse_size(\"%s\") accepted: %" PRIu64 "\n", big[i], v);
		CHECK(ret == -EINVAL || ret == -ERANGE);
		CHECK_EQ(v, 12345);
	}
	CHECK_EQ(parse_size("17179869184G", &(uint64_t){ 0 }), -ERANGE);
	CHECK_STR_CONTAINS(err_msg(), "too large");
}

/* Run cli_parse on a NULL-terminated list (copied: getopt permutes argv). */
static int parse(const char *const *args, enum cli_action *action, struct vm_config *cfg)
{
	static char *argv[64];
	int argc = 0;

	while (args[argc] && argc < 63) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	err_clear();
	return cli_parse(argc, argv, action, cfg);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void cli_parse_fills_the_config_from_every_option(void)
{
	enum cli_action action = CLI_HELP;
	struct vm_config cfg;

	CHECK_EQ(parse(ARGS("kite", "run", "--kernel", "k", "--mem", "256M", "--cpus", "4",
			    "--cmdline", "a b", "--serial", "file:/tmp/x", "--initrd", "i"),
		       &action, &cfg), 0);
	CHECK_EQ(action, CLI_RUN);
	CHECK_STR_CONTAINS(cfg.kernel_path, "k");
	CHECK(strcmp(cfg.kernel_path, "k") == 0);
	CHECK(strcmp(cfg.initrd_path, "i") == 0);
	CHECK(strcmp(cfg.cmdline, "a b") == 0);
	CHECK_EQ(cfg.mem_size, 256ULL << 20);
	CHECK_EQ(cfg.ncpus, 4);
	CHECK_EQ(cfg.serial_mode, SERIAL_FILE);
	CHECK(strcmp(cfg.serial_path, "/tmp/x") == 0);
}

static void cli_parse_accepts_option_equals_value(void)
{
	enum cli_action action;
	struct vm_config cfg;

	CHECK_EQ(parse(ARGS("kite", "run", "--kernel=vmlinux", "--mem=1G", "--cpus=2",
			    "--serial=none"), &action, &cfg), 0);
	CHECK(strcmp(cfg.kernel_path, "vmlinux") == 0);
	CHECK_EQ(cfg.mem_size, 1ULL << 30);
	CHECK_EQ(cfg.ncpus, 2);
	CHECK_EQ(cfg.serial_mode, SERIAL_NONE);
}

static void cli_parse_uses_defaults_for_missing_options(void)
{
	enum cli_action action = CLI_HELP;
	struct vm_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	CHECK_EQ(parse(ARGS("kite", "run", "--kernel", "k"), &action, &cfg), 0);
	CHECK_EQ(action, CLI_RUN);
	CHECK_EQ(cfg.mem_size, 128ULL << 20);
	CHECK_EQ(cfg.ncpus, 1);
	CHECK_EQ(cfg.serial_mode, SERIAL_STDIO);
	CHECK(cfg.cmdline && cfg.cmdline[0] == '\0');
	CHECK(cfg.initrd_path == NULL);
	CHECK(cfg.kvm_path != NULL);
}

static void cli_parse_reports_help_and_version_actions(void)
{
	static const char *const help[] = { "--help", "-h", "help" };
	enum cli_action action;
	struct vm_config cfg;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		action = CLI_RUN;
		CHECK_EQ(parse(ARGS("kite", help[i]), &action, &cfg), 0);
		CHECK_EQ(action, CLI_HELP);
	}
	action = CLI_RUN;
	CHECK_EQ(parse(ARGS("kite", "--version"), &action, &cfg), 0);
	CHECK_EQ(action, CLI_VERSION);
	action = CLI_RUN;
	CHECK_EQ(parse(ARGS("kite", "-V"), &action, &cfg), 0);
	CHECK_EQ(action, CLI_VERSION);
	/* `run --help` needs no --kernel. */
	action = CLI_RUN;
	CHECK_EQ(parse(ARGS("kite", "run", "--help"), &action, &cfg), 0);
	CHECK_EQ(action, CLI_HELP);
}

/* Expect -EINVAL and a message containing @needle. */
#define CHECK_USAGE_ERROR(args, needle)						\
	do {									\
		enum cli_action _act;						\
		struct vm_config _cfg;						\
		int _ret = parse(args, &_act, &_cfg);				\
										\
		if (_ret != -EINVAL)						\
			printf("# line %d: cli_parse gave %d (%s)\n", __LINE__,	\
			       _ret, err_msg());				\
		CHECK_EQ(_ret, -EINVAL);					\
		CHECK_STR_CONTAINS(err_msg(), needle);				\
	} while (0)

static void cli_parse_refuses_no_command(void)
{
	CHECK_USAGE_ERROR(ARGS("kite"), "no command");
}

static void cli_parse_refuses_an_unknown_command(void)
{
	CHECK_USAGE_ERROR(ARGS("kite", "walk", "--kernel", "k"), "unknown command 'walk'");
}

static void cli_parse_refuses_run_without_kernel(void)
{
	CHECK_USAGE_ERROR(ARGS("kite", "run"), "--kernel is required");
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--mem", "64M"), "--kernel is required");
}

static void cli_parse_refuses_an_unknown_option_naming_it(void)
{
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--bogus"),
			  "unknown option '--bogus'");
	CHECK_USAGE_ERROR(ARGS("kite", "run", "-Z", "--kernel", "k"), "unknown option '-Z'");
}

static void cli_parse_refuses_an_option_missing_its_value(void)
{
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel"), "'--kernel' needs a value");
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--mem"),
			  "'--mem' needs a value");
}

static void cli_parse_refuses_a_stray_argument(void)
{
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "extra"),
			  "unexpected argument 'extra'");
}

static void cli_parse_refuses_bad_mem_sizes(void)
{
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--mem", "1M"), "too small");
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--mem", "4097K"),
			  "not a multiple of 4 KiB");
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--mem", "2T"), "too large");
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--mem", "lots"), "--mem");
}

static void cli_parse_accepts_mem_at_both_limits(void)
{
	enum cli_action action;
	struct vm_config cfg;

	CHECK_EQ(parse(ARGS("kite", "run", "--kernel", "k", "--mem", "4M"), &action, &cfg), 0);
	CHECK_EQ(cfg.mem_size, 4ULL << 20);
	CHECK_EQ(parse(ARGS("kite", "run", "--kernel", "k", "--mem", "1T"), &action, &cfg), 0);
	CHECK_EQ(cfg.mem_size, 1ULL << 40);
}

static void cli_parse_refuses_bad_cpu_counts(void)
{
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--cpus", "0"), "--cpus '0'");
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--cpus", "255"),
			  "--cpus '255'");
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--cpus", "abc"),
			  "--cpus 'abc'");
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--cpus", "4x"), "--cpus '4x'");
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--cpus", "-1"), "--cpus '-1'");
}

static void cli_parse_accepts_254_cpus(void)
{
	enum cli_action action;
	struct vm_config cfg;

	CHECK_EQ(parse(ARGS("kite", "run", "--kernel", "k", "--cpus", "254"), &action, &cfg),
		 0);
	CHECK_EQ(cfg.ncpus, 254);
}

static void cli_parse_refuses_a_bogus_serial_mode(void)
{
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--serial", "bogus"),
			  "--serial 'bogus'");
	CHECK_USAGE_ERROR(ARGS("kite", "run", "--kernel", "k", "--serial", "file:"),
			  "--serial 'file:'");
}

static void cli_parse_can_be_called_repeatedly_in_one_process(void)
{
	enum cli_action action;
	struct vm_config cfg;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		CHECK_EQ(parse(ARGS("kite", "run", "--kernel", "a", "--cpus", "2"),
			       &action, &cfg), 0);
		CHECK(strcmp(cfg.kernel_path, "a") == 0);
		CHECK_EQ(cfg.ncpus, 2);
		CHECK_EQ(parse(ARGS("kite", "run", "--cpus", "3", "--kernel", "b"),
			       &action, &cfg), 0);
		CHECK(strcmp(cfg.kernel_path, "b") == 0);
		CHECK_EQ(cfg.ncpus, 3);
	}
}

/*
 * An error in the middle of a cluster of short options ("-Zh") leaves
 * getopt's internal "next character" pointing into the old argv.  The next
 * cli_parse must start afresh, not resume in the previous command line.
 */
static void cli_parse_after_an_error_inside_a_short_option_cluster_starts_afresh(void)
{
	static char old_cluster[] = "-Zh";
	char *old[] = { "kite", "run", old_cluster, "--kernel", "k", NULL };
	enum cli_action action;
	struct vm_config cfg;

	CHECK_EQ(cli_parse(5, old, &action, &cfg), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "unknown option");
	action = CLI_HELP;
	CHECK_EQ(parse(ARGS("kite", "run", "--kernel", "fresh", "--cpus", "2"), &action, &cfg),
		 0);
	CHECK_EQ(action, CLI_RUN);
	CHECK(cfg.kernel_path && strcmp(cfg.kernel_path, "fresh") == 0);
	CHECK_EQ(cfg.ncpus, 2);
}

static void cli_parse_sets_the_log_level(void)
{
	enum cli_action action;
	struct vm_config cfg;
	enum log_level saved = log_level;

	CHECK_EQ(parse(ARGS("kite", "run", "--kernel", "k", "--log-level", "debug"),
		       &action, &cfg), 0);
	CHECK_EQ(log_level, LOG_DEBUG);
	log_level = saved;
	CHECK(parse(ARGS("kite", "run", "--kernel", "k", "--log-level", "loud"),
		    &action, &cfg) < 0);
	log_level = saved;
}

/* Runs last: with the bug it leaves getopt pointing into this argv. */
static void cli_parse_names_an_unknown_short_option_inside_a_cluster(void)
{
	CHECK_USAGE_ERROR(ARGS("kite", "run", "-Zh", "--kernel", "k"), "unknown option '-Z'");
}

int main(void)
{
	RUN(parse_size_accepts_plain_hex_and_suffixed_sizes);
	RUN(parse_size_refuses_garbage_and_leaves_the_output_alone);
	RUN(parse_size_refuses_null);
	RUN(parse_size_refuses_leading_whitespace_of_any_kind);
	RUN(parse_size_refuses_overflow);
	RUN(cli_parse_fills_the_config_from_every_option);
	RUN(cli_parse_accepts_option_equals_value);
	RUN(cli_parse_uses_defaults_for_missing_options);
	RUN(cli_parse_reports_help_and_version_actions);
	RUN(cli_parse_refuses_no_command);
	RUN(cli_parse_refuses_an_unknown_command);
	RUN(cli_parse_refuses_run_without_kernel);
	RUN(cli_parse_refuses_an_unknown_option_naming_it);
	RUN(cli_parse_refuses_an_option_missing_its_value);
	RUN(cli_parse_refuses_a_stray_argument);
	RUN(cli_parse_refuses_bad_mem_sizes);
	RUN(cli_parse_accepts_mem_at_both_limits);
	RUN(cli_parse_refuses_bad_cpu_counts);
	RUN(cli_parse_accepts_254_cpus);
	RUN(cli_parse_refuses_a_bogus_serial_mode);
	RUN(cli_parse_can_be_called_repeatedly_in_one_process);
	RUN(cli_parse_after_an_error_inside_a_short_option_cluster_starts_afresh);
	RUN(cli_parse_sets_the_log_level);
	RUN(cli_parse_names_an_unknown_short_option_inside_a_cluster);
	return harness_done();
}
