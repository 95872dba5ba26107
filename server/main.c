/* main.c — placeholder until the runtime lands: feedbackd is being built. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "feedbackd: not built yet\n");
    return 1;
}
