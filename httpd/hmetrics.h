/*
 * hmetrics - what outpost-httpd tells Prometheus
 *
 * SYNOPSIS
 *	#include "hmetrics.h"
 *
 *	struct hmetrics *hmetrics_new(const char *node);
 *	void hmetrics_api(struct hmetrics *m, int route, unsigned status);
 *	struct prom *hmetrics_render(void *m);
void hmetrics_api(struct hmetrics *m, int route, unsigned status);
 *	void hmetrics_free(struct hmetrics *m);
 *
 * DESCRIPTION
 *	Counters of this process since it started, written by every thread
 *	with the PROM_* atomics and read by the metrics endpoint's thread
 *	(the names are listed in outpost-httpd(8)).  The cluster-wide opens
 *	and clicks per sender domain and provider are those of the
 *	statistics in Redis, which outpost-logd(8) exports as
 *	outpost_cluster_opens_total and the like.
 */
#ifndef OUTPOST_HTTPD_HMETRICS_H
#define OUTPOST_HTTPD_HMETRICS_H

#include "machine.h"
#include "prom.h"

enum hm_route { HM_UNSUB, HM_OPEN, HM_CLICK, HM_ROUTES };
/* the platform API: its endpoints (API_NONE: no such path) and the statuses it answers */
enum hm_api { HM_API_OTHER, HM_API_SUPPRESSION, HM_API_LIST, HM_API_IMPORT, HM_API_STATS,
    HM_API_MESSAGES, HM_API_EVENTS, HM_API_VERIFY, HM_API_ROUTES };
#define HM_API_STATUSES 13
extern const unsigned hm_api_status[HM_API_STATUSES];
enum hm_unsub { HM_UNSUB_DONE, HM_UNSUB_ALREADY, HM_UNSUB_FAILED, HM_UNSUB_BUSY,
    HM_UNSUB_NOT_ONE_CLICK, HM_UNSUB_RESULTS };

struct hmetrics {
    char *node;
    unsigned long long unsub[2][HM_UNSUB_RESULTS];	/* one-click, web page */
    unsigned long long pages;				/* GET /u/ answered */
    unsigned long long refused[HM_ROUTES][4];		/* by webtoken status */
    unsigned long long events[HM_ROUTES][2];		/* person, machine */
    unsigned long long signals[MACHINE_EARLY + 1];
    unsigned long long dropped;			/* events: queue full */
    unsigned long long written;			/* events written to Redis */
    unsigned long long write_errors;		/* Redis refused or was away */
    unsigned long long other;			/* 404, 405, 413 */
    unsigned long long api[HM_API_ROUTES][HM_API_STATUSES + 1];	/* the last: others */
    long long queued;				/* gauge */
    unsigned long long reloads[2];		/* SIGHUP: done, refused */
    unsigned long long auth_failures;		/* API answers 401 */
    unsigned long long auth_limited;		/* API answers 429: failures from the address */
};

struct hmetrics *hmetrics_new(const char *node);
struct prom *hmetrics_render(void *m);
void hmetrics_api(struct hmetrics *m, int route, unsigned status);
void hmetrics_free(struct hmetrics *m);

#endif
