/* log: one log function with an explicit priority; stderr, a file or syslog. */
#ifndef RTALLOC_LOG_H
#define RTALLOC_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

enum log_backend {
	LOG_TO_STDERR,
	LOG_TO_FILE,
	LOG_TO_SYSLOG,
	LOG_TO_NONE,
	LOG_TO_SYSLOG_STDERR,	/* both (rtalloc -s, as the 2017 client) */
};

/* Choose the backend at start-up.  path is used for LOG_TO_FILE only.
 * Returns 0 or -errno (the file could not be opened; stderr stays). */
int log_open(const char *ident, enum log_backend backend, const char *path);
void log_close(void);
/* SIGHUP: the log file opened again (rotated away); 0 for other backends. */
int log_reopen(void);
/* Messages above max_prio (e.g. LOG_DEBUG when max is LOG_INFO) are dropped. */
void log_set_max(int max_prio);
int log_get_max(void);
/* The programs' default (call after log_open): verbose (-v) shows debug
 * lines; otherwise info and above, but notice and above on a terminal
 * (an interactive run shows what went wrong, not the chatter). */
void log_set_verbose(bool verbose);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A token bucket for log lines caused by peers: at most burst lines, then one
 * per interval_ms.  ratelimit_ok() returns true when a line may be written and
 * counts the ones suppressed, so the next allowed line can say how many. */
struct ratelimit {
	uint64_t interval_ms;
	uint32_t burst;
	uint32_t tokens;
	uint64_t last_ms;
	uint64_t suppressed;
};
#define RATELIMIT_INIT(interval, b) { .interval_ms = (interval), .burst = (b), .tokens = (b) }
bool ratelimit_ok(struct ratelimit *rl, uint64_t now_ms);

#endif
