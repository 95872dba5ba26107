/* feedback_keys.h — internals shared by feedback.c and feedback_list.c
 * (not a public contract: other modules use feedback.h). */
#ifndef FB_FEEDBACK_KEYS_H
#define FB_FEEDBACK_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "feedback.h"

enum {
    FB_MAX_RESP_ID = 128,
    FB_TIME_KEY_LEN = 4 + 8 + FB_ID_LEN,           /* tenant | be64 ms | id */
    FB_RESP_KEY_MAX = 4 + FB_MAX_RESP_ID + 1 + FB_ID_LEN,
};

MDB_dbi fb_feedback_dbi_records(const fb_feedback *fb);
MDB_dbi fb_feedback_dbi_time(const fb_feedback *fb);
/* Maps an LMDB error to FB_EXHAUSTED (map full) or FB_INTERNAL. */
int fb_feedback_mdb_err(int mrc, const char *what, fb_err *err);
/* Writes tenant | be64(ms) | id into k (FB_TIME_KEY_LEN bytes). */
size_t fb_feedback_time_key(unsigned char *k, uint32_t tenant, int64_t ms, const char *id);
/* 1 if id is FB_ID_LEN Crockford base32 characters. */
int fb_feedback_id_valid(const char *id, size_t len);
/* Sorts a record's tags by key (stored records keep them sorted). */
void fb_feedback_sort_tags(Feedback__V1__Feedback *rec);

#endif
