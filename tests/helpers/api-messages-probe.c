/*
 * api-messages-probe - POST /v1/messages without the HTTP server
 *
 * usage: api-messages-probe CONF TENANT [-d DOMAIN,...] [-k IDEMPOTENCY-KEY]
 *			     [-n COUNT] < BODY
 *
 * Loads CONF, starts the submission threads ([httpd] submit) and calls
 * api_messages_post() as the router would, for TENANT with the key's
 * domains DOMAIN,... (default: the tenant's) and the JSON body read from
 * stdin; prints the HTTP status on one line and the answer after it.
 * With -n, sends the body COUNT times, as many at once as [httpd]
 * submit_connections, and prints "COUNT MESSAGES/S" on stderr (the answer
 * printed is the last one).  The Idempotency-Key is that of an API key
 * whose ID is "probe".
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_messages.h"
#include "conf.h"
#include "monotime.h"
#include "msg.h"
#include "submit.h"
#include "xalloc.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long answered;

/* done - one answer is in */
static void
done(struct api_call *call)
{
    (void) call;
    pthread_mutex_lock(&lock);
    answered++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

int
main(int argc, char **argv)
{
    struct outpost_conf *conf;
    const struct conf_tenant *t;
    struct submit *sub;
    struct api_messages *a;
    struct api_call *calls;
    const char **domains = NULL;
    size_t ndomains = 0, len = 0, cap = 0;
    char err[512], *body = NULL, *p;
    const char *key = NULL;
    long i, count = 1, window, sent;
    long long t0;
    int ch;
    size_t n;

    msg_open_tool("api-messages-probe");
    while ((ch = getopt(argc, argv, "d:k:n:")) != -1) {
	switch (ch) {
	case 'd':
	    for (p = strtok(optarg, ","); p; p = strtok(NULL, ",")) {
		domains = xreallocarray(domains, ndomains + 1, sizeof(*domains));
		domains[ndomains++] = p;
	    }
	    break;
	case 'k':
	    key = optarg;
	    break;
	case 'n':
	    count = atol(optarg);
	    break;
	default:
	    return 2;
	}
    }
    if (argc - optind != 2 || count < 1) {
	fprintf(stderr, "usage: %s CONF TENANT [-d DOMAIN,...] [-k KEY] [-n COUNT] < BODY\n",
		argv[0]);
	return 2;
    }
    if ((conf = conf_load(argv[optind], err, sizeof(err))) == NULL)
	msg_fatal("%s", err);
    if ((t = conf_tenant_find(conf, argv[optind + 1])) == NULL)
	msg_fatal("no [tenant %s]", argv[optind + 1]);
    if (domains == NULL) {
	domains = (const char **) t->domains.v;
	ndomains = t->domains.n;
    }
    do {
	if (len + 65536 > cap)
	    body = xreallocarray(body, cap = 2 * cap + 65536, 1);
	n = fread(body + len, 1, cap - len, stdin);
	len += n;
    } while (n > 0);

    sub = submit_start(conf->httpd.submit, conf->httpd.submit_connections,
		       conf->httpd.submit_timeout_ms, conf->httpd.queue_max);
    a = api_messages_new(conf, sub);
    calls = xcalloc((size_t) count, sizeof(*calls));
    window = conf->httpd.submit_connections;
    t0 = monotime_ms();
    for (sent = 0; sent < count; sent++) {
	struct api_call *c = &calls[sent];

	pthread_mutex_lock(&lock);
	while (sent - answered >= window)
	    pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	c->conf = conf;
	c->tenant = t;
	c->domains = domains;
	c->ndomains = ndomains;
	c->body = body;
	c->body_len = len;
	c->idem_key = key;
	c->key_id = "probe";
	c->done = done;
	api_messages_post(a, c);
    }
    pthread_mutex_lock(&lock);
    while (answered < count)
	pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    if (count > 1)
	fprintf(stderr, "%ld %.1f\n", count,
		count * 1000.0 / (double) (monotime_ms() - t0 + (monotime_ms() == t0)));
    printf("%d\n%.*s", calls[count - 1].status, (int) calls[count - 1].answer_len,
	   calls[count - 1].answer);
    for (i = 0; i < count; i++)
	free(calls[i].answer);
    free(calls);
    submit_stop(sub);
    api_messages_free(a);
    if (domains != (const char **) t->domains.v)
	free(domains);
    free(body);
    conf_free(conf);
    return 0;
}
