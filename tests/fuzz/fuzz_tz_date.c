/*
 * fuzz_tz_date - warm-up time zones and dates on arbitrary bytes
 *
 * The first line is a time zone ("UTC", "+02:00", "Europe/Paris"), the
 * second a start date ("2026-12-06").  A zone that parses must give an
 * offset within a day and midnights that come after the time asked
 * about; a date that parses must format back to itself.  Crashes and
 * undefined behaviour are failures.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "warmup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_tz - a zone's offsets and midnights at a few times */
static void
check_tz(const char *s)
{
    static const long long times[] = {0, 1795880922LL, 4102444800LL, -86400LL};
    struct warmup_tz tz;
    const char *why;

    if (warmup_tz_parse(s, &tz, &why) < 0)
	return;
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
	long off = warmup_tz_offset(&tz, times[i]);

	if (off <= -86400 || off >= 86400)
	    abort();
	if (warmup_next_midnight(times[i], off) <= times[i])
	    abort();
	(void) warmup_day_number(times[i], off);
    }
}

/* check_date - a date that parses formats back to the same text */
static void
check_date(const char *s)
{
    char buf[32];
    long day, again;
    const char *why;

    if (warmup_date_parse(s, &day, &why) < 0)
	return;
    warmup_date_format(day, buf, sizeof(buf));
    if (warmup_date_parse(buf, &again, &why) < 0 || again != day)
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *nl;

    memcpy(text, data, size);
    text[size] = '\0';
    nl = strchr(text, '\n');
    if (nl != NULL)
	*nl = '\0';
    check_tz(text);
    check_date(text);
    if (nl != NULL) {
	check_tz(nl + 1);
	check_date(nl + 1);
    }
    free(text);
    return 0;
}
