/*
 * dnsfix - the fixes outpostctl verify and the test-send report print
 * (see dnsfix.h)
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dnsfix.h"
#include "xalloc.h"

static char *text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* text - an allocated copy of formatted text */
static char *
text(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return xstrdup(buf);
}

/* dnsfix_trouble - what to do about DNS trouble */
char *
dnsfix_trouble(const char *name)
{
    return text("none to publish yet: the name servers for %s must answer "
		"(SERVFAIL or timeout); fix them and run verify again", name);
}

/* dnsfix_dkim - a key record that is missing or does not match */
char *
dnsfix_dkim(const char *domain, const char *selector)
{
    if (selector && *selector)
	return text("publish the key record %s._domainkey.%s as outpostctl dns %s "
		    "prints it (the public half of the key table's private key); "
		    "outpostctl verify %s checks it", selector, domain, domain, domain);
    return text("add a key for %s to the key table (outpostctl dkim keygen %s "
		"SELECTOR --add), publish the record outpostctl dns %s prints, "
		"and send from a client in [dkim] sign_networks or authenticated",
		domain, domain, domain);
}

/* dnsfix_spf - an address that may not send for a domain */
char *
dnsfix_spf(const char *domain, const char *ip)
{
    return text("add %s:%s to the SPF record of %s, before its \"all\" "
		"(outpostctl verify %s prints the whole record)",
		ip && strchr(ip, ':') ? "ip6" : "ip4",
		ip && *ip ? ip : "ADDRESS", domain, domain);
}

/* dnsfix_dmarc - a domain without a DMARC record */
char *
dnsfix_dmarc(const char *domain)
{
    return text("publish _dmarc.%s TXT \"v=DMARC1; p=none; rua=mailto:ADDRESS\" "
		"(outpostctl dns %s prints it with the reporting address), "
		"then raise p= once the reports are clean", domain, domain);
}

/* dnsfix_align - neither identifier aligns with the From: domain */
char *
dnsfix_align(const char *from_domain)
{
    return text("sign with a key whose d= is %s or its parent (the key table), "
		"or set [intake] bounce_domain to a name under %s (bounces.%%d)",
		from_domain, from_domain);
}

/* dnsfix_one_click - the fields Gmail and Yahoo require of bulk mail */
const char *
dnsfix_one_click(void)
{
    return "add List-Unsubscribe: <https://...> and List-Unsubscribe-Post: "
	"List-Unsubscribe=One-Click (RFC 8058), or let the milter add them: "
	"[milter] list_unsubscribe_senders in outpost.conf";
}

/* dnsfix_tls - the hop was not encrypted */
const char *
dnsfix_tls(void)
{
    return "let the relay's SMTP client use STARTTLS: smtp_tls_security_level = may "
	"(or dane) in Postfix's main.cf, with smtp_tls_CApath set";
}
