/*
 * dnsfix - the fixes outpostctl verify and the test-send report print
 *
 * SYNOPSIS
 *	#include "dnsfix.h"
 *
 *	char *dnsfix_trouble(const char *name);
 *	char *dnsfix_dkim(const char *domain, const char *selector);
 *	char *dnsfix_spf(const char *domain, const char *ip);
 *	char *dnsfix_dmarc(const char *domain);
 *	char *dnsfix_align(const char *from_domain);
 *	const char *dnsfix_one_click(void);
 *	const char *dnsfix_tls(void);
 *
 * DESCRIPTION
 *	One wording for each thing an operator must do about the records a
 *	sending domain publishes, so that outpostctl verify (which also
 *	prints the exact record) and the receiver's view of outpostctl
 *	test-send (which names the record to fix) say the same.  Each
 *	returns an allocated string the caller frees, except the constant
 *	texts.
 *
 *	dnsfix_trouble(): the name servers of name answered SERVFAIL or not
 *	at all.  dnsfix_dkim(): the key record of selector (NULL: the
 *	domain's selectors) is missing or does not match the private key.
 *	dnsfix_spf(): ip may not send for domain.  dnsfix_dmarc(): domain
 *	has no DMARC record.  dnsfix_align(): neither the DKIM d= nor the
 *	return path is in the From: domain's organizational domain.
 *	dnsfix_one_click(): the List-Unsubscribe fields bulk senders need.
 *	dnsfix_tls(): the relay's hop was not encrypted.
 */
#ifndef OUTPOST_DNSFIX_H
#define OUTPOST_DNSFIX_H

char *dnsfix_trouble(const char *name);
char *dnsfix_dkim(const char *domain, const char *selector);
char *dnsfix_spf(const char *domain, const char *ip);
char *dnsfix_dmarc(const char *domain);
char *dnsfix_align(const char *from_domain);
const char *dnsfix_one_click(void);
const char *dnsfix_tls(void);

#endif
