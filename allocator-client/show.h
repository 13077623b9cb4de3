/* show: `rtalloc show [UPLINK] [--json]`, rtalloc-agent's uplinks by name
 * (man/rtalloc.8 documents the output and its JSON schema). */
#ifndef RTALLOC_SHOW_H
#define RTALLOC_SHOW_H

/* argv[0] is "show"; returns the exit status (enum rtalloc_exit). */
int show_main(int argc, char **argv);

#endif
