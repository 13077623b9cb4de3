/* sdnotify: tell systemd (Type=notify) that a daemon is ready. */
#ifndef RTALLOC_SDNOTIFY_H
#define RTALLOC_SDNOTIFY_H

/* Send READY=1 to $NOTIFY_SOCKET (a path or an @abstract name): 0 when sent
 * or when the variable is unset/empty, -EINVAL for a name that is neither,
 * -errno when the socket or the send fails. */
int sdnotify_ready(void);

#endif
