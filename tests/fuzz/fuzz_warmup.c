/*
 * fuzz_warmup - warm-up schedules on arbitrary bytes
 *
 * The input is a [pool] warmup value ("1:200, 30:2000000"), split as the
 * configuration reader splits lists.  A schedule that parses must give
 * caps within its bounds (an empty one: no cap, -1).
 * Crashes and undefined behaviour are failures.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "confval.h"
#include "warmup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf_strlist items = {0};
    struct warmup_schedule s;
    const char *why;
    char *text = malloc(size + 1);

    memcpy(text, data, size);
    text[size] = '\0';
    if (confval_list(text, &items, &why) == 0
	&& warmup_schedule_parse(&items, &s, &why) == 0) {
	static const long days[] = {-1, 0, 1, 2, 7, 30, 365, WARMUP_MAX_DAY, WARMUP_MAX_DAY + 1};

	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
	    long long cap = warmup_cap(&s, days[i]);

	    /* no points: no cap (-1) */
	    if (s.n == 0 ? cap != -1 : cap < 0 || cap > WARMUP_MAX_CAP)
		abort();
	}
    }
    conf_strlist_free(&items);
    free(text);
    return 0;
}
