/* exec: `rtalloc exec [--strict] UPLINK -- COMMAND [ARG...]` (exec.c). */
#ifndef RTALLOC_EXEC_H
#define RTALLOC_EXEC_H

/* argv[0] is "exec"; returns the exit status (125/126/127 or COMMAND's). */
int exec_main(int argc, char **argv);
/* Connected (SOCK_STREAM) to the control socket of the agent of rtallocd
 * socket_name, which the kernel says is root's: the fd, or -1 with one
 * line in err. */
int exec_agent_connect(const char *socket_name, char *err, size_t errlen);

#endif
