/* packetmark: run a command with libpacketmark.so preloaded, so every IPv4 and
 * IPv6 socket it creates carries a packet mark (SO_MARK) from the start.
 *
 *   packetmark [-d SOCKET] [--cgroup|--preload] MARK [--] COMMAND [ARGS...]
 *
 * With --cgroup (and by default, where it works) COMMAND runs in a cgroup
 * whose BPF program marks every socket in the kernel instead (cgmark.c).
 *
 * Exit status like env(1): 125 for packetmark's own errors (64, EX_USAGE,
 * for bad usage), 126 when COMMAND
 * was found but could not be run, 127 when it was not found; otherwise
 * COMMAND's own status (packetmark execs it). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cmdline.h"
#include "log.h"
#include "cgmark.h"
#include "lease.h"
#include "mark.h"
#include "shebang.h"

#define EXIT_OWN 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127
#define SHIM_NAME "libpacketmark.so"
#define POOL_ASK_MS 500	/* -d: rtallocd says its mark_mask */

#ifndef SHIMDIR
#define SHIMDIR "/usr/lib/rtalloc"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: packetmark [-d SOCKET] [--cgroup|--preload] MARK [--] COMMAND [ARGS...]\n"
		"Runs COMMAND with every IPv4/IPv6 socket marked MARK (SO_MARK), so an\n"
		"`ip rule fwmark MARK lookup TABLE` routes it.  MARK: decimal or 0x-hex, 32 bits.\n"
		"--cgroup: a cgroup whose BPF program marks every socket (needs root);\n"
		"--preload: only the LD_PRELOAD shim; default: the cgroup where it can be set up.\n"
		"  -d, --socket SOCKET  ask rtallocd at SOCKET for its mark_mask and warn once\n"
		"              when MARK has bits in it (the marks of rtalloc exec and bindings)\n"
		"The shim is $PACKETMARK_SHIM, else " SHIM_NAME " next to this program,\n"
		"else " SHIMDIR "/" SHIM_NAME ".\n"
		"  -h, --help  this help\n"
		"  --version   the version\n"
		"Exit status: 64 bad usage, 125 packetmark failed, 126 COMMAND not runnable,\n"
		"127 not found.\n");
}

/* The loader splits LD_PRELOAD at ':' and ' ', and resolves relative names
 * against the cwd of every later exec: only a plain absolute path is safe. */
static int shim_check(const char *path, char *out, size_t len, const char **why)
{
	if (!realpath(path, out)) {
		*why = strerror(errno);
		return -errno;
	}
	if (strlen(out) >= len) {
		*why = "path too long";
		return -ENAMETOOLONG;
	}
	if (strpbrk(out, ": \t\n")) {
		*why = "path contains ':' or white space, which LD_PRELOAD cannot carry";
		return -EINVAL;
	}
	if (access(out, R_OK) < 0) {
		*why = strerror(errno);
		return -errno;
	}
	return 0;
}

/* Finds the shim; 0 with its absolute path in out, or -errno after saying why. */
static int shim_find(char *out, size_t len)
{
	char self[PATH_MAX], cand[PATH_MAX + sizeof(SHIM_NAME) + 1];
	const char *env = getenv("PACKETMARK_SHIM"), *why = NULL;
	ssize_t n;
	char *slash;
	int r;

	if (env && *env) {
		/* An explicit choice that is wrong is an error, not a hint. */
		r = shim_check(env, out, len, &why);
		if (r < 0)
			log_msg(LOG_ERR, "PACKETMARK_SHIM=%s: %s", env, why);
		return r;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cand, sizeof(cand), "%s/%s", self, SHIM_NAME);
			if (shim_check(cand, out, len, &why) == 0)
				return 0;
		}
	}
	snprintf(cand, sizeof(cand), "%s/%s", SHIMDIR, SHIM_NAME);
	r = shim_check(cand, out, len, &why);
	if (r < 0)
		log_msg(LOG_ERR, "cannot find %s next to this program nor as %s (%s); "
			"set PACKETMARK_SHIM", SHIM_NAME, cand, why);
	return r;
}

/* Resolves cmd like execvp would, for the checks only. */
static bool cmd_path(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return access(out, X_OK) == 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = end + 1) {
		end = strchrnul(p, ':');
		snprintf(out, len, "%.*s%s%s", (int)(end - p), p, end == p ? "" : "/", cmd);
		if (access(out, X_OK) == 0)
			return true;
		if (!*end)
			return false;
	}
}

/* The machines this kernel runs without an emulator; 0: unknown, not judged. */
#if defined(__x86_64__)
#define NATIVE_EM EM_X86_64
#define COMPAT_EM EM_386
#elif defined(__aarch64__)
#define NATIVE_EM EM_AARCH64
#define COMPAT_EM EM_ARM
#elif defined(__i386__)
#define NATIVE_EM EM_386
#elif defined(__arm__)
#define NATIVE_EM EM_ARM
#elif defined(__riscv)
#define NATIVE_EM EM_RISCV
#else
#define NATIVE_EM 0
#endif
#ifndef COMPAT_EM
#define COMPAT_EM NATIVE_EM
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif

enum elf_kind { ELF_DYNAMIC, ELF_STATIC, ELF_FOREIGN, ELF_BAD };

/* An ELF executable without PT_INTERP is static: no loader, no preload.
 * One for another machine or byte order runs through binfmt_misc, whose
 * emulator (qemu-user-static) is static itself. */
static enum elf_kind elf_kind(int fd, const unsigned char *buf, size_t n)
{
	union { Elf64_Ehdr e64; Elf32_Ehdr e32; } h;
	uint64_t phoff;
	unsigned phnum, phentsize, type, machine, i;
	bool is64;

	if (n < sizeof(h))
		return ELF_BAD;
	memcpy(&h, buf, sizeof(h));
	is64 = h.e64.e_ident[EI_CLASS] == ELFCLASS64;
	if (!is64 && h.e32.e_ident[EI_CLASS] != ELFCLASS32)
		return ELF_BAD;
	machine = is64 ? h.e64.e_machine : h.e32.e_machine;
	if (h.e64.e_ident[EI_DATA] != NATIVE_DATA ||
	    (NATIVE_EM && machine != NATIVE_EM && machine != COMPAT_EM))
		return ELF_FOREIGN;
	phoff = is64 ? h.e64.e_phoff : h.e32.e_phoff;
	phnum = is64 ? h.e64.e_phnum : h.e32.e_phnum;
	phentsize = is64 ? h.e64.e_phentsize : h.e32.e_phentsize;
	type = is64 ? h.e64.e_type : h.e32.e_type;
	if (phentsize < (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) ||
	    (type != ET_EXEC && type != ET_DYN))
		return ELF_BAD;
	for (i = 0; i < phnum; i++) {
		uint32_t p_type;	/* first field of Elf32_Phdr and Elf64_Phdr */

		if (pread(fd, &p_type, sizeof(p_type), (off_t)(phoff + (uint64_t)i * phentsize)) !=
		    (ssize_t)sizeof(p_type))
			return ELF_BAD;
		if (p_type == PT_INTERP)
			return ELF_DYNAMIC;
	}
	return ELF_STATIC;
}

/* Whether binfmt_misc may hand a non-ELF, non-#! file to a handler of its
 * own (anything registered besides its control files). */
static bool binfmt_misc_active(void)
{
	const char *dir = "/proc/sys/fs/binfmt_misc";
	char status[16] = "";
	struct dirent *e;
	bool any = false;
	FILE *f;
	DIR *d;

	f = fopen("/proc/sys/fs/binfmt_misc/status", "re");
	if (!f)
		return false;
	if (!fgets(status, sizeof(status), f))
		status[0] = '\0';
	fclose(f);
	if (strncmp(status, "enabled", 7) != 0 || !(d = opendir(dir)))
		return false;
	while (!any && (e = readdir(d)))
		any = e->d_name[0] != '.' && strcmp(e->d_name, "register") != 0 &&
		      strcmp(e->d_name, "status") != 0;
	closedir(d);
	return any;
}

/* snprintf for messages and path chains that may be cut short: a cut
 * reason is still a reason (and gcc need not warn about it). */
static void fmt(char *out, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *out, size_t len, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(out, len, f, ap);
	va_end(ap);
}

/* Scripts may name scripts: the kernel allows a few levels (then ELOOP). */
#define MAX_INTERP_DEPTH 5

/* Whether LD_PRELOAD reaches what the kernel runs for path: follows "#!"
 * interpreters (and "#!/usr/bin/env NAME") to the ELF program at the end and
 * checks that, since the loader ignores LD_PRELOAD for set-user-ID,
 * set-group-ID and file-capability programs and a static one has no loader.
 * chain: how we got here ("script -> interpreter").  0, or -1 with the
 * reason in why; what cannot be found is left to exec to report. */
static int preload_check(const char *path, const char *chain, int depth, char *why, size_t len)
{
	unsigned char buf[SHEBANG_BUF];
	char sub[3 * PATH_MAX], next[PATH_MAX];
	const char *bad = NULL, *target;
	struct shebang sb;
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	fmt(sub, sizeof(sub), "%s%s%s", chain, *chain ? " -> " : "", path);
	if (depth > MAX_INTERP_DEPTH) {
		fmt(why, len, "%s: more than %d nested #! interpreters", sub, MAX_INTERP_DEPTH);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;	/* exec says so */
		/* Execute-only (0711): the kernel can run it, we cannot look.
		 * Guessing "dynamic" is how a static one ran unmarked. */
		fmt(why, len, "%s cannot be read to check that LD_PRELOAD applies (%s%s)", sub,
			 strerror(errno), errno == EACCES ? "; execute-only?" : "");
		return -1;
	}
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		fmt(why, len, "%s cannot be read to check that LD_PRELOAD applies (%s)",
			 sub, strerror(errno));
		r = -1;
		goto cleanup;
	}
	if (n >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0) {
		if (fstat(fd, &st) == 0 && (st.st_mode & S_ISUID))
			bad = "is set-user-ID";
		else if (fstat(fd, &st) == 0 &&
			 (st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
			bad = "is set-group-ID";
		else if (fgetxattr(fd, "security.capability", NULL, 0) > 0)
			bad = "has file capabilities";
		else
			switch (elf_kind(fd, buf, (size_t)n)) {
			case ELF_STATIC:
				bad = "is statically linked";
				break;
			case ELF_FOREIGN:
				bad = "is an ELF program for another machine (binfmt_misc would run it "
				      "through an emulator)";
				break;
			default:
				break;	/* dynamic; or exec will refuse it */
			}
		if (bad) {
			fmt(why, len, "%s %s", sub, bad);
			r = -1;
		}
		goto cleanup;
	}
	switch (shebang_parse((const char *)buf, (size_t)n, &sb, NULL)) {
	case 1:
		r = preload_check(sb.interp, sub, depth + 1, why, len);
		target = shebang_env_target(&sb);
		if (r == 0 && target && cmd_path(target, next, sizeof(next))) {
			/* env execs it: "script -> /usr/bin/env -> NAME's path" */
			char via[3 * PATH_MAX];

			fmt(via, sizeof(via), "%s -> %s", sub, sb.interp);
			r = preload_check(next, via, depth + 2, why, len);
		}
		goto cleanup;
	case 0:
		if (binfmt_misc_active()) {
			fmt(why, len, "%s is neither ELF nor a #! script, and binfmt_misc "
				 "handlers are registered that might run it", sub);
			r = -1;
			goto cleanup;
		}
		break;
	default:
		break;
	}
	/* The kernel refuses it (ENOEXEC) and execvp(3) runs it with /bin/sh. */
	if (depth == 0)
		r = preload_check("/bin/sh", sub, depth + 1, why, len);
cleanup:
	close(fd);
	return r;
}

/* How the mark gets onto the sockets (docs/packetmark.md, "Mechanisms"). */
enum pm_mode {
	MODE_AUTO,	/* cgroup where it can be set up, else the preload */
	MODE_CGROUP,	/* cgroup or nothing */
	MODE_PRELOAD,	/* LD_PRELOAD only */
};

static const struct {
	const char *flag;
	enum pm_mode mode;
} modes[] = {
	{ "--cgroup", MODE_CGROUP },
	{ "--preload", MODE_PRELOAD },
};

/* Sets up LD_PRELOAD and LIBPACKETMARK_MARK; 0 or EXIT_OWN after saying why. */
static int preload_env(const char *cmd, uint32_t mark, const char *nocg)
{
	char shim[PATH_MAX], markstr[16], path[PATH_MAX], why[3 * PATH_MAX];
	const char *old;
	char *preload = NULL;

	if (shim_find(shim, sizeof(shim)) < 0)
		return EXIT_OWN;
	if (cmd_path(cmd, path, sizeof(path)) && preload_check(path, "", 0, why, sizeof(why)) < 0) {
		log_msg(LOG_ERR, "%s: LD_PRELOAD would not apply and its traffic would leave "
			"unmarked%s%s%s", why, nocg ? "; no cgroup either (" : "",
			nocg ? nocg : "", nocg ? ")" : "");
		return EXIT_OWN;
	}
	old = getenv("LD_PRELOAD");
	if (old && *old) {
		if (asprintf(&preload, "%s:%s", shim, old) < 0)
			preload = NULL;
	} else {
		preload = strdup(shim);
	}
	snprintf(markstr, sizeof(markstr), "%#x", (unsigned)mark);
	if (!preload || setenv("LD_PRELOAD", preload, 1) < 0 ||
	    setenv("LIBPACKETMARK_MARK", markstr, 1) < 0) {
		log_msg(LOG_ERR, "cannot set up the environment: %s", strerror(errno));
		free(preload);
		return EXIT_OWN;
	}
	free(preload);
	return 0;
}

/* -d: one warning line when mark has bits under the mask rtallocd leases
 * marks from; nothing when it cannot tell. */
static void pool_check(const char *sockname, uint32_t mark)
{
	uint32_t mask = 0;
	char err[256];

	if (lease_mark_mask(sockname, POOL_ASK_MS, &mask, err, sizeof(err)) < 0) {
		log_msg(LOG_WARNING, "-d %s: cannot learn rtallocd's mark_mask: %s", sockname, err);
		return;
	}
	if (mark & mask)
		log_msg(LOG_WARNING, "mark 0x%x overlaps rtallocd's mark_mask 0x%x: it may be the mark of "
			"an rtalloc exec or a binding (choose one outside the mask)", mark, mask);
}

int main(int argc, char **argv)
{
	enum pm_mode mode = MODE_AUTO;
	const char *sockname = NULL;
	char nocg[1024];
	const char *why;
	uint32_t mark;
	size_t m;
	int i = 1, r;

	log_open("packetmark", LOG_TO_STDERR, NULL);
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--version"))
		return cmdline_version("packetmark");
	/* Options come before MARK; a MARK never starts with "--". */
	for (; i < argc && ((!strncmp(argv[i], "--", 2) && argv[i][2]) || !strcmp(argv[i], "-d")); i++) {
		if (!strcmp(argv[i], "-d") || !strcmp(argv[i], "--socket")) {
			if (++i >= argc || !*argv[i]) {
				log_msg(LOG_ERR, "%s: SOCKET missing", argv[i - 1]);
				return CMDLINE_EX_USAGE;
			}
			sockname = argv[i];
			continue;
		}
		for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
			if (!strcmp(argv[i], modes[m].flag))
				break;
		if (m == sizeof(modes) / sizeof(modes[0])) {
			log_msg(LOG_ERR, "unknown option %s (want -d, --cgroup or --preload before MARK)",
				argv[i]);
			return CMDLINE_EX_USAGE;
		}
		mode = modes[m].mode;
	}
	if (i >= argc) {
		usage(stderr);
		return CMDLINE_EX_USAGE;
	}
	if (mark_parse(argv[i], &mark, &why) < 0) {
		log_msg(LOG_ERR, "MARK \"%s\": %s (want decimal or 0x-hex, 0..0xffffffff)",
			argv[i], why);
		return CMDLINE_EX_USAGE;
	}
	i++;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc || !*argv[i]) {
		log_msg(LOG_ERR, "no COMMAND after MARK (usage: packetmark [--cgroup|--preload] "
			"MARK [--] COMMAND [ARGS...])");
		return CMDLINE_EX_USAGE;
	}

	if (sockname)
		pool_check(sockname, mark);
	r = -1;
	if (mode != MODE_PRELOAD) {
		r = cgmark_enter(mark, nocg, sizeof(nocg));
		if (r < 0 && mode == MODE_CGROUP) {
			log_msg(LOG_ERR, "--cgroup: %s", nocg);
			return EXIT_OWN;
		}
	}
	/* In the cgroup the kernel marks every socket: nothing to preload, and
	 * a shim inherited from an outer `packetmark --preload` must not put
	 * its mark over ours (the innermost packetmark wins). */
	if (r == 0)
		unsetenv("LIBPACKETMARK_MARK");
	else if (preload_env(argv[i], mark, mode == MODE_AUTO ? nocg : NULL) != 0)
		return EXIT_OWN;

	execvp(argv[i], argv + i);
	log_msg(LOG_ERR, "cannot run %s: %s", argv[i], strerror(errno));
	return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}
