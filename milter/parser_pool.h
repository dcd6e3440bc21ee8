/*
 * parser_pool - the processes that read reports for the milter
 *
 * SYNOPSIS
 *	#include "parser_pool.h"
 *
 *	void parser_pool_init(int size);
 *	const char *parser_pool_program(void);
 *	int parser_pool_check(char *err, size_t errlen);
 *	int parser_pool_run(const char *msg, size_t len, int flags,
 *			    struct report_digest *d, const char *qid);
 *	void parser_pool_shutdown(void);
 *
 * DESCRIPTION
 *	The milter holds the DKIM keys and the token secrets; it does not
 *	read reports (outside bytes, MIME) itself.  parser_pool_run() sends
 *	one report to an outpost-intake-parse(8) process over a socket and
 *	decodes the digest it answers (report_digest(3)), within
 *	PARSER_POOL_TIMEOUT_MS.  Up to size processes run, one report each
 *	at a time; each is started when first needed, after the milter has
 *	dropped its privileges, with only the socket, stdout and stderr
 *	open, and kept for the next reports.  One that dies, answers
 *	nonsense or is too slow is killed and reaped: that report fails
 *	(the caller asks for a retry) and the next one starts a new process.
 *
 *	The program is OUTPOST_INTAKE_PARSER (the configured libexec
 *	directory), or $OUTPOST_INTAKE_PARSER (tests run the build tree).
 *	parser_pool_check() says whether it can be run.
 *	parser_pool_shutdown() ends every process.
 *
 * DIAGNOSTICS
 *	parser_pool_run() returns 0 with d filled, -1 when the parser failed
 *	(logged; d empty), -2 when all size processes are busy.
 */
#ifndef OUTPOST_PARSER_POOL_H
#define OUTPOST_PARSER_POOL_H

#include <stddef.h>

#include "report_digest.h"

#define PARSER_POOL_MAX 16
#define PARSER_POOL_TIMEOUT_MS 30000

void parser_pool_init(int size);
const char *parser_pool_program(void);
int parser_pool_check(char *err, size_t errlen);
int parser_pool_run(const char *msg, size_t len, int flags, struct report_digest *d,
		    const char *qid);
void parser_pool_shutdown(void);

#endif
