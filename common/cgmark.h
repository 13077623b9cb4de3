/* cgmark: mark every socket of a command through the kernel, not the loader.
 *
 * A cgroup v2 with a BPF_PROG_TYPE_CGROUP_SOCK program attached at
 * BPF_CGROUP_INET_SOCK_CREATE sets sk_mark on every AF_INET/AF_INET6 socket
 * any process in it creates: static binaries, io_uring's IORING_OP_SOCKET and
 * raw socket(2) syscalls included, which LD_PRELOAD never sees.
 *
 * No logging and no allocation beyond the stack: failures come back as
 * -errno with a one-line reason in the caller's buffer. */
#ifndef RTALLOC_CGMARK_H
#define RTALLOC_CGMARK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* From the text of /proc/PID/mountinfo: the mount point of a cgroup2 mount
 * whose root is a prefix of the cgroup path cg (so cg is visible below it),
 * octal escapes undone, and in *rel the part of cg below that root
 * (pointing into cg).  0, or -ENOENT when there is none. */
int cgmark_mount_find(const char *mountinfo, const char *cg, char *out, size_t len,
		      const char **rel);

/* From the text of /proc/PID/cgroup: the cgroup v2 path (the "0::" line)
 * into out.  0, -ENOENT without such a line, -ENAMETOOLONG. */
int cgmark_path_parse(const char *proc_cgroup, char *out, size_t len);

/* Loads the program that gives every new inet socket without a mark yet the
 * mark (an inner packetmark's cgroup runs first and wins, as an inner
 * LD_PRELOAD would).  Returns the program fd or -errno with why filled in
 * (the verifier's log when it refuses). */
int cgmark_prog_load(uint32_t mark, char *why, size_t len);
/* The same program under another name (the kernel's prog_name, <= 15). */
int cgmark_prog_load_as(const char *name, uint32_t mark, char *why, size_t len);

/* A lasting binding of the cgroup directory dir: the programs named name
 * attached there are detached (a previous run's), and, unless mark is 0,
 * the program for mark is attached under that name, next to others'.  It
 * stays attached after this process exits.  0, or -errno with why. */
int cgmark_bind(const char *dir, const char *name, uint32_t mark, char *why, size_t len);
/* The mount point of this mount namespace's whole cgroup2 hierarchy
 * (root "/"): 0, or -ENOENT. */
int cgmark_root(char *out, size_t len);

/* Puts the calling process into a new cgroup "packetmark-PID" below its own
 * cgroup v2, with the program for mark attached, and leaves a helper process
 * behind that removes that cgroup once the calling process has exec'd (or
 * exited) and the cgroup has no process left.  Where this process sees no
 * cgroup2 mount (ip netns exec remounts /sys), the helper mounts one in a
 * mount namespace of its own.  0, or -errno with why filled in; nothing is
 * left behind on failure. */
int cgmark_enter(uint32_t mark, char *why, size_t len);

/* The same for another process (rtalloc-agent for `rtalloc exec`'s caller):
 * target goes into "packetmark-TARGET" below its own cgroup, and the helper
 * removes it once hold (a pipe or socket the helper inherits) reads EOF
 * and the cgroup is empty.  0, or -errno with why filled in. */
int cgmark_attach(pid_t target, uint32_t mark, int hold, char *why, size_t len);

/* The same without a helper process, for a long-lived caller that watches
 * the cgroup itself (rtalloc-agent).  root: the cgroup2 hierarchy's root,
 * from cgmark_root_open() (the mount here, else one of our own that no
 * mount namespace holds): an fd, or -errno with why. */
int cgmark_root_open(char *why, size_t len);

/* A cgroup made by cgmark_make_at: its parent directory, its name and
 * directory there, its cgroup.events (readable with POLLPRI when
 * "populated" changes), the mark its program gives, the parent's inode. */
struct cgmark_cg {
	int parent, dir, events;
	char name[32];
	uint32_t mark;
	ino_t parent_ino;
};

/* The cgroup of target (from /proc/TARGET/cgroup) below root: an open
 * directory, or -errno with why. */
int cgmark_parent_at(int root, pid_t target, char *why, size_t len);
/* target goes into "packetmark-TARGET" in parent (taken over by cg, stale
 * ones of gone processes there removed first), with the program for mark
 * (loaded once per mark, the last 8 kept) attached.  0 with cg to watch; 1
 * when target is in it but cgroup.events could not be opened (nothing to
 * watch: a later call's sweep removes it once empty); else -errno with
 * why, nothing left behind. */
int cgmark_make_at(int parent, pid_t target, uint32_t mark, struct cgmark_cg *cg, char *why, size_t len);
/* Moves target into cg (another command of the same cgroup and mark
 * reusing it): 0 or -errno (it was removed meanwhile: a sweep). */
int cgmark_cg_enter(const struct cgmark_cg *cg, pid_t target);
/* 1 while cg holds a process, 0 when empty, -errno. */
int cgmark_cg_populated(const struct cgmark_cg *cg);
/* Removes the (empty) cgroup: 0 or -errno. */
int cgmark_cg_remove(const struct cgmark_cg *cg);
void cgmark_cg_close(struct cgmark_cg *cg);

#endif
