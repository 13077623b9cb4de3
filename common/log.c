/* log: one log function with an explicit priority; stderr, a file or syslog.
 * stderr that is the journal (JOURNAL_STREAM names it) gets sd-daemon
 * "<N>" priority prefixes, so journalctl -p works; stderr that is a
 * terminal gets no info lines unless asked (-v). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_backend backend = LOG_TO_STDERR;
static FILE *logfile;
static int max_prio = LOG_INFO;
static const char *log_ident = "rtalloc";
static char log_path[PATH_MAX];	/* LOG_TO_FILE's, for log_reopen() */
static bool journal;		/* stderr is the journal's stream */

/* systemd sets JOURNAL_STREAM=DEV:INODE for a service whose stderr is
 * connected to the journal; a child that kept the variable but not the
 * stream (a redirect) does not match. */
static bool stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	char *end;

	if (!v || *v < '0' || *v > '9')
		return false;
	errno = 0;
	dev = strtoumax(v, &end, 10);
	if (errno || *end != ':' || end[1] < '0' || end[1] > '9')
		return false;
	ino = strtoumax(end + 1, &end, 10);
	if (errno || *end || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

int log_open(const char *ident, enum log_backend b, const char *path)
{
	log_close();
	if (ident)
		log_ident = ident;
	backend = b;
	journal = b == LOG_TO_STDERR && stderr_is_journal();
	switch (b) {
	case LOG_TO_SYSLOG:
		openlog(log_ident, LOG_PID, LOG_DAEMON);
		return 0;
	case LOG_TO_SYSLOG_STDERR:
		openlog(log_ident, LOG_PID | LOG_PERROR, LOG_DAEMON);
		return 0;
	case LOG_TO_FILE:
		if (path && path != log_path)
			snprintf(log_path, sizeof(log_path), "%s", path);
		logfile = path ? fopen(path, "ae") : NULL;
		if (!logfile) {
			int err = path ? -errno : -EINVAL;
			backend = LOG_TO_STDERR;
			return err;
		}
		setvbuf(logfile, NULL, _IOLBF, 0);
		return 0;
	default:
		return 0;
	}
}

void log_close(void)
{
	if (backend == LOG_TO_SYSLOG || backend == LOG_TO_SYSLOG_STDERR)
		closelog();
	if (logfile)
		fclose(logfile);
	logfile = NULL;
	backend = LOG_TO_STDERR;
}

int log_reopen(void)
{
	if (backend != LOG_TO_FILE)
		return 0;
	return log_open(NULL, LOG_TO_FILE, log_path);
}

void log_set_max(int prio)
{
	max_prio = prio;
}

void log_set_verbose(bool verbose)
{
	if (verbose)
		max_prio = LOG_DEBUG;
	else if (backend == LOG_TO_STDERR && !journal && isatty(STDERR_FILENO))
		max_prio = LOG_NOTICE;
	else
		max_prio = LOG_INFO;
}

int log_get_max(void)
{
	return max_prio;
}

static const char *prio_name(int prio)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
	};
	return prio >= 0 && prio <= LOG_DEBUG ? names[prio] : "?";
}

void log_msg(int prio, const char *fmt, ...)
{
	FILE *out;
	va_list ap;

	if (prio > max_prio || backend == LOG_TO_NONE)
		return;
	va_start(ap, fmt);
	if (backend == LOG_TO_SYSLOG || backend == LOG_TO_SYSLOG_STDERR) {
		vsyslog(prio, fmt, ap);
		va_end(ap);
		return;
	}
	if (journal) {
		fprintf(stderr, "<%d>", prio);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
		return;
	}
	out = backend == LOG_TO_FILE && logfile ? logfile : stderr;
	if (out == logfile) {
		char stamp[32];
		struct tm tm;
		time_t now = time(NULL);

		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
		fprintf(out, "%s ", stamp);
	}
	fprintf(out, "%s: %s: ", log_ident, prio_name(prio));
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	va_end(ap);
}

bool ratelimit_ok(struct ratelimit *rl, uint64_t now_ms)
{
	if (rl->interval_ms && now_ms - rl->last_ms >= rl->interval_ms) {
		uint64_t refill = (now_ms - rl->last_ms) / rl->interval_ms;

		rl->tokens = refill >= rl->burst ? rl->burst : rl->tokens + (uint32_t)refill;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last_ms = now_ms;
	}
	if (rl->tokens) {
		rl->tokens--;
		return true;
	}
	rl->suppressed++;
	return false;
}
