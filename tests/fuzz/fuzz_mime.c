/*
 * fuzz_mime - MIME reader on arbitrary bytes
 *
 * Any result is fine; crashes, leaks, reads past the input and undefined
 * behaviour are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mime_msg m;
    const char *why;
    char    v[256];

    if (mime_parse((const char *) data, size, &m, &why) == 0) {
	for (size_t i = 0; i < m.nparts; i++)
	    if (m.parts[i].body[m.parts[i].body_len] != 0)
		abort();
	mime_header(m.hdr, m.hdr_len, "Content-Type", v, sizeof(v));
	mime_param(v, "boundary", v, sizeof(v));
	mime_decode_words(v);
    }
    mime_free(&m);
    return 0;
}
