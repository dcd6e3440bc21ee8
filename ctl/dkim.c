/*
 * dkim - outpostctl dkim: DKIM key generation and rotation
 *
 * SYNOPSIS
 *	outpostctl [-c FILE] dkim keygen DOMAIN SELECTOR [--algorithm rsa|ed25519]
 *		[--bits N] [--dir DIR] [--add]
 *	outpostctl [-c FILE] dkim rotate DOMAIN SELECTOR [--dir DIR] [--force]
 *
 * DESCRIPTION
 *	keygen makes a new private key (RSA, 2048 bits by default, or
 *	Ed25519, RFC 8463) in DIR/DOMAIN.SELECTOR.key (DIR: the directory of
 *	the [dkim] key_table, else the current one), created with mode 0600
 *	and, when run as root, owned by the [general] user that
 *	outpost-milter runs as.  It never overwrites a file.  With --add the
 *	key is added to the key table: before anything is written, the table
 *	must load and have no key of that algorithm for the domain (that is
 *	a rotation: keygen without --add, then rotate); the table is then
 *	replaced through a temporary file that must load (keyedit(3)), and
 *	the new key file is removed again when that fails.  It prints the DNS
 *	TXT record to publish, split into strings of at most 255 bytes, in
 *	zone-file syntax.
 *
 *	rotate makes the key in DIR/DOMAIN.SELECTOR.key (made by keygen) the
 *	domain's key of its algorithm: unless --force, the TXT record
 *	SELECTOR._domainkey.D (D the line's d= when it has one, else DOMAIN)
 *	must carry its public key, asked as outpostctl verify asks ([dns]
 *	lookup_timeout); then the table line of that algorithm gets the new
 *	selector and key file (a domain without one gets a line), written as
 *	--add writes it, and the next steps are printed.
 *
 * DIAGNOSTICS
 *	Exit status 2 for usage errors; 1 with a message on stderr: an
 *	existing key file, a key table that does not load or would not load
 *	with the change, a record missing, holding another key, or DNS
 *	trouble.  Nothing is changed then.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "addr.h"
#include "conf.h"
#include "ctl.h"
#include "dnsq.h"
#include "domcheck.h"
#include "keyedit.h"
#include "keytable.h"
#include "msg.h"
#include "xalloc.h"

struct keygen_args {
    const char *domain, *selector, *dir;
    enum dkim_alg alg;
    long bits;
    int add, dir_given;
};

struct rotate_args {
    const char *domain, *selector, *dir;
    int force;
};

static int keygen_usage(void);
static int cmd_keygen(const char *conf_path, int argc, char **argv);
static int cmd_rotate(const char *conf_path, int argc, char **argv);

const struct ctl_usage ctl_dkim_usage[] = {
    {"dkim keygen DOMAIN SELECTOR [--algorithm rsa|ed25519] [--bits N] [--dir DIR] [--add]",
     "make a DKIM key, print its DNS record"},
    {"dkim rotate DOMAIN SELECTOR [--dir DIR] [--force]",
     "sign with a new key once its DNS record is published"},
    {NULL, NULL},
};

/* keygen_usage - the synopsis, exit status 2 */
static int
keygen_usage(void)
{
    return ctl_usage("dkim", "keygen");
}

/* generate - a new private key */
static EVP_PKEY *
generate(enum dkim_alg alg, long bits)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(alg == DKIM_ALG_RSA ? EVP_PKEY_RSA
					    : EVP_PKEY_ED25519, NULL);
    EVP_PKEY *pkey = NULL;

    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1
	|| (alg == DKIM_ALG_RSA && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int) bits) != 1)
	|| EVP_PKEY_keygen(ctx, &pkey) != 1)
	pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* write_key - PEM into a new file, mode 0600, owned by the daemon user */
static int
write_key(const char *path, EVP_PKEY *pkey, const struct outpost_conf *conf)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    struct passwd *pw;
    FILE *fp;
    int ok, saved;

    if (fd < 0) {
	msg_error("%s: %s", path, strerror(errno));
	return -1;
    }
    if (geteuid() == 0 && conf && conf->general.user
	&& (pw = getpwnam(conf->general.user)) != NULL
	&& fchown(fd, pw->pw_uid, pw->pw_gid) < 0) {
	msg_error("%s: chown: %s", path, strerror(errno));
	close(fd);
	unlink(path);
	return -1;
    }
    if ((fp = fdopen(fd, "w")) == NULL) {
	msg_error("%s: %s", path, strerror(errno));
	close(fd);
	unlink(path);
	return -1;
    }
    errno = 0;
    ok = PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL) == 1 && fflush(fp) == 0;
    saved = errno;
    if (fclose(fp) != 0 && ok) {
	ok = 0;
	saved = errno;
    }
    if (!ok) {
	/* OpenSSL writes through stdio: errno, when set, is the system's reason */
	msg_error("%s: cannot write the key: %s", path,
		  saved ? strerror(saved) : "OpenSSL error");
	unlink(path);
	return -1;
    }
    return 0;
}

/* print_record - the TXT record in zone-file syntax, 255-byte strings */
static void
print_record(FILE *fp, const char *selector, const char *domain, const char *txt)
{
    size_t len = strlen(txt), off;

    fprintf(fp, "%s._domainkey.%s. IN TXT (", selector, domain);
    for (off = 0; off < len; off += 255)
	fprintf(fp, " \"%.*s\"", (int) (len - off > 255 ? 255 : len - off), txt + off);
    fprintf(fp, " )\n");
}

/* load_current - the key table as it is; *kt NULL when there is none yet */
static int
load_current(const char *table, struct keytable **kt)
{
    char err[600];

    *kt = NULL;
    if (access(table, F_OK) < 0 && errno == ENOENT)
	return 0;
    if ((*kt = keytable_load(table, 0, 0, err, sizeof(err))) == NULL) {
	msg_error("the key table does not load as it is: %s; fix it first "
		  "(nothing was written)", err);
	return -1;
    }
    return 0;
}

/* find_entry - the table's key of domain with algorithm alg, or NULL */
static const struct keyentry *
find_entry(const struct keytable *kt, const char *domain, enum dkim_alg alg)
{
    size_t i;

    for (i = 0; kt && i < kt->n; i++)
	if (strcmp(kt->v[i].domain, domain) == 0 && kt->v[i].alg == alg)
	    return &kt->v[i];
    return NULL;
}

/* add_check - would the table still load with the new line?  Before any write */
static int
add_check(const struct keygen_args *a, const char *table, const char *keyfile)
{
    struct keytable *kt;
    const struct keyentry *old;
    size_t i, same = 0;
    int rc = 0;

    if (load_current(table, &kt) < 0)
	return -1;
    if ((old = find_entry(kt, a->domain, a->alg)) != NULL) {
	msg_error("%s already has an %s key (%s, line %d of %s); nothing was written",
		  a->domain, dkim_alg_name(a->alg), old->selector, old->line, table);
	msg_error("to rotate: outpostctl dkim keygen %s %s%s%s%s (without --add), "
		  "publish the record, then outpostctl dkim rotate %s %s%s%s",
		  a->domain, a->selector, a->alg == DKIM_ALG_ED25519 ? " --algorithm ed25519" : "",
		  a->dir_given ? " --dir " : "", a->dir_given ? a->dir : "", a->domain,
		  a->selector, a->dir_given ? " --dir " : "", a->dir_given ? a->dir : "");
	rc = -1;
    }
    for (i = 0; rc == 0 && kt && i < kt->n; i++)
	same += strcmp(kt->v[i].domain, a->domain) == 0;
    if (rc == 0 && same >= KEYTABLE_MAX_PER_DOMAIN) {
	msg_error("%s already has %zu keys in %s, the most a domain may have; "
		  "nothing was written", a->domain, same, table);
	rc = -1;
    }
    if (rc == 0 && access(keyfile, F_OK) == 0) {
	msg_error("%s exists and is never overwritten; nothing was written", keyfile);
	rc = -1;
    }
    keytable_free(kt);
    return rc;
}

/* set_line - domain's line of alg set to selector and keyfile, the table replaced */
static int
set_line(const char *table, const char *domain, enum dkim_alg alg, const char *selector,
	 const char *keyfile, struct keyedit *ke)
{
    char err[700], *text;
    size_t len;
    int rc;

    if (keyedit_read(table, &text, &len, err, sizeof(err)) < 0) {
	msg_error("%s", err);
	return -1;
    }
    rc = keyedit_set(text, len, domain, alg, selector, keyfile, ke, err, sizeof(err));
    free(text);
    if (rc == 0 && (rc = keyedit_install(table, ke->text, ke->len, err, sizeof(err))) < 0)
	keyedit_free(ke);
    if (rc < 0)
	msg_error("%s; the key table is unchanged", err);
    return rc;
}

/* add_to_table - the new key's line into the table, which must then load */
static int
add_to_table(const struct keygen_args *a, const char *table, const char *keyfile)
{
    struct keyedit ke;

    if (set_line(table, a->domain, a->alg, a->selector, keyfile, &ke) < 0)
	return -1;
    if (ke.line != 0) {
	/* add_check() found none: the table changed under us */
	msg_error("%s:%d: %s had an %s key after all; its line now names %s",
		  table, ke.line, a->domain, dkim_alg_name(a->alg), a->selector);
	keyedit_free(&ke);
	return -1;
    }
    keyedit_free(&ke);
    msg_info("added to %s; reload outpost-milter (SIGHUP) to use it", table);
    return 0;
}

/* check_names - normalise *domain into dom, check the selector */
static int
check_names(const char **domain, const char *selector, char *dom, size_t domsz)
{
    const char *why;

    if (domain_normalize(*domain, strlen(*domain), dom, domsz, &why) < 0) {
	msg_error("domain '%s': %s", *domain, why);
	return -1;
    }
    *domain = dom;
    if (strspn(selector, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	       "0123456789-_.") != strlen(selector)) {
	msg_error("selector: letters, digits, '-', '_' and '.' only");
	return -1;
    }
    return 0;
}

/* parse_args - DOMAIN SELECTOR and options */
static int
parse_args(int argc, char **argv, struct keygen_args *a, char *dom, size_t domsz)
{
    int i, pos = 0;

    memset(a, 0, sizeof(*a));
    a->bits = 2048;
    for (i = 2; i < argc; i++) {
	if (strcmp(argv[i], "--algorithm") == 0 && i + 1 < argc) {
	    i++;
	    if (strcmp(argv[i], "rsa") == 0)
		a->alg = DKIM_ALG_RSA;
	    else if (strcmp(argv[i], "ed25519") == 0)
		a->alg = DKIM_ALG_ED25519;
	    else
		return -1;
	} else if (strcmp(argv[i], "--bits") == 0 && i + 1 < argc) {
	    a->bits = strtol(argv[++i], NULL, 10);
	    if (a->bits < 1024 || a->bits > 8192) {
		msg_error("--bits: 1024 to 8192 (2048 recommended)");
		return -1;
	    }
	} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
	    a->dir = argv[++i];
	    a->dir_given = 1;
	} else if (strcmp(argv[i], "--add") == 0) {
	    a->add = 1;
	} else if (argv[i][0] != '-' && pos == 0) {
	    a->domain = argv[i];
	    pos++;
	} else if (argv[i][0] != '-' && pos == 1) {
	    a->selector = argv[i];
	    pos++;
	} else {
	    return -1;
	}
    }
    if (pos != 2)
	return -1;
    return check_names(&a->domain, a->selector, dom, domsz);
}

/* cmd_keygen - outpostctl dkim keygen ... */
static int
cmd_keygen(const char *conf_path, int argc, char **argv)
{
    struct keygen_args a;
    struct outpost_conf *conf = NULL;
    struct keyentry e;
    char dom[DOMAIN_MAX], path[4096], dirbuf[4096], err[600], *txt;
    int rc = 1;

    memset(&e, 0, sizeof(e));		/* "out" frees e.pkey */
    if (parse_args(argc, argv, &a, dom, sizeof(dom)) < 0)
	return keygen_usage();
    if (access(conf_path, R_OK) == 0 || a.add)
	conf = ctl_load_conf(conf_path);
    if (a.add && (conf == NULL || conf->dkim.key_table == NULL)) {
	msg_error("--add: [dkim] key_table is not set in %s", conf_path);
	goto out;
    }
    if (a.dir == NULL && conf && conf->dkim.key_table) {
	snprintf(dirbuf, sizeof(dirbuf), "%s", conf->dkim.key_table);
	a.dir = dirname(dirbuf);
    }
    snprintf(path, sizeof(path), "%s/%s.%s.key", a.dir ? a.dir : ".", a.domain, a.selector);
    if (path[0] != '/' && a.add) {
	msg_error("--add needs an absolute --dir");
	goto out;
    }
    if (a.add && add_check(&a, conf->dkim.key_table, path) < 0)
	goto out;
    e.alg = a.alg;
    e.keyfile = path;
    if ((e.pkey = generate(a.alg, a.bits)) == NULL) {
	msg_error("key generation failed");
	goto out;
    }
    if (write_key(path, e.pkey, conf) < 0)
	goto out;
    msg_info("wrote %s (%s)", path, dkim_alg_name(a.alg));
    if (a.add && add_to_table(&a, conf->dkim.key_table, path) < 0) {
	unlink(path);
	msg_info("removed %s again", path);
	goto out;
    }
    if (keyentry_dns_record(&e, &txt, err, sizeof(err)) < 0) {
	msg_error("%s", err);
	goto out;
    }
    print_record(stdout, a.selector, a.domain, txt);
    free(txt);
    rc = 0;
out:
    EVP_PKEY_free(e.pkey);
    conf_free(conf);
    return rc;
}

/* rotate_parse - DOMAIN SELECTOR [--dir DIR] [--force] */
static int
rotate_parse(int argc, char **argv, struct rotate_args *a, char *dom, size_t domsz)
{
    int i, pos = 0;

    memset(a, 0, sizeof(*a));
    for (i = 2; i < argc; i++) {
	if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
	    a->dir = argv[++i];
	else if (strcmp(argv[i], "--force") == 0)
	    a->force = 1;
	else if (argv[i][0] != '-' && pos < 2)
	    *(pos++ == 0 ? &a->domain : &a->selector) = argv[i];
	else
	    return -1;
    }
    if (pos != 2)
	return -1;
    return check_names(&a->domain, a->selector, dom, domsz);
}

/* read_key - the private key of a key file, its algorithm from the key */
static int
read_key(struct keyentry *e)
{
    FILE *fp = fopen(e->keyfile, "r");

    if (fp == NULL) {
	msg_error("%s: %s (make it with outpostctl dkim keygen, without --add)",
		  e->keyfile, strerror(errno));
	return -1;
    }
    e->pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    if (e->pkey != NULL && EVP_PKEY_base_id(e->pkey) == EVP_PKEY_RSA) {
	e->alg = DKIM_ALG_RSA;
    } else if (e->pkey != NULL && EVP_PKEY_base_id(e->pkey) == EVP_PKEY_ED25519) {
	e->alg = DKIM_ALG_ED25519;
    } else {
	msg_error("%s: not a PEM RSA or Ed25519 private key", e->keyfile);
	return -1;
    }
    return 0;
}

/* record_check - is the key's record published at SELECTOR._domainkey.SDOM?  0: it is */
static int
record_check(const struct outpost_conf *conf, const struct keyentry *e, const char *sdom)
{
    struct dnsq *dq = dnsq_new();
    struct dnsq_result r;
    enum dnsq_status st;
    char name[DOMAIN_MAX + 80], why[1024], err[300], *txt;
    int rc = -1;

    snprintf(name, sizeof(name), "%s._domainkey.%s", e->selector, sdom);
    dnsq_timeout(dq, conf->dns.lookup_timeout_ms);
    st = dnsq_lookup(dq, name, DNSQ_T_TXT, &r);
    if (dnsq_trouble(st)) {
	msg_error("%s: DNS trouble (%s): cannot tell whether the record is published; "
		  "nothing changed (try again later, or --force)", name, dnsq_status_text(st));
    } else if (dnsq_missing(st)) {
	msg_error("%s: no record published (%s); nothing changed; publish this, "
		  "then run rotate again:", name, dnsq_status_text(st));
	if (keyentry_dns_record(e, &txt, err, sizeof(err)) == 0) {
	    print_record(stderr, e->selector, sdom, txt);
	    free(txt);
	}
    } else if (r.n > 1) {
	msg_error("%s: %zu TXT records; receivers may use any of them: publish only one; "
		  "nothing changed", name, r.n);
    } else {
	switch (domcheck_dkim_record(e, name, r.v[0], why, sizeof(why))) {
	case DOMCHECK_PASS:
	    printf("%s\n", why);
	    rc = 0;
	    break;
	case DOMCHECK_WARN:
	    msg_warn("%s", why);
	    rc = 0;
	    break;
	default:
	    msg_error("%s; nothing changed", why);
	    break;
	}
    }
    dnsq_result_free(&r);
    dnsq_free(dq);
    return rc;
}

/* print_next - what changed, and what the operator does next */
static void
print_next(const char *table, const struct keyentry *e, const struct keyedit *ke,
	   const char *sign_domain)
{
    if (ke->line)
	printf("%s:%d: %s %s: selector %s -> %s, key file %s -> %s%s%s%s\n", table,
	       ke->line, e->domain, dkim_alg_name(e->alg), ke->old_selector, e->selector,
	       ke->old_keyfile, e->keyfile, ke->sign_domain ? " (d=" : "",
	       ke->sign_domain ? ke->sign_domain : "", ke->sign_domain ? " kept)" : "");
    else
	printf("%s: %s %s: added selector %s, key file %s (the domain had no %s key)\n",
	       table, e->domain, dkim_alg_name(e->alg), e->selector, e->keyfile,
	       dkim_alg_name(e->alg));
    printf("next:\n  1. reload outpost-milter: systemctl reload outpost-milter "
	   "(or send it SIGHUP); it then signs with s=%s\n", e->selector);
    if (ke->line)
	printf("  2. keep %s._domainkey.%s published for some days: mail signed with s=%s "
	       "may still be verified later (delayed, forwarded); then remove that record, "
	       "and %s\n", ke->old_selector, sign_domain, ke->old_selector, ke->old_keyfile);
}

/* cmd_rotate - outpostctl dkim rotate DOMAIN SELECTOR [--dir DIR] [--force] */
static int
cmd_rotate(const char *conf_path, int argc, char **argv)
{
    struct rotate_args a;
    struct outpost_conf *conf;
    struct keytable *kt = NULL;
    const struct keyentry *cur;
    struct keyentry e;
    struct keyedit ke;
    char dom[DOMAIN_MAX], path[4096], dirbuf[4096];
    const char *table, *sdom;
    int rc = 1;

    if (rotate_parse(argc, argv, &a, dom, sizeof(dom)) < 0)
	return ctl_usage("dkim", "rotate");
    conf = ctl_load_conf(conf_path);
    memset(&e, 0, sizeof(e));
    if ((table = conf->dkim.key_table) == NULL) {
	msg_error("[dkim] key_table is not set in %s", conf_path);
	goto out;
    }
    if (a.dir == NULL) {
	snprintf(dirbuf, sizeof(dirbuf), "%s", table);
	a.dir = dirname(dirbuf);
    }
    snprintf(path, sizeof(path), "%s/%s.%s.key", a.dir, a.domain, a.selector);
    if (path[0] != '/') {
	msg_error("the key table needs an absolute path: give an absolute --dir");
	goto out;
    }
    e.domain = (char *) a.domain;
    e.selector = (char *) a.selector;
    e.keyfile = path;
    if (read_key(&e) < 0 || load_current(table, &kt) < 0)
	goto out;
    cur = find_entry(kt, a.domain, e.alg);
    /* the signature's d=, and so the record's name, is the line's d= when it has one */
    sdom = cur && strcmp(cur->sign_domain, cur->domain) != 0 ? cur->sign_domain : a.domain;
    if (cur && strcmp(cur->selector, a.selector) == 0 && strcmp(cur->keyfile, path) == 0) {
	printf("%s:%d: %s already signs with s=%s (%s): nothing to change\n", table,
	       cur->line, a.domain, a.selector, dkim_alg_name(e.alg));
	rc = 0;
	goto out;
    }
    if (!a.force && record_check(conf, &e, sdom) < 0)
	goto out;
    if (set_line(table, a.domain, e.alg, a.selector, path, &ke) < 0)
	goto out;
    print_next(table, &e, &ke, sdom);
    keyedit_free(&ke);
    rc = 0;
out:
    keytable_free(kt);
    EVP_PKEY_free(e.pkey);
    conf_free(conf);
    return rc;
}

/* cmd_dkim - outpostctl dkim keygen|rotate ... */
int
cmd_dkim(const char *conf_path, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
	return cmd_keygen(conf_path, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "rotate") == 0)
	return cmd_rotate(conf_path, argc, argv);
    return ctl_usage("dkim", NULL);
}
