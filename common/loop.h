/* loop: one epoll event loop; fd, timer and signal handles live in their owners
 * (use container_of() in the callback to get the owner back). */
#ifndef RTALLOC_LOOP_H
#define RTALLOC_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct loop_fd;
typedef void (*loop_fd_cb)(struct loop_fd *h, uint32_t events);

struct loop_fd {
	int fd;
	uint32_t events;	/* EPOLLIN, EPOLLOUT ... */
	loop_fd_cb cb;
};

struct loop_timer;
typedef void (*loop_timer_cb)(struct loop_timer *t);

/* A timerfd; disarmed timers cost nothing (no wake-ups). */
struct loop_timer {
	struct loop_fd h;
	loop_timer_cb cb;
	bool armed;
};

struct loop_signal;
typedef void (*loop_signal_cb)(struct loop_signal *s, int signo);

struct loop_signal {
	struct loop_fd h;
	loop_signal_cb cb;
};

struct loop {
	int epfd;
	bool quit;
};

int loop_init(struct loop *l);
void loop_free(struct loop *l);
/* Runs until loop_quit(); returns 0 or -errno if epoll fails. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);

int loop_fd_add(struct loop *l, struct loop_fd *h);
int loop_fd_del(struct loop *l, struct loop_fd *h);

int loop_timer_init(struct loop *l, struct loop_timer *t, loop_timer_cb cb);
/* One-shot timer in ms from now (0 disarms). */
int loop_timer_set(struct loop_timer *t, uint64_t ms);
void loop_timer_free(struct loop *l, struct loop_timer *t);

/* Blocks the given signals and delivers them through a signalfd. */
int loop_signal_init(struct loop *l, struct loop_signal *s, const int *signals,
		     size_t n, loop_signal_cb cb);
void loop_signal_free(struct loop *l, struct loop_signal *s);

/* CLOCK_MONOTONIC in ms: for timers and rate limits only, never persisted. */
uint64_t loop_now_ms(void);

#endif
