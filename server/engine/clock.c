/* clock.c — the wall clock, in the API's unit (ms since the epoch, UTC). */
#include <time.h>

#include "store.h"

int64_t fb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
