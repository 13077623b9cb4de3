/* loop: one epoll event loop with timerfd timers and a signalfd. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

int loop_init(struct loop *l)
{
	l->quit = false;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

void loop_free(struct loop *l)
{
	if (l && l->epfd >= 0) {
		close(l->epfd);
		l->epfd = -1;
	}
}

void loop_quit(struct loop *l)
{
	l->quit = true;
}

int loop_fd_add(struct loop *l, struct loop_fd *h)
{
	struct epoll_event ev = { .events = h->events, .data.ptr = h };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0 ? -errno : 0;
}

int loop_fd_del(struct loop *l, struct loop_fd *h)
{
	return epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL) < 0 ? -errno : 0;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[16];

	while (!l->quit) {
		int n = epoll_wait(l->epfd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->quit; i++) {
			struct loop_fd *h = evs[i].data.ptr;

			h->cb(h, evs[i].events);
		}
	}
	return 0;
}

static void timer_fired(struct loop_fd *h, uint32_t events)
{
	struct loop_timer *t = container_of(h, struct loop_timer, h);
	uint64_t expirations;

	(void)events;
	if (read(h->fd, &expirations, sizeof(expirations)) < 0)
		return;		/* EAGAIN: re-armed or disarmed meanwhile */
	t->armed = false;
	t->cb(t);
}

int loop_timer_init(struct loop *l, struct loop_timer *t, loop_timer_cb cb)
{
	int ret;

	t->cb = cb;
	t->armed = false;
	t->h.cb = timer_fired;
	t->h.events = EPOLLIN;
	t->h.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->h.fd < 0)
		return -errno;
	ret = loop_fd_add(l, &t->h);
	if (ret < 0) {
		close(t->h.fd);
		t->h.fd = -1;
	}
	return ret;
}

int loop_timer_set(struct loop_timer *t, uint64_t ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 },
	};

	if (timerfd_settime(t->h.fd, 0, &its, NULL) < 0)
		return -errno;
	t->armed = ms != 0;
	return 0;
}

void loop_timer_free(struct loop *l, struct loop_timer *t)
{
	if (!t || t->h.fd < 0)
		return;
	loop_fd_del(l, &t->h);
	close(t->h.fd);
	t->h.fd = -1;
}

static void signal_fired(struct loop_fd *h, uint32_t events)
{
	struct loop_signal *s = container_of(h, struct loop_signal, h);
	struct signalfd_siginfo si;

	(void)events;
	while (read(h->fd, &si, sizeof(si)) == sizeof(si))
		s->cb(s, (int)si.ssi_signo);
}

int loop_signal_init(struct loop *l, struct loop_signal *s, const int *signals,
		     size_t n, loop_signal_cb cb)
{
	sigset_t mask;
	int ret;

	sigemptyset(&mask);
	for (size_t i = 0; i < n; i++)
		sigaddset(&mask, signals[i]);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	s->cb = cb;
	s->h.cb = signal_fired;
	s->h.events = EPOLLIN;
	s->h.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->h.fd < 0)
		return -errno;
	ret = loop_fd_add(l, &s->h);
	if (ret < 0) {
		close(s->h.fd);
		s->h.fd = -1;
	}
	return ret;
}

void loop_signal_free(struct loop *l, struct loop_signal *s)
{
	if (!s || s->h.fd < 0)
		return;
	loop_fd_del(l, &s->h);
	close(s->h.fd);
	s->h.fd = -1;
}

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
