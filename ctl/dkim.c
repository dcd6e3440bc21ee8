/*
 * dkim - outpostctl dkim: DKIM key generation
 *
 * SYNOPSIS
 *	outpostctl [-c FILE] dkim keygen DOMAIN SELECTOR [--algorithm rsa|ed25519]
 *		[--bits N] [--dir DIR] [--add]
 *
 * DESCRIPTION
 *	keygen makes a new private key (RSA, 2048 bits by default, or
 *	Ed25519, RFC 8463) in DIR/DOMAIN.SELECTOR.key (DIR: the directory of
 *	the [dkim] key_table, else the current one), created with mode 0600
 *	and, when run as root, owned by the [general] user that
 *	outpost-milter runs as.  It never overwrites a file.  With --add the
 *	key is appended to the key table (and the table is checked again).
 *	It prints the DNS TXT record to publish, split into strings of at
 *	most 255 bytes, in zone-file syntax.
 *
 * DIAGNOSTICS
 *	Exit status 1 with a message on stderr: bad arguments, an existing
 *	key file, a key table that no longer loads.
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
#include "keytable.h"
#include "msg.h"
#include "xalloc.h"

struct keygen_args {
    const char *domain, *selector, *dir;
    enum dkim_alg alg;
    long bits;
    int add;
};

static int keygen_usage(void);

const struct ctl_usage ctl_dkim_usage[] = {
    {"dkim keygen DOMAIN SELECTOR [--algorithm rsa|ed25519] [--bits N] [--dir DIR] [--add]",
     "make a DKIM key, print its DNS record"},
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
print_record(const struct keygen_args *a, const char *txt)
{
    size_t len = strlen(txt), off;

    printf("%s._domainkey.%s. IN TXT (", a->selector, a->domain);
    for (off = 0; off < len; off += 255)
	printf(" \"%.*s\"", (int) (len - off > 255 ? 255 : len - off), txt + off);
    printf(" )\n");
}

/* add_to_table - append the key, then make sure the table still loads */
static int
add_to_table(const struct keygen_args *a, const char *table, const char *keyfile)
{
    FILE *fp = fopen(table, "a");
    struct keytable *kt;
    char err[600];
    int bad;

    if (fp == NULL) {
	msg_error("%s: %s", table, strerror(errno));
	return -1;
    }
    fprintf(fp, "%s %s %s %s\n", a->domain, a->selector, dkim_alg_name(a->alg), keyfile);
    bad = ferror(fp);
    if (fclose(fp) != 0 || bad) {
	msg_error("%s: cannot write: %s", table, strerror(errno));
	return -1;
    }
    if ((kt = keytable_load(table, 0, 0, err, sizeof(err))) == NULL) {
	msg_error("the key table no longer loads: %s", err);
	return -1;
    }
    keytable_free(kt);
    msg_info("added to %s; reload outpost-milter (SIGHUP) to use it", table);
    return 0;
}

/* parse_args - DOMAIN SELECTOR and options */
static int
parse_args(int argc, char **argv, struct keygen_args *a, char *dom, size_t domsz)
{
    const char *why;
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
    if (domain_normalize(a->domain, strlen(a->domain), dom, domsz, &why) < 0) {
	msg_error("domain '%s': %s", a->domain, why);
	return -1;
    }
    a->domain = dom;
    if (strspn(a->selector, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	       "0123456789-_.") != strlen(a->selector)) {
	msg_error("selector: letters, digits, '-', '_' and '.' only");
	return -1;
    }
    return 0;
}

/* cmd_dkim - outpostctl dkim keygen ... */
int
cmd_dkim(const char *conf_path, int argc, char **argv)
{
    struct keygen_args a;
    struct outpost_conf *conf = NULL;
    struct keyentry e;
    char dom[DOMAIN_MAX], path[4096], dirbuf[4096], err[600], *txt;
    int rc = 1;

    memset(&e, 0, sizeof(e));		/* "out" frees e.pkey */
    if (argc < 2 || strcmp(argv[1], "keygen") != 0
	|| parse_args(argc, argv, &a, dom, sizeof(dom)) < 0)
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
    e.alg = a.alg;
    e.keyfile = path;
    if ((e.pkey = generate(a.alg, a.bits)) == NULL) {
	msg_error("key generation failed");
	goto out;
    }
    if (write_key(path, e.pkey, conf) < 0)
	goto out;
    msg_info("wrote %s (%s)", path, dkim_alg_name(a.alg));
    if (a.add && add_to_table(&a, conf->dkim.key_table, path) < 0)
	goto out;
    if (keyentry_dns_record(&e, &txt, err, sizeof(err)) < 0) {
	msg_error("%s", err);
	goto out;
    }
    print_record(&a, txt);
    free(txt);
    rc = 0;
out:
    EVP_PKEY_free(e.pkey);
    conf_free(conf);
    return rc;
}
