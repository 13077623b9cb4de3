/* jsonconf: helpers shared by the JSON configuration parsers (rtallocd's
 * config, rtalloc-agent's agentcfg, rtalloc-track's trackconf).  Each
 * returns 0 or -errno and, on bad input, leaves one line in err naming what
 * was wrong; the wording that differs between the programs is passed in. */
#ifndef RTALLOC_JSONCONF_H
#define RTALLOC_JSONCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* printf into err; always -EINVAL. */
int jsonconf_bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parse text (len bytes) into *root, which must be a JSON object; the
 * caller puts it.  offset_in_text: report the parse error's offset within
 * text, not within the end-of-input retry. */
int jsonconf_parse(const char *text, size_t len, bool offset_in_text, struct json_object **root,
		   char *err, size_t errlen);

/* Read up to max bytes of f into *text (malloc'ed, NUL-terminated, the
 * caller frees), *len bytes; *more says whether f had more.  -EIO on a read
 * error, -ENOMEM. */
int jsonconf_read(FILE *f, size_t max, char **text, size_t *len, bool *more);

/* Read the file at path (at most max bytes) with jsonconf_read, the
 * one-line errors "config: cannot open PATH: WHY" (-errno), "config: cannot
 * read PATH" (-EIO) and "config: PATH is larger than 1 MiB" (-EINVAL). */
int jsonconf_load(const char *path, size_t max, char **text, size_t *len, char *err, size_t errlen);

/* An integer member in min..max.  jflags: json-c's to-string flags used to
 * show a bad value. */
int jsonconf_u32(struct json_object *v, const char *key, uint32_t min, uint32_t max, int jflags,
		 uint32_t *out, char *err, size_t errlen);

/* A string member without NUL of at most size - 1 bytes, non-empty unless
 * may_be_empty; a non-string is shown with at most shown characters. */
int jsonconf_string(struct json_object *v, const char *key, char *out, size_t size, bool may_be_empty,
		    int shown, char *err, size_t errlen);

/* A key the program does not know, refused: "KEY: unknown key". */
int jsonconf_unknown(const char *key, char *err, size_t errlen);

#endif
