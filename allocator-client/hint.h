/* hint: `rtalloc hint IFACE ...` (allocator-client/hint.c). */
#ifndef RTALLOC_HINT_H
#define RTALLOC_HINT_H

/* argv[0] is "hint"; returns the exit status. */
int hint_main(int argc, char **argv);

#endif
