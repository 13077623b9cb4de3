/* packetmark: run a command with libpacketmark.so preloaded, so every IPv4 and
 * IPv6 socket it creates carries a packet mark (SO_MARK) from the start.
 *
 *   packetmark MARK [--] COMMAND [ARGS...]
 *
 * Exit status like env(1): 125 for packetmark's own errors, 126 when COMMAND
 * was found but could not be run, 127 when it was not found; otherwise
 * COMMAND's own status (packetmark execs it). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "log.h"
#include "mark.h"

#define EXIT_OWN 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127
#define SHIM_NAME "libpacketmark.so"

#ifndef SHIMDIR
#define SHIMDIR "/usr/lib/rtalloc"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: packetmark MARK [--] COMMAND [ARGS...]\n"
		"Runs COMMAND with every IPv4/IPv6 socket marked MARK (SO_MARK), so an\n"
		"`ip rule fwmark MARK lookup TABLE` routes it.  MARK: decimal or 0x-hex, 32 bits.\n"
		"The shim is $PACKETMARK_SHIM, else " SHIM_NAME " next to this program,\n"
		"else " SHIMDIR "/" SHIM_NAME ".\n"
		"Exit status: 125 packetmark failed, 126 COMMAND not runnable, 127 not found.\n");
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

/* Resolves cmd like execvp would, for the secure-execution check only. */
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

/* An ELF executable without PT_INTERP is static: no loader, no preload.
 * Only native-endian ELF of the two word sizes is looked at; anything else
 * (a script, a foreign binary) is left to exec. */
static bool elf_static(const char *path)
{
	union { Elf64_Ehdr e64; Elf32_Ehdr e32; } h;
	uint64_t phoff;
	unsigned phnum, phentsize, type, i;
	bool is64, interp = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.e64.e_ident, ELFMAG, SELFMAG) != 0)
		goto out;
	is64 = h.e64.e_ident[EI_CLASS] == ELFCLASS64;
	phoff = is64 ? h.e64.e_phoff : h.e32.e_phoff;
	phnum = is64 ? h.e64.e_phnum : h.e32.e_phnum;
	phentsize = is64 ? h.e64.e_phentsize : h.e32.e_phentsize;
	type = is64 ? h.e64.e_type : h.e32.e_type;
	if (phentsize < (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) ||
	    (type != ET_EXEC && type != ET_DYN))
		goto out;
	for (i = 0; i < phnum; i++) {
		uint32_t p_type;	/* first field of Elf32_Phdr and Elf64_Phdr */

		if (pread(fd, &p_type, sizeof(p_type), (off_t)(phoff + (uint64_t)i * phentsize)) !=
		    (ssize_t)sizeof(p_type))
			goto out;
		if (p_type == PT_INTERP) {
			interp = true;
			break;
		}
	}
	close(fd);
	return !interp;
out:
	close(fd);
	return false;
}

/* The loader ignores LD_PRELOAD (outside the trusted directories) for
 * set-user-ID, set-group-ID and file-capability programs, and a static
 * program has no loader at all: such a command would run unmarked, so
 * refuse it.  Returns the reason or NULL. */
static const char *secure_exec(const char *cmd)
{
	char path[PATH_MAX];
	struct stat st;

	if (!cmd_path(cmd, path, sizeof(path)) || stat(path, &st) < 0)
		return NULL;	/* execvp will report it */
	if (st.st_mode & S_ISUID)
		return "is set-user-ID";
	if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		return "is set-group-ID";
	if (getxattr(path, "security.capability", NULL, 0) > 0)
		return "has file capabilities";
	if (elf_static(path))
		return "is statically linked";
	return NULL;
}

int main(int argc, char **argv)
{
	char shim[PATH_MAX], markstr[16];
	const char *why, *old, *sec;
	char *preload = NULL;
	uint32_t mark;
	int i = 1;

	log_open("packetmark", LOG_TO_STDERR, NULL);
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_OWN;
	}
	if (mark_parse(argv[i], &mark, &why) < 0) {
		log_msg(LOG_ERR, "MARK \"%s\": %s (want decimal or 0x-hex, 0..0xffffffff)",
			argv[i], why);
		return EXIT_OWN;
	}
	i++;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc || !*argv[i]) {
		log_msg(LOG_ERR, "no COMMAND after MARK (usage: packetmark MARK [--] COMMAND [ARGS...])");
		return EXIT_OWN;
	}
	if (shim_find(shim, sizeof(shim)) < 0)
		return EXIT_OWN;
	sec = secure_exec(argv[i]);
	if (sec) {
		log_msg(LOG_ERR, "%s %s: LD_PRELOAD would not apply and its "
			"traffic would leave unmarked", argv[i], sec);
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

	execvp(argv[i], argv + i);
	log_msg(LOG_ERR, "cannot run %s: %s", argv[i], strerror(errno));
	return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}
