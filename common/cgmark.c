/* cgmark: a cgroup v2 whose BPF cgroup/sock_create program marks every inet
 * socket created in it; see cgmark.h.
 *
 * The program is six instructions, loaded with the raw bpf(2) syscall: no
 * clang, no libbpf, no object file to install.  The cgroup is made and
 * removed by a helper process, so packetmark itself can still exec COMMAND
 * (same pid, same exit status) and the cgroup still goes away when the last
 * process in it has exited, daemonized children included.  A long-lived
 * caller with an event loop (rtalloc-agent) makes it itself instead
 * (cgmark_make_at) and watches it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include "cgmark.h"

#define CG_PREFIX "packetmark-"
/* Where the helper mounts cgroup2 when this process sees none. */
#define CG_PRIVATE_MOUNT "/sys/fs/cgroup"

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* Undoes mountinfo's octal escapes (\040 for a space etc.) of the field
 * s[0..n) into out.  false when it does not fit.  "\000" stays as it is:
 * the kernel never writes it (it escapes space, tab, newline, backslash),
 * and a NUL would cut the path short, or make a root match the wrong
 * cgroup. */
static bool unescape(const char *s, size_t n, char *out, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7' &&
		    memcmp(s + i + 1, "000", 3) != 0) {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= len)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

int cgmark_mount_find(const char *mountinfo, const char *cg, char *out, size_t len,
		      const char **rel)
{
	const char *line, *next;

	for (line = mountinfo; line && *line; line = next) {
		const char *f[6], *p = line, *dash, *fstype;
		size_t flen[6], rlen;
		char root[4096];
		int i;

		next = strchr(line, '\n');
		if (next)
			next++;
		/* id parent maj:min root mountpoint options [optional...] - fstype ... */
		for (i = 0; i < 6; i++) {
			f[i] = p;
			while (*p && *p != ' ' && *p != '\n')
				p++;
			flen[i] = (size_t)(p - f[i]);
			if (*p == ' ')
				p++;
		}
		/* From the blank before a "-" right after the options; an empty
		 * line has no such blank, and at the text's start p - 1 would be
		 * before the buffer. */
		dash = p > line ? strstr(p - 1, " - ") : NULL;
		if (!dash || (next && dash > next))
			continue;
		fstype = dash + 3;
		if (strncmp(fstype, "cgroup2 ", 8) != 0)
			continue;
		if (!unescape(f[3], flen[3], root, sizeof(root)))
			continue;
		rlen = strlen(root);
		if (strcmp(root, "/") == 0)
			rlen = 0;
		else if (strncmp(cg, root, rlen) != 0 || (cg[rlen] != '/' && cg[rlen] != '\0'))
			continue;	/* our cgroup is not below this mount's root */
		if (!unescape(f[4], flen[4], out, len))
			return -ENAMETOOLONG;
		*rel = cg + rlen;
		return 0;
	}
	return -ENOENT;
}

int cgmark_path_parse(const char *proc_cgroup, char *out, size_t len)
{
	const char *line, *end;

	for (line = proc_cgroup; line && *line; line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		if (strncmp(line, "0::", 3) == 0) {
			size_t n = end ? (size_t)(end - line - 3) : strlen(line + 3);

			if (n == 0 || line[3] != '/')
				return -ENOENT;
			if (n >= len)
				return -ENAMETOOLONG;
			memcpy(out, line + 3, n);
			out[n] = '\0';
			return 0;
		}
	}
	return -ENOENT;
}

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

int cgmark_prog_load(uint32_t mark, char *why, size_t len)
{
	return cgmark_prog_load_as("packetmark", mark, why, len);
}

int cgmark_prog_load_as(const char *name, uint32_t mark, char *why, size_t len)
{
	const struct bpf_insn prog[] = {
		/* r2 = sk->mark */
		INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1,
		     offsetof(struct bpf_sock, mark), 0),
		/* already marked by a program of an inner cgroup: keep it */
		INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 2, 0),
		INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (int32_t)mark),
		/* sk->mark = r2 */
		INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_2,
		     offsetof(struct bpf_sock, mark), 0),
		/* 1: let the socket be created */
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	static char log[4096];
	union bpf_attr attr;
	int fd, err;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_SOCK;
	attr.expected_attach_type = BPF_CGROUP_INET_SOCK_CREATE;
	attr.insns = (uintptr_t)prog;
	attr.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	attr.license = (uintptr_t)"Dual MIT/GPL";
	snprintf(attr.prog_name, sizeof(attr.prog_name), "%s", name);
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd >= 0)
		return fd;
	err = errno;
	if (err == EACCES || err == EINVAL) {
		/* The verifier refused it: ask again for its reason. */
		log[0] = '\0';
		attr.log_level = 1;
		attr.log_buf = (uintptr_t)log;
		attr.log_size = sizeof(log);
		if (syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)) >= 0)
			log[0] = '\0';	/* cannot happen; no reason to give */
		for (char *p = log; *p; p++)
			if (*p == '\n')
				*p = ' ';
	}
	say(why, len, "bpf(BPF_PROG_LOAD cgroup/sock_create): %s%s%s%s", strerror(err),
	    err == EPERM ? " (needs root: CAP_BPF and CAP_NET_ADMIN)" : "",
	    log[0] ? ": " : "", log);
	return -err;
}

/* Reads a small file (procfs, cgroupfs) whole into buf. */
static int slurp(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto cleanup;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
cleanup:
	close(fd);
	return r;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		r = -errno;
	close(fd);
	return r;
}

/* Removes the packetmark-PID cgroups below dir whose PID is gone: a helper
 * killed with SIGKILL (a test harness's `kill -9 $(ip netns pids NS)`, an
 * OOM kill) cannot clean up after itself, so the next packetmark does.  Only
 * empty cgroups can be removed at all; a PID that is alive (in our pid
 * namespace) is skipped, so a packetmark still setting its cgroup up is not
 * disturbed.  Stale nests (nested packetmarks) go depth first. */
static void sweep_at(int dfd, int depth)
{
	struct dirent *e;
	int fd = depth > 8 ? -1 : openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		char *end;
		long pid;
		int sub;

		if (strncmp(e->d_name, CG_PREFIX, sizeof(CG_PREFIX) - 1) != 0)
			continue;
		pid = strtol(e->d_name + sizeof(CG_PREFIX) - 1, &end, 10);
		if (*end || pid <= 0 || pid > INT32_MAX || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0) {
			sweep_at(sub, depth + 1);
			close(sub);
		}
		unlinkat(dfd, e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

static void sweep(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		sweep_at(fd, 0);
		close(fd);
	}
}

/* Attaches prog to the cgroup open at dfd (named dir in why). */
static int attach(int dfd, int prog, const char *dir, char *why, size_t len)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dfd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_INET_SOCK_CREATE;
	/* Next to whatever an outer cgroup (systemd, another packetmark) has. */
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0) {
		int e = errno;

		say(why, len, "bpf(BPF_PROG_ATTACH) to %s: %s", dir, strerror(e));
		return -e;
	}
	return 0;
}

/* What the helper sets up; dir is the new cgroup. */
struct cgsetup {
	pid_t target;
	uint32_t mark;
	char dir[4096];
};

/* The helper's half: load, find or mount cgroup2, mkdir, attach, move the
 * target in.  On failure nothing is left and why says what failed. */
static int setup(struct cgsetup *s, char *why, size_t len)
{
	static char text[65536];
	char path[64], cg[2048], mnt[2048], procs[4200];
	const char *rel = "";
	int prog, dfd = -1, r;

	prog = cgmark_prog_load(s->mark, why, len);
	if (prog < 0)
		return prog;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)s->target);
	r = slurp(path, text, sizeof(text));
	if (r == 0)
		r = cgmark_path_parse(text, cg, sizeof(cg));
	if (r < 0) {
		say(why, len, "%s: no cgroup v2 path (%s)", path, strerror(-r));
		goto cleanup;
	}
	r = slurp("/proc/self/mountinfo", text, sizeof(text));
	if (r == 0)
		r = cgmark_mount_find(text, cg, mnt, sizeof(mnt), &rel);
	if (r == -ENOENT) {
		/* No cgroup2 in this mount namespace (ip netns exec mounts a
		 * fresh /sys): mount one where only this helper sees it. */
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("cgroup2", CG_PRIVATE_MOUNT, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) < 0) {
			r = -errno;
			say(why, len, "no cgroup2 mount in /proc/self/mountinfo, and cannot "
			    "mount one on " CG_PRIVATE_MOUNT ": %s", strerror(errno));
			goto cleanup;
		}
		snprintf(mnt, sizeof(mnt), "%s", CG_PRIVATE_MOUNT);
		rel = cg;
	} else if (r < 0) {
		say(why, len, "/proc/self/mountinfo: %s", strerror(-r));
		goto cleanup;
	}
	if (strcmp(rel, "/") == 0)
		rel = "";
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s%s/" CG_PREFIX "%d", mnt, rel,
			     (int)s->target) >= sizeof(s->dir)) {
		r = -ENAMETOOLONG;
		say(why, len, "cgroup path too long");
		goto cleanup;
	}
	snprintf(procs, sizeof(procs), "%s%s", mnt, rel);
	sweep(procs);
	/* A cgroup of a helper that was killed, left by an earlier process
	 * with this pid: empty, since that process is gone. */
	if (mkdir(s->dir, 0755) < 0 && (errno != EEXIST || rmdir(s->dir) < 0 ||
					 mkdir(s->dir, 0755) < 0)) {
		r = -errno;
		say(why, len, "mkdir %s: %s", s->dir, strerror(errno));
		goto cleanup;
	}
	dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		say(why, len, "open %s: %s", s->dir, strerror(errno));
		goto undo;
	}
	r = attach(dfd, prog, s->dir, why, len);
	if (r < 0)
		goto undo;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", s->dir);
	snprintf(path, sizeof(path), "%d", (int)s->target);
	r = write_str(procs, path);
	if (r < 0) {
		say(why, len, "moving pid %d into %s: %s", (int)s->target, s->dir, strerror(-r));
		goto undo;
	}
	r = 0;
	goto cleanup;
undo:
	rmdir(s->dir);
cleanup:
	if (dfd >= 0)
		close(dfd);
	close(prog);
	return r;
}

/* Waits until the cgroup has no process left; cgroup.events changes (and
 * wakes poll with POLLPRI) when "populated" does. */
static void wait_empty(const char *dir)
{
	char path[4200], buf[256];
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLPRI };
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0)
			break;
		buf[n] = '\0';
		if (strstr(buf, "populated 0"))
			break;
		/* The timeout only guards against a missed notification. */
		if (poll(&p, 1, 60000) < 0 && errno != EINTR)
			break;
	}
	close(fd);
}

static void close_others(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		syscall(SYS_close_range, 3U, (unsigned)lo - 1, 0U);
	if (hi > lo + 1)
		syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0U);
	syscall(SYS_close_range, (unsigned)hi + 1, ~0U, 0U);
}

/* _exit(2) without libc's: under ASan, _exit() runs LeakSanitizer, which in
 * a forked child of packetmark looks for the parent's thread and complains
 * (and the parent's memory is no leak of ours). */
static void quit(int status) __attribute__((noreturn));
static void quit(int status)
{
	for (;;)
		syscall(SYS_exit_group, status);
}

static void helper(struct cgsetup *s, int rep, int hold) __attribute__((noreturn));
static void helper(struct cgsetup *s, int rep, int hold)
{
	char msg[1024], why[960];
	ssize_t n;
	int null, r, tries;

	/* Not in the caller's process group or terminal (a ^C there must not
	 * kill the one process that cleans up), and holding none of its fds
	 * (a $(...) reading the command's output would wait for us). */
	setsid();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	close_others(rep, hold);
	/* It ends by itself once the cgroup is empty; a stop that signals every
	 * process of a service at once must not leave the cgroup behind. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "packetmark-cg");
	r = setup(s, why, sizeof(why));
	if (r < 0)
		snprintf(msg, sizeof(msg), "E%d %s", -r, why);
	else
		snprintf(msg, sizeof(msg), "OK");
	/* A target that died meanwhile cannot hear it; its cgroup, empty
	 * then, is still ours to remove below. */
	if (write(rep, msg, strlen(msg)) < 0) {
		/* nothing to add */
	}
	if (r < 0)
		quit(1);
	close(rep);
	/* EOF once the target has exec'd (the write end is close-on-exec)
	 * or exited, or (cgmark_attach's caller's socket) its peer hung up. */
	while ((n = read(hold, msg, sizeof(msg))) != 0)
		if (n < 0 && errno != EINTR)
			break;
	for (tries = 0; tries < 100; tries++) {
		wait_empty(s->dir);
		if (rmdir(s->dir) == 0 || errno == ENOENT)
			break;
		usleep(100000);
	}
	quit(0);
}

/* Moves a pipe end above stdio: with fd 0-2 closed by our caller, pipe2()
 * hands those out, and the helper's dup2() of /dev/null would eat them. */
static int above_stdio(int fd)
{
	int n;

	if (fd > 2)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return n;
}

int cgmark_attach(pid_t target, uint32_t mark, int hold, char *why, size_t len)
{
	struct cgsetup s = { .target = target, .mark = mark };
	int rep[2] = { -1, -1 }, status, r;
	char msg[1024];
	size_t got = 0;
	ssize_t n;
	pid_t c1;

	if (pipe2(rep, O_CLOEXEC) < 0) {
		r = -errno;
		say(why, len, "pipe: %s", strerror(errno));
		goto cleanup;
	}
	for (int i = 0; i < 2; i++) {
		rep[i] = above_stdio(rep[i]);
		if (rep[i] < 0) {
			r = -errno;
			say(why, len, "fcntl(F_DUPFD): %s", strerror(errno));
			goto cleanup;
		}
	}
	/* Twice forked: the helper is nobody's child once we exec, so COMMAND
	 * never sees (nor has to reap) a process it did not start. */
	c1 = fork();
	if (c1 < 0) {
		r = -errno;
		say(why, len, "fork: %s", strerror(errno));
		goto cleanup;
	}
	if (c1 == 0) {
		pid_t h = fork();

		if (h == 0) {
			close(rep[0]);
			helper(&s, rep[1], hold);
		}
		quit(h < 0 ? 1 : 0);
	}
	close(rep[1]);
	rep[1] = -1;
	while (waitpid(c1, &status, 0) < 0 && errno == EINTR)
		;
	while (got + 1 < sizeof(msg) && (n = read(rep[0], msg + got, sizeof(msg) - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	msg[got] = '\0';
	if (strcmp(msg, "OK") == 0) {
		r = 0;
		goto cleanup;
	}
	if (msg[0] == 'E') {
		char *sp = strchr(msg, ' ');

		long e = strtol(msg + 1, NULL, 10);

		r = e > 0 && e < 4096 ? -(int)e : -EIO;
		say(why, len, "%s", sp ? sp + 1 : "failed");
	} else {
		r = -ECHILD;
		say(why, len, "the cgroup helper exited without a word");
	}
cleanup:
	for (int i = 0; i < 2; i++)
		if (rep[i] >= 0)
			close(rep[i]);
	return r;
}

int cgmark_enter(uint32_t mark, char *why, size_t len)
{
	int hold[2] = { -1, -1 }, r;

	if (pipe2(hold, O_CLOEXEC) < 0) {
		say(why, len, "pipe: %s", strerror(errno));
		return -errno;
	}
	for (int i = 0; i < 2; i++) {
		hold[i] = above_stdio(hold[i]);
		if (hold[i] < 0) {
			r = -errno;
			say(why, len, "fcntl(F_DUPFD): %s", strerror(errno));
			goto cleanup;
		}
	}
	r = cgmark_attach(getpid(), mark, hold[0], why, len);
	/* hold[1] stays open until exec closes it: the helper's cue. */
	if (r == 0)
		hold[1] = -1;
cleanup:
	for (int i = 0; i < 2; i++)
		if (hold[i] >= 0)
			close(hold[i]);
	return r;
}

/* Detaches the programs named name from the cgroup open at dfd. */
static void detach_named(int dfd, const char *name)
{
	uint32_t ids[64] = { 0 };
	union bpf_attr q;

	memset(&q, 0, sizeof(q));
	q.query.target_fd = (uint32_t)dfd;
	q.query.attach_type = BPF_CGROUP_INET_SOCK_CREATE;
	q.query.prog_ids = (uintptr_t)ids;
	q.query.prog_cnt = sizeof(ids) / sizeof(ids[0]);
	if (syscall(SYS_bpf, BPF_PROG_QUERY, &q, sizeof(q)) < 0)
		return;
	for (uint32_t i = 0; i < q.query.prog_cnt && i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct bpf_prog_info info;
		union bpf_attr a;
		int fd;

		memset(&a, 0, sizeof(a));
		a.prog_id = ids[i];
		fd = (int)syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &a, sizeof(a));
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = (uint32_t)fd;
		a.info.info_len = sizeof(info);
		a.info.info = (uintptr_t)&info;
		if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)) == 0 &&
		    !strncmp(info.name, name, sizeof(info.name))) {
			memset(&a, 0, sizeof(a));
			a.target_fd = (uint32_t)dfd;
			a.attach_bpf_fd = (uint32_t)fd;
			a.attach_type = BPF_CGROUP_INET_SOCK_CREATE;
			syscall(SYS_bpf, BPF_PROG_DETACH, &a, sizeof(a));
		}
		close(fd);
	}
}

int cgmark_bind(const char *dir, const char *name, uint32_t mark, char *why, size_t len)
{
	int dfd, prog = -1, r = 0;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		say(why, len, "%s: %s", dir, strerror(errno));
		return r;
	}
	detach_named(dfd, name);
	if (!mark)
		goto cleanup;
	prog = cgmark_prog_load_as(name, mark, why, len);
	if (prog < 0) {
		r = prog;
		goto cleanup;
	}
	r = attach(dfd, prog, dir, why, len);
cleanup:
	if (prog >= 0)
		close(prog);
	close(dfd);
	return r;
}

int cgmark_root(char *out, size_t len)
{
	static char text[65536];
	const char *rel;
	int r = slurp("/proc/self/mountinfo", text, sizeof(text));

	if (r == 0)
		r = cgmark_mount_find(text, "/", out, len, &rel);
	return r;
}

int cgmark_root_open(char *why, size_t len)
{
	char mnt[2048];
	int fs, fd;

	if (cgmark_root(mnt, sizeof(mnt)) == 0 && (fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		return fd;
	/* None here (ip netns exec mounts a fresh /sys): a mount of our own
	 * that no mount namespace holds, as the helper's is in its own. */
	fs = fsopen("cgroup2", FSOPEN_CLOEXEC);
	if (fs < 0) {
		fd = -errno;
		say(why, len, "no cgroup2 mount here, and fsopen(cgroup2): %s", strerror(errno));
		return fd;
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    (fd = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) < 0) {
		fd = -errno;
		say(why, len, "no cgroup2 mount here, and mounting one: %s", strerror(errno));
	}
	close(fs);
	return fd;
}

/* The program for mark, loaded once: the last few stay loaded. */
static int prog_cached(uint32_t mark, char *why, size_t len)
{
	static struct {
		uint32_t mark;
		int fd;
		bool used;
	} cache[8];
	static unsigned next;
	unsigned i;
	int fd;

	for (i = 0; i < sizeof(cache) / sizeof(cache[0]); i++)
		if (cache[i].used && cache[i].mark == mark)
			return cache[i].fd;
	fd = cgmark_prog_load(mark, why, len);
	if (fd < 0)
		return fd;
	i = next++ % (sizeof(cache) / sizeof(cache[0]));
	if (cache[i].used)
		close(cache[i].fd);
	cache[i].mark = mark;
	cache[i].fd = fd;
	cache[i].used = true;
	return fd;
}

int cgmark_parent_at(int root, pid_t target, char *why, size_t len)
{
	char path[64], text[4096] = "", cgp[2048];
	int fd, r;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)target);
	r = slurp(path, text, sizeof(text));
	if (r == 0)
		r = cgmark_path_parse(text, cgp, sizeof(cgp));
	if (r != 0) {
		say(why, len, "%s: no cgroup v2 path (%s)", path, strerror(-r));
		return r < 0 ? r : -EIO;
	}
	/* The kernel's path: no "..", no symbolic links. */
	fd = openat(root, cgp[1] ? cgp + 1 : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		say(why, len, "cgroup %s: %s", cgp, strerror(errno));
		return r;
	}
	return fd;
}

int cgmark_cg_enter(const struct cgmark_cg *cg, pid_t target)
{
	char pid[16];
	int fd = openat(cg->dir, "cgroup.procs", O_WRONLY | O_CLOEXEC), r;

	snprintf(pid, sizeof(pid), "%d", (int)target);
	r = fd < 0 ? -errno : write(fd, pid, strlen(pid)) == (ssize_t)strlen(pid) ? 0 : -errno;
	if (fd >= 0)
		close(fd);
	return r;
}

int cgmark_make_at(int parent, pid_t target, uint32_t mark, struct cgmark_cg *cg, char *why, size_t len)
{
	struct stat st;
	int prog, r;

	cg->parent = parent;
	cg->dir = cg->events = -1;
	cg->mark = mark;
	cg->parent_ino = fstat(parent, &st) == 0 ? st.st_ino : 0;
	snprintf(cg->name, sizeof(cg->name), CG_PREFIX "%d", (int)target);
	prog = prog_cached(mark, why, len);
	if (prog < 0) {
		r = prog;
		goto fail;
	}
	sweep_at(cg->parent, 0);
	if (mkdirat(cg->parent, cg->name, 0755) < 0 &&
	    (errno != EEXIST || unlinkat(cg->parent, cg->name, AT_REMOVEDIR) < 0 ||
	     mkdirat(cg->parent, cg->name, 0755) < 0)) {
		r = -errno;
		say(why, len, "mkdir %s: %s", cg->name, strerror(errno));
		goto fail;
	}
	cg->dir = openat(cg->parent, cg->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cg->dir < 0) {
		r = -errno;
		say(why, len, "open %s: %s", cg->name, strerror(errno));
		goto undo;
	}
	r = attach(cg->dir, prog, cg->name, why, len);
	if (r < 0)
		goto undo;
	r = cgmark_cg_enter(cg, target);
	if (r < 0) {
		say(why, len, "moving pid %d into %s: %s", (int)target, cg->name, strerror(-r));
		goto undo;
	}
	cg->events = openat(cg->dir, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (cg->events < 0) {
		/* In it, marked: removed by a later sweep once empty. */
		say(why, len, "open %s/cgroup.events: %s", cg->name, strerror(errno));
		cgmark_cg_close(cg);
		return 1;
	}
	return 0;
undo:
	unlinkat(cg->parent, cg->name, AT_REMOVEDIR);
fail:
	cgmark_cg_close(cg);
	return r;
}

int cgmark_cg_populated(const struct cgmark_cg *cg)
{
	char buf[256];
	ssize_t n = pread(cg->events, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return !strstr(buf, "populated 0");
}

int cgmark_cg_remove(const struct cgmark_cg *cg)
{
	return unlinkat(cg->parent, cg->name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

void cgmark_cg_close(struct cgmark_cg *cg)
{
	if (cg->events >= 0)
		close(cg->events);
	if (cg->dir >= 0)
		close(cg->dir);
	if (cg->parent >= 0)
		close(cg->parent);
	cg->events = cg->dir = cg->parent = -1;
}
