/* safefile: a file a root program publishes (a state file), replaced whole
 * and never through a name someone else planted: the directory is opened
 * without following a link, the temporary file is created there with
 * O_EXCL|O_NOFOLLOW (a new inode of ours, whatever was in its place is
 * unlinked first, never followed) and renamed over the file, which
 * replaces a planted link instead of writing through it. */
#ifndef RTALLOC_SAFEFILE_H
#define RTALLOC_SAFEFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct safefile {
	int dirfd;
	FILE *f;		/* write the contents here */
	const char *name;	/* in path */
	char tmp[256];
	/* The directory is not root's alone (another uid owns it, or group
	 * or others may write in it): nothing of root's is followed there,
	 * but its owner can replace what we publish. */
	bool shared;
	uid_t dir_uid;
};

/* Creates the directory (0755) when missing and opens the temporary file.
 * 0 or -errno. */
int safefile_begin(struct safefile *sf, const char *path, mode_t mode);
/* Closes and renames into place: 0 or -errno (the temporary file is gone
 * either way). */
int safefile_commit(struct safefile *sf);
/* Drops the temporary file; NULL and a finished sf are fine. */
void safefile_abort(struct safefile *sf);

#endif
