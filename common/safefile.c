/* safefile: publish a file whole, through no planted name (safefile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefile.h"

int safefile_begin(struct safefile *sf, const char *path, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	struct stat st;
	int fd, ret;

	memset(sf, 0, sizeof(*sf));
	sf->dirfd = -1;
	sf->name = slash ? slash + 1 : path;
	if (!sf->name[0] || (size_t)snprintf(sf->tmp, sizeof(sf->tmp), "%s.tmp", sf->name) >= sizeof(sf->tmp))
		return -EINVAL;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path) >=
		 sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	sf->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sf->dirfd < 0)
		return -errno;
	if (fstat(sf->dirfd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	sf->dir_uid = st.st_uid;
	sf->shared = st.st_uid != geteuid() || (st.st_mode & 022);
	/* A stale temporary file, or whatever someone put in its place:
	 * the name goes, nothing it points to is touched. */
	if (unlinkat(sf->dirfd, sf->tmp, 0) < 0 && errno != ENOENT) {
		ret = -errno;
		goto fail;
	}
	fd = openat(sf->dirfd, sf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	/* mode without the umask: readers of a state file are other users */
	if (fchmod(fd, mode) < 0 || !(sf->f = fdopen(fd, "w"))) {
		ret = -errno;
		close(fd);
		unlinkat(sf->dirfd, sf->tmp, 0);
		goto fail;
	}
	return 0;
fail:
	close(sf->dirfd);
	sf->dirfd = -1;
	return ret;
}

int safefile_commit(struct safefile *sf)
{
	int ret = 0;

	if (fflush(sf->f) != 0 || ferror(sf->f))
		ret = -(errno ? errno : EIO);
	if (fclose(sf->f) != 0 && !ret)
		ret = -errno;
	sf->f = NULL;
	if (!ret && renameat(sf->dirfd, sf->tmp, sf->dirfd, sf->name) < 0)
		ret = -errno;
	if (ret < 0)
		unlinkat(sf->dirfd, sf->tmp, 0);
	close(sf->dirfd);
	sf->dirfd = -1;
	return ret;
}

void safefile_abort(struct safefile *sf)
{
	if (!sf || sf->dirfd < 0)
		return;
	if (sf->f)
		fclose(sf->f);
	sf->f = NULL;
	unlinkat(sf->dirfd, sf->tmp, 0);
	close(sf->dirfd);
	sf->dirfd = -1;
}
