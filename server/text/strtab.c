/* strtab.c — linear-probing hash table of interned strings.
 *
 * Why this shape: the scorer probes this table once or twice per token, so
 * a probe must be a hash and one cache line. A 16-byte slot holds the id,
 * 24 bits of hash with the key length, and the key's first 8 bytes, so most
 * words (<= 8 bytes) are compared without touching the key arena; load
 * factor stays <= 1/2. */
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

static uint64_t prefix8(const char *s, size_t n)
{
    uint64_t p;
    if (n >= 8) { memcpy(&p, s, 8); return p; }
    return fb_strtab_tail(s, n);
}

static uint32_t check_of(uint64_t h, size_t n)
{
    return (uint32_t)(h >> 32 & 0xFFFFFF00u) | (uint32_t)(n < 255 ? n : 255);
}

void fb_strtab_init(fb_strtab *t) { memset(t, 0, sizeof *t); }

void fb_strtab_free(fb_strtab *t)
{
    free(t->slots); free(t->key_off); free(t->key_len); free(t->arena);
    memset(t, 0, sizeof *t);
}

static int rehash(fb_strtab *t, size_t nslots)
{
    fb_strslot *slots = calloc(nslots, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; t->mask && i <= t->mask; i++) {
        if (!t->slots[i].id1) continue;
        uint32_t id = t->slots[i].id1 - 1;
        uint64_t h = fb_strtab_hash64(t->arena + t->key_off[id], t->key_len[id]);
        size_t j = (size_t)h & (nslots - 1);
        while (slots[j].id1) j = (j + 1) & (nslots - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->mask = nslots - 1;
    return 0;
}

int64_t fb_strtab_find_h(const fb_strtab *t, const char *s, size_t n, uint64_t h)
{
    if (!t->mask) return -1;
    uint64_t pre = prefix8(s, n);
    uint32_t check = check_of(h, n);
    for (size_t j = (size_t)h & t->mask;; j = (j + 1) & t->mask) {
        const fb_strslot *sl = &t->slots[j];
        if (!sl->id1) return -1;
        if (sl->check != check || sl->prefix != pre) continue;
        uint32_t id = sl->id1 - 1;
        if (n <= 8 || (t->key_len[id] == n && memcmp(t->arena + t->key_off[id] + 8, s + 8, n - 8) == 0))
            return id;
    }
}

int64_t fb_strtab_find(const fb_strtab *t, const char *s, size_t n)
{
    return fb_strtab_find_h(t, s, n, fb_strtab_hash64(s, n));
}

static int add_key(fb_strtab *t, const char *s, size_t n)
{
    if (t->count == t->ids_cap) {
        size_t nc = t->ids_cap ? t->ids_cap * 2 : 64;
        uint32_t *o = realloc(t->key_off, nc * sizeof *o);
        if (!o) return -1;
        t->key_off = o;
        uint32_t *l = realloc(t->key_len, nc * sizeof *l);
        if (!l) return -1;
        t->key_len = l;
        t->ids_cap = nc;
    }
    if (t->arena_len + n + 1 > t->arena_cap) {
        size_t nc = t->arena_cap ? t->arena_cap : 1024;
        while (nc < t->arena_len + n + 1) nc *= 2;
        char *a = realloc(t->arena, nc);
        if (!a) return -1;
        t->arena = a; t->arena_cap = nc;
    }
    memcpy(t->arena + t->arena_len, s, n);
    t->arena[t->arena_len + n] = '\0';
    t->key_off[t->count] = (uint32_t)t->arena_len;
    t->key_len[t->count] = (uint32_t)n;
    t->arena_len += n + 1;
    return 0;
}

int64_t fb_strtab_intern(fb_strtab *t, const char *s, size_t n, int *created)
{
    if (created) *created = 0;
    int64_t id = fb_strtab_find(t, s, n);
    if (id >= 0) return id;
    if ((t->count + 1) * 2 > t->mask + 1 && rehash(t, t->mask ? (t->mask + 1) * 2 : 64))
        return -1;
    if (add_key(t, s, n)) return -1;
    uint64_t h = fb_strtab_hash64(s, n);
    size_t j = (size_t)h & t->mask;
    while (t->slots[j].id1) j = (j + 1) & t->mask;
    t->slots[j] = (fb_strslot){ prefix8(s, n), (uint32_t)t->count + 1, check_of(h, n) };
    if (created) *created = 1;
    return (int64_t)t->count++;
}


size_t fb_strtab_bytes(const fb_strtab *t)
{
    return (t->mask ? (t->mask + 1) * sizeof(fb_strslot) : 0) + t->ids_cap * 8 + t->arena_cap;
}
