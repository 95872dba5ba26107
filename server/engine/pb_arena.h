/* pb_arena.h — an arena for building protobuf-c messages piece by piece.
 *
 * A message built with many small parts (strings, arrays, sub-messages)
 * takes them from a few large blocks instead of a malloc each. The arena
 * is also a ProtobufCAllocator (fb_pb_arena_allocator), so
 * protobuf_c_message_free_unpacked(msg, allocator) still frees the
 * message: parts inside the arena are skipped, parts malloc'd later by
 * code that does not know the arena (e.g. a field replaced with strdup)
 * are freed. Not thread-safe; a message built in an arena may be freed on
 * another thread (one owner at a time).
 *
 * Every function taking an arena also accepts NULL, meaning plain
 * malloc/calloc/free, so one builder can serve both kinds of message. */
#ifndef FB_PB_ARENA_H
#define FB_PB_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct fb_pb_arena_block fb_pb_arena_block;

typedef struct fb_pb_arena {
    ProtobufCAllocator pc; /* allocator_data: this arena (so it must not move) */
    fb_pb_arena_block *blocks;
} fb_pb_arena;

/* An empty arena at a (no memory taken until the first allocation). */
void fb_pb_arena_init(fb_pb_arena *a);
/* n bytes, aligned for any type; NULL when out of memory. */
void *fb_pb_arena_alloc(fb_pb_arena *a, size_t n);
/* n * size zeroed bytes; NULL when out of memory or on overflow. */
void *fb_pb_arena_calloc(fb_pb_arena *a, size_t n, size_t size);
/* Frees p unless it lies in a (then it goes with the arena). */
void fb_pb_arena_free(fb_pb_arena *a, void *p);
/* a as an allocator for free_unpacked (NULL for a NULL arena). */
ProtobufCAllocator *fb_pb_arena_allocator(fb_pb_arena *a);
/* Frees msg (if not NULL) with everything attached to it, then the
 * arena's blocks; a is empty again afterwards. */
void fb_pb_arena_release(fb_pb_arena *a, ProtobufCMessage *msg);

#endif
