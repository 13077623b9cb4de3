/* groups: supplementary groups of a sender, by /proc/PID/status. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "groups.h"

/* Whether id is one of the numbers after "Key:" in line. */
static bool line_has(const char *line, const char *key, uint32_t id)
{
	const char *p;
	char *end;

	if (strncmp(line, key, strlen(key)))
		return false;
	for (p = line + strlen(key);;) {
		unsigned long v = strtoul(p, &end, 10);

		if (end == p)
			return false;
		if (v == id)
			return true;
		p = end;
	}
}

bool groups_match(const struct ucred *cr, const uint32_t *gids, size_t n)
{
	char path[32], buf[4096];
	bool uid_ok = false, gid_ok = false, found = false;
	ssize_t len;
	int fd;

	if (cr->pid <= 0)	/* a sender in a pid namespace we cannot see */
		return false;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)cr->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* The kernel fills the credentials with the real ids, or ones the
		 * sender could set (effective, saved): any of them. */
		if (line_has(line, "Uid:", cr->uid))
			uid_ok = true;
		else if (line_has(line, "Gid:", cr->gid))
			gid_ok = true;
		else if (!strncmp(line, "Groups:", 7))
			for (size_t i = 0; i < n && !found; i++)
				found = line_has(line, "Groups:", gids[i]);
	}
	return uid_ok && gid_ok && found;
}
