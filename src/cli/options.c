// SPDX-License-Identifier: MIT
#include "cli/options.h"
#include "migration/transport.h"
#include "cli/devspec.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/platform/platform.h"
#include "core/log.h"

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	/* strtoull would skip leading white space and take a sign. */
	if (!s || !isdigit((unsigned char)*s))
		return err_set(-EINVAL, "'%s' is not a size", s ? s : "");
	errno = 0;
	/* Decimal, or hexadecimal with 0x; never octal ("010M" is 10 MiB). */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		v = strtoull(s, &end, 16);
	else
		v = strtoull(s, &end, 10);
	if (errno || end == s)
		return err_set(-EINVAL, "'%s' is not a size", s);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if ((*end == 'i' || *end == 'B') && shift)
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end)
		return err_set(-EINVAL, "'%s' is not a size (use a number with K, M or G)", s);
	if (shift && v > (UINT64_MAX >> shift))
		return err_set(-ERANGE, "size '%s' is too large", s);
	*out = (uint64_t)v << shift;
	return 0;
}

void cli_usage(FILE *out)
{
	fputs("Usage: kite run --kernel FILE [options]\n"
	      "       kite ctl --api-sock PATH VERB [ARGS]   (kite ctl --help)\n"
	      "       kite --help | --version\n"
	      "\n"
	      "Boot a virtual machine on KVM.\n"
	      "\n"
	      "  --kernel FILE        kernel: PVH ELF, Linux bzImage or vmlinux (by content)\n"
	      "  --initrd FILE        initial ramdisk\n"
	      "  --cmdline STR        kernel command line\n"
	      "  --mem SIZE           guest RAM, with K/M/G suffix (default 128M, 4M..1T)\n"
	      "  --mem-backing KIND   memfd (default), hugetlbfs, thp or file:PATH\n"
	      "  --cpus N             vCPUs (default 1; at most what KVM allows, <= 254)\n"
	      "  --serial MODE        COM1: stdio (default), file:PATH or none\n"
	      "  --boot-protocol P    auto (default: PVH if the ELF has the note, else the\n"
	      "                       Linux 64-bit entry), pvh, or linux\n"
	      "  --transport T        virtio transport: pci (default) or mmio\n"
	      "  --disk SPEC          virtio-blk: path=FILE[,ro][,id=ID][,queues=N][,direct=on]\n"
	      "  --net SPEC           virtio-net: tap=NAME[,mac=M][,queues=N][,id=ID] or\n"
	      "                       user[,hostfwd=tcp::HOSTPORT-:GUESTPORT]...[,mac=M][,id=ID]\n"
	      "  --rng                virtio-rng (entropy from the host's getrandom)\n"
	      "  --console MODE       virtio-console: stdio, socket=PATH or none (default)\n"
	      "  --restore FILE       build the VM from a snapshot (kite ctl snapshot create);\n"
	      "                       it starts paused unless --resume; no machine options\n"
	      "  --mem-file FILE      the snapshot's memory file, if it moved\n"
	      "  --resume             run the restored VM at once\n"
	      "  --diff-snapshots     with --restore: track dirty pages from the start, so\n"
	      "                       the first snapshot may be a Diff on these files\n"
	      "  --net id=ID,SPEC     with --restore/--incoming: the network device ID gets\n"
	      "                       mac=M and/or another back end (tap=NAME or user)\n"
	      "  --keep-identity      with --restore: keep the VM generation ID (for the\n"
	      "                       one copy of a VM that runs; default: a new one)\n"
	      "  --incoming URI       receive a live migration on tcp:HOST:PORT or\n"
	      "                       unix:PATH (kite ctl migrate); no machine options\n"
	      "  --api-sock PATH      serve the HTTP/JSON control API on this Unix socket;\n"
	      "                       alone (no --kernel, no --restore): wait for\n"
	      "                       PUT /snapshot/load (kite ctl snapshot load)\n"
	      "  --log-level LEVEL    error, warn (default), info, debug\n"
	      "  -h, --help           this text\n"
	      "  -V, --version        the version\n"
	      "\n"
	      "Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n"
	      "Exit status: 0 guest power-off or reset; odd: the guest's debug-exit\n"
	      "port 0x501 ((V<<1)|1); 2 usage; 4 KVM unavailable; 6 bad kernel or\n"
	      "initrd; 8 guest crashed; 10 host error; 12 stopped by a signal.\n"
	      "Environment: KITE_KVM_DEVICE overrides /dev/kvm.\n", out);
}

static int parse_serial(const char *arg, struct vm_config *cfg)
{
	if (!strcmp(arg, "stdio")) {
		cfg->serial_mode = SERIAL_STDIO;
	} else if (!strcmp(arg, "none")) {
		cfg->serial_mode = SERIAL_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		cfg->serial_mode = SERIAL_FILE;
		cfg->serial_path = arg + 5;
	} else {
		return err_set(-EINVAL, "--serial '%s': use stdio, file:PATH or none", arg);
	}
	return 0;
}

static int parse_boot_protocol(const char *arg, struct vm_config *cfg)
{
	if (!strcmp(arg, "auto"))
		cfg->boot_protocol = X86_BOOT_AUTO;
	else if (!strcmp(arg, "pvh"))
		cfg->boot_protocol = X86_BOOT_PVH;
	else if (!strcmp(arg, "linux"))
		cfg->boot_protocol = X86_BOOT_LINUX64;
	else
		return err_set(-EINVAL, "--boot-protocol '%s': use auto, pvh or linux", arg);
	return 0;
}

static int parse_mem(const char *arg, struct vm_config *cfg)
{
	int ret = parse_size(arg, &cfg->mem_size);

	if (ret)
		return err_prefix(ret, "--mem");
	if (cfg->mem_size < VM_MEM_MIN)
		return err_set(-EINVAL, "--mem %s is too small: kite needs at least 4 MiB", arg);
	if (cfg->mem_size > VM_MEM_MAX)
		return err_set(-EINVAL, "--mem %s is too large: at most 1 TiB", arg);
	if (cfg->mem_size & 0xfff)
		return err_set(-EINVAL, "--mem %s is not a multiple of 4 KiB", arg);
	return 0;
}

static int parse_cpus(const char *arg, struct vm_config *cfg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > X86_MAX_CPUS)
		return err_set(-EINVAL, "--cpus '%s' is out of range: use 1..%d", arg,
			       X86_MAX_CPUS);
	cfg->ncpus = (unsigned int)v;
	return 0;
}

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS, OPT_SERIAL,
       OPT_LOG_LEVEL, OPT_BOOT_PROTOCOL, OPT_API_SOCK, OPT_MEM_BACKING, OPT_DISK, OPT_RNG,
       OPT_TRANSPORT, OPT_CONSOLE, OPT_NET, OPT_RESTORE, OPT_MEM_FILE, OPT_RESUME,
       OPT_KEEP_IDENTITY, OPT_INCOMING, OPT_DIFF_SNAPSHOTS };

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "boot-protocol", required_argument, NULL, OPT_BOOT_PROTOCOL },
	{ "api-sock", required_argument, NULL, OPT_API_SOCK },
	{ "mem-backing", required_argument, NULL, OPT_MEM_BACKING },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "net", required_argument, NULL, OPT_NET },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "mem-file", required_argument, NULL, OPT_MEM_FILE },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "keep-identity", no_argument, NULL, OPT_KEEP_IDENTITY },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "diff-snapshots", no_argument, NULL, OPT_DIFF_SNAPSHOTS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int parse_one(int opt, const char *arg, enum cli_action *action,
		     struct vm_config *cfg)
{
	switch (opt) {
	case OPT_KERNEL: cfg->kernel_path = arg; return 0;
	case OPT_INITRD: cfg->initrd_path = arg; return 0;
	case OPT_CMDLINE: cfg->cmdline = arg; return 0;
	case OPT_MEM: return parse_mem(arg, cfg);
	case OPT_CPUS: return parse_cpus(arg, cfg);
	case OPT_SERIAL: return parse_serial(arg, cfg);
	case OPT_LOG_LEVEL: return log_level_parse(arg, &log_level);
	case OPT_BOOT_PROTOCOL: return parse_boot_protocol(arg, cfg);
	case OPT_MEM_BACKING:
		return guest_ram_parse_backing(arg, &cfg->mem_backing);
	case OPT_API_SOCK:
		if (!*arg)
			return err_set(-EINVAL, "--api-sock needs a path");
		cfg->api_sock = arg;
		return 0;
	case OPT_DISK: return devspec_parse_disk(arg, cfg);
	case OPT_RNG: cfg->rng = true; return 0;
	case OPT_TRANSPORT: return devspec_parse_transport(arg, cfg);
	case OPT_CONSOLE: return devspec_parse_console(arg, cfg);
	case OPT_RESTORE:
		if (!*arg)
			return err_set(-EINVAL, "--restore needs a snapshot file");
		cfg->restore_path = arg;
		return 0;
	case OPT_MEM_FILE:
		if (!*arg)
			return err_set(-EINVAL, "--mem-file needs a path");
		cfg->restore_mem_file = arg;
		return 0;
	case OPT_RESUME: cfg->resume = true; return 0;
	case OPT_KEEP_IDENTITY: cfg->keep_identity = true; return 0;
	case OPT_DIFF_SNAPSHOTS: cfg->diff_snapshots = true; return 0;
	case OPT_INCOMING:
		if (!*arg)
			return err_set(-EINVAL, "--incoming needs tcp:HOST:PORT or unix:PATH");
		cfg->incoming = arg;
		return mig_uri_parse(arg, &(struct mig_uri){ 0 }) ?
		       err_prefix(-EINVAL, "--incoming") : 0;
	case 'h': *action = CLI_HELP; return 0;
	case 'V': *action = CLI_VERSION; return 0;
	default: return err_set(-EINVAL, "unknown option (see kite --help)");
	}
}

/* --net options wait for the others: with --restore each changes a saved device. */
struct net_opts {
	const char *args[VM_NETS_MAX];
	unsigned int n;
	const char *first;	/* as the command line spelled it */
};

static int net_defer(struct net_opts *nets, const char *arg, const char *word)
{
	if (nets->n == VM_NETS_MAX)
		return err_set(-EINVAL, "--net: at most %d network devices", VM_NETS_MAX);
	nets->args[nets->n++] = arg;
	if (!nets->first)
		nets->first = word;
	return 0;
}

static int net_parse_all(const struct net_opts *nets, struct vm_config *cfg)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < nets->n; i++)
		ret = cfg->restore_path || cfg->incoming ?
		      devspec_parse_net_override(nets->args[i], cfg) :
					  devspec_parse_net(nets->args[i], cfg);
	return ret;
}

static void cli_defaults(struct vm_config *cfg)
{
	const char *dev = getenv("KITE_KVM_DEVICE");

	memset(cfg, 0, sizeof(*cfg));
	cfg->cmdline = "";
	cfg->mem_size = VM_MEM_DEFAULT;
	cfg->ncpus = 1;
	cfg->serial_mode = SERIAL_STDIO;
	cfg->kvm_path = dev && *dev ? dev : "/dev/kvm";
}

int cli_parse(int argc, char **argv, enum cli_action *action, struct vm_config *cfg)
{
	const char *machine_opt = NULL;	/* the first option that shapes the machine */
	char name[40] = "", machine_name[40];
	int li = -1;
	struct net_opts nets = { .n = 0 };
	int opt, ret;

	cli_defaults(cfg);
	*action = CLI_RUN;
	if (argc < 2)
		return err_set(-EINVAL, "no command given (see kite --help)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		*action = CLI_HELP;
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		*action = CLI_VERSION;
		return 0;
	}
	if (strcmp(argv[1], "run"))
		return err_set(-EINVAL, "unknown command '%s' (see kite --help)", argv[1]);
	/*
	 * "run" plays argv[0] for getopt; optind = 0 makes glibc re-initialise
	 * fully, dropping state left by an earlier call.
	 */
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hV", run_options, &li)) != -1) {
		/* The option as named, not its value (argv[optind - 1] may be that). */
		if (li >= 0)
			snprintf(name, sizeof(name), "--%s", run_options[li].name);
		li = -1;
		if (opt == '?' && optopt)
			return err_set(-EINVAL, "unknown option '-%c' (see kite --help)", optopt);
		if (opt == '?')
			return err_set(-EINVAL, "unknown option '%s' (see kite --help)",
				       argv[optind - 1]);
		if (opt == ':')
			return err_set(-EINVAL, "option '%s' needs a value", argv[optind - 1]);
		if (opt == OPT_NET) {
			ret = net_defer(&nets, optarg, "--net");
			if (ret)
				return ret;
			continue;
		}
		ret = parse_one(opt, optarg, action, cfg);
		if (ret)
			return ret;
		if (!machine_opt && opt >= OPT_KERNEL && opt != OPT_SERIAL && opt != OPT_LOG_LEVEL &&
		    opt != OPT_API_SOCK && opt < OPT_RESTORE) {
			snprintf(machine_name, sizeof(machine_name), "%s", name);
			machine_opt = machine_name;
		}
	}
	if (optind < argc)
		return err_set(-EINVAL, "unexpected argument '%s' (see kite --help)", argv[optind]);
	if (*action != CLI_RUN)
		return 0;
	ret = net_parse_all(&nets, cfg);
	if (ret)
		return ret;
	if (!cfg->restore_path && !cfg->incoming && !machine_opt)
		machine_opt = nets.first;
	if (cfg->incoming && (machine_opt || cfg->restore_path || cfg->kernel_path))
		return err_set(-EINVAL, "%s cannot be used with --incoming: the machine (memory, "
			       "vCPUs, devices) comes from the migration's source",
			       cfg->restore_path ? "--restore" : cfg->kernel_path ? "--kernel" :
			       machine_opt);
	if (cfg->incoming && (cfg->restore_mem_file || cfg->resume || cfg->keep_identity ||
			      cfg->diff_snapshots))
		return err_set(-EINVAL, "%s does not go with --incoming (the guest runs or stays "
			       "paused as on the source, with its identity)",
			       cfg->resume ? "--resume" : cfg->keep_identity ? "--keep-identity" :
			       cfg->diff_snapshots ? "--diff-snapshots" : "--mem-file");
	if (cfg->restore_path && machine_opt)
		return err_set(-EINVAL, "%s cannot be used with --restore: the machine (memory, "
			       "vCPUs, devices) comes from the snapshot", machine_opt);
	if (!cfg->restore_path && (cfg->restore_mem_file || cfg->resume))
		return err_set(-EINVAL, "%s only goes with --restore",
			       cfg->resume ? "--resume" : "--mem-file");
	if (!cfg->restore_path && cfg->keep_identity)
		return err_set(-EINVAL, "--keep-identity only goes with --restore");
	if (!cfg->restore_path && cfg->diff_snapshots)
		return err_set(-EINVAL, "--diff-snapshots only goes with --restore (a VM booted "
			       "from a kernel gets Diff snapshots after its first Full one)");
	if (cfg->incoming)
		return 0;
	if (!cfg->restore_path && !cfg->kernel_path && !cfg->api_sock)
		return err_set(-EINVAL, "--kernel is required (or --restore FILE, or --api-sock "
			       "PATH to wait for PUT /snapshot/load; see kite --help)");
	if (!cfg->restore_path && !cfg->kernel_path && machine_opt)
		return err_set(-EINVAL, "%s needs --kernel: a kite started with only --api-sock "
			       "gets its machine from the snapshot it loads", machine_opt);
	return 0;
}
