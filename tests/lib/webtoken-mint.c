/*
 * webtoken-mint - print a web link token, as the milter would write it
 *
 * usage: webtoken-mint SECRETS KIND AGE RCPT SENDER [MSGID CAMPAIGN LINK URL]
 *
 * KIND is u, o or c; AGE the token's age in seconds (issued AGE seconds
 * ago; negative: in the future).  The secrets file is read as outpost-httpd
 * reads it, without the owner check.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verp.h"
#include "webtoken.h"

int
main(int argc, char **argv)
{
    struct verp_keys *k;
    struct webtoken_in in;
    char err[512], tok[WEBTOKEN_MAX + 1];

    if (argc != 6 && argc != 10) {
	fprintf(stderr, "usage: %s SECRETS KIND AGE RCPT SENDER [MSGID CAMPAIGN LINK URL]\n",
		argv[0]);
	return 2;
    }
    if ((k = verp_keys_load(argv[1], 0, 0, err, sizeof(err))) == NULL) {
	fprintf(stderr, "%s\n", err);
	return 1;
    }
    memset(&in, 0, sizeof(in));
    in.kind = argv[2][0];
    in.issued = (long long) time(NULL) - strtoll(argv[3], NULL, 10);
    in.rcpt = argv[4];
    in.sender_domain = argv[5];
    if (argc == 10) {
	in.msgid = argv[6];
	in.campaign = argv[7];
	in.link = (unsigned) strtoul(argv[8], NULL, 10);
	in.url = argv[9];
	in.url_len = strlen(argv[9]);
    }
    if (webtoken_encode(k, &in, tok, sizeof(tok)) == 0) {
	fprintf(stderr, "%s: no token for these fields\n", argv[0]);
	return 1;
    }
    puts(tok);
    verp_keys_free(k);
    return 0;
}
