/* pb_arena.c — see pb_arena.h.
 *
 * Why: ingest builds each record (some thirty pieces: strings, tags, the
 * sentiment with its aspects and spans) on a worker thread, and the
 * store's syncer frees it after the durable commit. Thirty cross-thread
 * frees, each into the worker's malloc arena under its lock, cost the
 * syncer more than the rest of its work per submission; a few blocks per
 * record cost almost nothing. Blocks are a linked list, newest first;
 * allocation only bumps within the newest block. */
#include "pb_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fb_pb_arena_block {
    fb_pb_arena_block *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
};

enum { BLOCK_BYTES = 2048 };

void *fb_pb_arena_alloc(fb_pb_arena *a, size_t n)
{
    if (!a) return malloc(n ? n : 1);
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    fb_pb_arena_block *b = a->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > BLOCK_BYTES ? n : BLOCK_BYTES;
        if (!(b = malloc(sizeof *b + cap))) return NULL;
        *b = (fb_pb_arena_block){a->blocks, 0, cap};
        a->blocks = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

void *fb_pb_arena_calloc(fb_pb_arena *a, size_t n, size_t size)
{
    if (!a) return calloc(n ? n : 1, size);
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = fb_pb_arena_alloc(a, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

static int in_arena(const fb_pb_arena *a, const void *p)
{
    for (const fb_pb_arena_block *b = a->blocks; b; b = b->next)
        if ((const char *)p >= (const char *)b->data && (const char *)p < (const char *)b->data + b->cap) return 1;
    return 0;
}

void fb_pb_arena_free(fb_pb_arena *a, void *p)
{
    if (!a || !in_arena(a, p)) free(p);
}

static void *pc_alloc(void *a, size_t n) { return fb_pb_arena_alloc(a, n); }
static void pc_free(void *a, void *p) { fb_pb_arena_free(a, p); }

void fb_pb_arena_init(fb_pb_arena *a)
{
    a->pc = (ProtobufCAllocator){pc_alloc, pc_free, a};
    a->blocks = NULL;
}

ProtobufCAllocator *fb_pb_arena_allocator(fb_pb_arena *a) { return a ? &a->pc : NULL; }

void fb_pb_arena_release(fb_pb_arena *a, ProtobufCMessage *msg)
{
    if (msg) protobuf_c_message_free_unpacked(msg, &a->pc);
    for (fb_pb_arena_block *b = a->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    a->blocks = NULL;
}
