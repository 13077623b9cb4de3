/* exec: `rtalloc exec [--strict] UPLINK -- COMMAND [ARG...]` (exec.c). */
#ifndef RTALLOC_EXEC_H
#define RTALLOC_EXEC_H

/* argv[0] is "exec"; returns the exit status (125/126/127 or COMMAND's). */
int exec_main(int argc, char **argv);

#endif
