/*
 * fuzz_dmarcrec - the DMARC record parser and the tag-list parser under it
 * (which also reads DKIM key records) on arbitrary bytes
 *
 * Any result is fine; crashes, leaks and undefined behaviour are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarcrec.h"
#include "taglist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dmarc_record d;
    struct taglist tl;
    char err[300];

    if (taglist_parse((const char *) data, size, &tl, err, sizeof(err)) == 0) {
	if (tl.n > TAGLIST_MAX)
	    abort();
	taglist_free(&tl);
    }
    if (dmarcrec_parse((const char *) data, size, &d, err, sizeof(err)) == 0
	&& (d.pct < 0 || d.pct > 100 || (d.adkim != 'r' && d.adkim != 's')))
	abort();
    return 0;
}
