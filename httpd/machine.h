/*
 * machine - was an open or a click a person's, or a machine's?
 *
 * SYNOPSIS
 *	#include "machine.h"
 *
 *	int machine_classify(const struct machine_rules *r, const char *ua,
 *			     const char *addr, long long delay_ms);
 *	const char *machine_signal_name(int signal);
 *
 * DESCRIPTION
 *	Mailbox providers and security products fetch images and links on
 *	their own: Apple Mail Privacy Protection loads every image of every
 *	message through Apple's proxies when the message arrives, Gmail and
 *	Yahoo fetch images through their image proxies, and link scanners
 *	follow every link of a message within seconds of its delivery.
 *	Counted as opens and clicks they would make the numbers lie, so they
 *	are counted apart (opens_machine, clicks_machine).  The signals, the
 *	first that matches names the verdict:
 *
 *	MACHINE_AGENT	the User-Agent holds, in any case, a word of the
 *			built-in list (GoogleImageProxy, ggpht.com,
 *			YahooMailProxy, bot, crawler, spider, scanner,
 *			preview, python-requests, curl/, wget/,
 *			go-http-client, java/, okhttp, libwww, httpclient,
 *			headlesschrome, barracuda, proofpoint, mimecast,
 *			urldefense, safelinks) or of r->agents
 *	MACHINE_APPLE	the User-Agent is exactly "Mozilla/5.0": what Apple's
 *			privacy proxy sends, and no browser does
 *	MACHINE_NO_AGENT  no User-Agent at all
 *	MACHINE_NETWORK	the client address is in r->networks (by default
 *			Apple's 17.0.0.0/8 and Google's image proxies)
 *	MACHINE_EARLY	the fetch came less than r->delay_ms after the token
 *			was issued (the message was sent): no person reads
 *			that fast, a scanner does
 *
 *	machine_classify() returns MACHINE_HUMAN (0) or the signal.  ua may
 *	be NULL (no header), addr is the client's address as text (NULL:
 *	unknown), delay_ms the time from the token's issue to the request.
 *	It reads at most MACHINE_UA_MAX bytes of ua.
 */
#ifndef OUTPOST_HTTPD_MACHINE_H
#define OUTPOST_HTTPD_MACHINE_H

#include "confval.h"

#define MACHINE_UA_MAX 1024

enum machine_signal {
    MACHINE_HUMAN = 0, MACHINE_AGENT, MACHINE_APPLE, MACHINE_NO_AGENT,
    MACHINE_NETWORK, MACHINE_EARLY,
};

struct machine_rules {
    const struct cidr_list *networks;
    const struct conf_strlist *agents;	/* more words, or NULL */
    long long delay_ms;
};

int machine_classify(const struct machine_rules *r, const char *ua, const char *addr,
		     long long delay_ms);
const char *machine_signal_name(int signal);

#endif
