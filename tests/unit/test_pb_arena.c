/* test_pb_arena.c — the protobuf-c arena: aligned, zeroed and oversized
 * allocations, frees that skip arena memory, and a message built in the
 * arena whose field was later replaced with a malloc'd one (the leak check
 * of the asan build sees that both kinds are released). */
#include "fbtest.h"

#include <stdalign.h>
#include <stdint.h>

#include "feedback/v1/common.pb-c.h"
#include "pb_arena.h"

START_TEST(allocations_are_aligned_zeroed_and_distinct)
{
    fb_pb_arena a;
    fb_pb_arena_init(&a);
    char *p = fb_pb_arena_alloc(&a, 3);
    char *q = fb_pb_arena_alloc(&a, 5);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq((uintptr_t)p % alignof(max_align_t), 0);
    ck_assert_uint_eq((uintptr_t)q % alignof(max_align_t), 0);
    ck_assert(q >= p + 3 || p >= q + 5);
    unsigned char *z = fb_pb_arena_calloc(&a, 100, 3);
    for (int i = 0; i < 300; i++) ck_assert_uint_eq(z[i], 0);
    char *big = fb_pb_arena_alloc(&a, 10000); /* beyond one block */
    memset(big, 'x', 10000);
    ck_assert_ptr_null(fb_pb_arena_calloc(&a, SIZE_MAX / 2, 4));
    fb_pb_arena_free(&a, p); /* inside the arena: a no-op */
    char *outside = malloc(16);
    fb_pb_arena_free(&a, outside); /* not in the arena: freed */
    fb_pb_arena_release(&a, NULL);
    ck_assert_ptr_null(a.blocks);
}
END_TEST

START_TEST(null_arena_is_malloc)
{
    char *p = fb_pb_arena_alloc(NULL, 8);
    int *z = fb_pb_arena_calloc(NULL, 4, sizeof *z);
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(z[i], 0);
    ck_assert_ptr_null(fb_pb_arena_allocator(NULL));
    fb_pb_arena_free(NULL, p);
    fb_pb_arena_free(NULL, z);
}
END_TEST

START_TEST(message_release_frees_mixed_parts)
{
    fb_pb_arena a;
    fb_pb_arena_init(&a);
    Feedback__V1__Feedback *rec = fb_pb_arena_alloc(&a, sizeof *rec);
    feedback__v1__feedback__init(rec);
    rec->survey_id = fb_pb_arena_alloc(&a, 8);
    strcpy(rec->survey_id, "s1");
    rec->id = strdup("01J-added-later"); /* malloc'd by code that knows no arena */
    rec->comment = fb_pb_arena_alloc(&a, 4096);
    strcpy(rec->comment, "long");
    size_t len = feedback__v1__feedback__get_packed_size(rec);
    uint8_t *buf = malloc(len);
    feedback__v1__feedback__pack(rec, buf);
    Feedback__V1__Feedback *back = feedback__v1__feedback__unpack(NULL, len, buf);
    ck_assert_str_eq(back->id, "01J-added-later");
    ck_assert_str_eq(back->comment, "long");
    feedback__v1__feedback__free_unpacked(back, NULL);
    free(buf);
    fb_pb_arena_release(&a, &rec->base);
    ck_assert_ptr_null(a.blocks);
}
END_TEST

static Suite *pb_arena_suite(void)
{
    Suite *s = suite_create("pb_arena");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, allocations_are_aligned_zeroed_and_distinct);
    tcase_add_test(tc, null_arena_is_malloc);
    tcase_add_test(tc, message_release_frees_mixed_parts);
    suite_add_tcase(s, tc);
    return s;
}

FB_TEST_MAIN(pb_arena_suite)
