/*
 * keyedit - changes to the DKIM key table's text (see keyedit.h)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "keyedit.h"
#include "xalloc.h"

#define FIELDS_MAX	5

struct span {
    size_t off, len;		/* within the table's text */
};

static int split_line(const char *text, size_t start, size_t end, struct span *f);
static int line_matches(const char *text, const struct span *f, int nf,
			const char *domain, enum dkim_alg alg);
static int field_ok(const char *s);
static char *span_dup(const char *text, const struct span *s);
static void append(char *out, size_t *len, const char *p, size_t n);

/* is_sep - white space between the fields, as keytable_load() splits them */
static int
is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* split_line - the fields of one line before any '#'; how many (at most FIELDS_MAX + 1) */
static int
split_line(const char *text, size_t start, size_t end, struct span *f)
{
    const char *hash = memchr(text + start, '#', end - start);
    size_t i = start, stop = hash ? (size_t) (hash - text) : end, s;
    int nf = 0;

    while (i < stop && nf <= FIELDS_MAX) {
	while (i < stop && is_sep(text[i]))
	    i++;
	if (i == stop)
	    break;
	for (s = i; i < stop && !is_sep(text[i]); i++)
	    continue;
	if (nf < FIELDS_MAX) {
	    f[nf].off = s;
	    f[nf].len = i - s;
	}
	nf++;
    }
    return nf;
}

/* span_is - does the field hold exactly word? */
static int
span_is(const char *text, const struct span *s, const char *word)
{
    return s->len == strlen(word) && memcmp(text + s->off, word, s->len) == 0;
}

/* line_matches - is this the line of domain with algorithm alg? */
static int
line_matches(const char *text, const struct span *f, int nf, const char *domain,
	     enum dkim_alg alg)
{
    char dom[DOMAIN_MAX];
    const char *why;
    int rsa, ed;

    if (nf < 4 || nf > FIELDS_MAX)
	return 0;
    rsa = span_is(text, &f[2], "rsa") || span_is(text, &f[2], "rsa-sha256");
    ed = span_is(text, &f[2], "ed25519") || span_is(text, &f[2], "ed25519-sha256");
    if ((alg == DKIM_ALG_RSA && !rsa) || (alg == DKIM_ALG_ED25519 && !ed))
	return 0;
    if (domain_normalize(text + f[0].off, f[0].len, dom, sizeof(dom), &why) < 0)
	return 0;
    return strcmp(dom, domain) == 0;
}

/* field_ok - can s stand as one field of a line? */
static int
field_ok(const char *s)
{
    return *s != '\0' && strpbrk(s, " \t\r\n#") == NULL;
}

/* span_dup - a field as a string */
static char *
span_dup(const char *text, const struct span *s)
{
    char *out = xmalloc(s->len + 1);

    memcpy(out, text + s->off, s->len);
    out[s->len] = '\0';
    return out;
}

/* append - n bytes onto out, which the caller sized */
static void
append(char *out, size_t *len, const char *p, size_t n)
{
    memcpy(out + *len, p, n);
    *len += n;
}

/* keyedit_set - the table with domain's alg line set to selector and keyfile */
int
keyedit_set(const char *text, size_t len, const char *domain, enum dkim_alg alg,
	    const char *selector, const char *keyfile, struct keyedit *ke,
	    char *err, size_t errlen)
{
    struct span f[FIELDS_MAX] = {{0, 0}}, hit[FIELDS_MAX] = {{0, 0}};
    size_t start, end, size, n = 0;
    const char *nl;
    int line = 0, nf;

    memset(ke, 0, sizeof(*ke));
    if (!field_ok(selector) || !field_ok(keyfile) || !field_ok(domain)) {
	snprintf(err, errlen, "a domain, selector or key file with white space or '#' "
		 "cannot stand in the key table");
	return -1;
    }
    if (len > KEYEDIT_MAX) {
	snprintf(err, errlen, "the key table is larger than %d bytes", KEYEDIT_MAX);
	return -1;
    }
    for (start = 0; start < len; start = end + 1) {
	nl = memchr(text + start, '\n', len - start);
	end = nl ? (size_t) (nl - text) : len;
	line++;
	nf = split_line(text, start, end, f);
	if (!line_matches(text, f, nf, domain, alg))
	    continue;
	if (ke->line) {
	    snprintf(err, errlen, "%s has two %s keys (lines %d and %d)", domain,
		     dkim_alg_name(alg), ke->line, line);
	    keyedit_free(ke);
	    return -1;
	}
	ke->line = line;
	memcpy(hit, f, sizeof(hit));
	ke->old_selector = span_dup(text, &f[1]);
	ke->old_keyfile = span_dup(text, &f[3]);
	if (nf == 5 && f[4].len > 2 && memcmp(text + f[4].off, "d=", 2) == 0) {
	    struct span d = {f[4].off + 2, f[4].len - 2};

	    ke->sign_domain = span_dup(text, &d);
	}
    }
    /* sizes bounded: len by KEYEDIT_MAX, the others are strings in memory */
    size = len + strlen(domain) + strlen(selector) + strlen(keyfile) + 32;
    ke->text = xmalloc(size);
    if (ke->line) {
	append(ke->text, &n, text, hit[1].off);
	append(ke->text, &n, selector, strlen(selector));
	append(ke->text, &n, text + hit[1].off + hit[1].len,
	       hit[3].off - (hit[1].off + hit[1].len));
	append(ke->text, &n, keyfile, strlen(keyfile));
	append(ke->text, &n, text + hit[3].off + hit[3].len,
	       len - (hit[3].off + hit[3].len));
    } else {
	append(ke->text, &n, text, len);
	if (len > 0 && text[len - 1] != '\n')
	    append(ke->text, &n, "\n", 1);
	n += (size_t) snprintf(ke->text + n, size - n, "%s %s %s %s\n", domain, selector,
			       dkim_alg_name(alg), keyfile);
    }
    ke->text[n] = '\0';
    ke->len = n;
    return 0;
}

/* keyedit_free - release what keyedit_set() allocated */
void
keyedit_free(struct keyedit *ke)
{
    free(ke->text);
    free(ke->old_selector);
    free(ke->old_keyfile);
    free(ke->sign_domain);
    memset(ke, 0, sizeof(*ke));
}

/* keyedit_read - the whole table, "" when it does not exist */
int
keyedit_read(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    ssize_t got;
    size_t n = 0;
    char *buf;

    *text = NULL;
    *len = 0;
    if (fd < 0 && errno == ENOENT) {
	*text = xstrdup("");
	return 0;
    }
    if (fd < 0 || fstat(fd, &st) < 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd >= 0)
	    close(fd);
	return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > KEYEDIT_MAX) {
	snprintf(err, errlen, "%s: not a regular file of at most %d bytes", path, KEYEDIT_MAX);
	close(fd);
	return -1;
    }
    buf = xmalloc(KEYEDIT_MAX + 1);
    while (n <= KEYEDIT_MAX && (got = read(fd, buf + n, KEYEDIT_MAX + 1 - n)) != 0) {
	if (got < 0 && errno == EINTR)
	    continue;
	if (got < 0) {
	    snprintf(err, errlen, "%s: %s", path, strerror(errno));
	    free(buf);
	    close(fd);
	    return -1;
	}
	n += (size_t) got;
    }
    close(fd);
    if (n > KEYEDIT_MAX) {
	snprintf(err, errlen, "%s: larger than %d bytes", path, KEYEDIT_MAX);
	free(buf);
	return -1;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

/* write_all - the whole buffer, then to disk */
static int
write_all(int fd, const char *text, size_t len)
{
    ssize_t n;

    while (len > 0) {
	if ((n = write(fd, text, len)) < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return -1;
	text += n;
	len -= (size_t) n;
    }
    return fsync(fd);
}

/* keyedit_install - replace the table by a file that loads, or not at all */
int
keyedit_install(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
    char real[PATH_MAX], tmp[PATH_MAX + 16], lerr[600];
    const char *slash, *base;
    struct stat st, now;
    struct keytable *kt;
    int fd, have, dfd;

    if (realpath(path, real) == NULL) {
	if (errno != ENOENT || strlen(path) >= sizeof(real)) {
	    snprintf(err, errlen, "%s: %s", path, strerror(errno));
	    return -1;
	}
	snprintf(real, sizeof(real), "%s", path);
    }
    have = stat(real, &st) == 0;
    slash = strrchr(real, '/');
    base = slash ? slash + 1 : real;
    snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", slash ? (int) (slash - real + 1) : 0,
	     real, base);
    if ((fd = mkstemp(tmp)) < 0) {
	snprintf(err, errlen, "%s: cannot make a temporary file beside it: %s", real,
		 strerror(errno));
	return -1;
    }
    if (fchmod(fd, have ? st.st_mode & 07777 : 0644) < 0
	|| fstat(fd, &now) < 0
	|| (have && (now.st_uid != st.st_uid || now.st_gid != st.st_gid)
	    && fchown(fd, st.st_uid, st.st_gid) < 0)) {
	snprintf(err, errlen, "%s: cannot give the new table the mode and owner of "
		 "the old one: %s", real, strerror(errno));
	goto fail;
    }
    if (write_all(fd, text, len) < 0) {
	snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
	goto fail;
    }
    if (close(fd) < 0) {
	fd = -1;
	snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
	goto fail;
    }
    fd = -1;
    if ((kt = keytable_load(tmp, 0, 0, lerr, sizeof(lerr))) == NULL) {
	/* name the table, not the temporary file, in "FILE:LINE: problem" */
	if (strncmp(lerr, tmp, strlen(tmp)) == 0)
	    snprintf(err, errlen, "%s%s", real, lerr + strlen(tmp));
	else
	    snprintf(err, errlen, "%s", lerr);
	goto fail;
    }
    keytable_free(kt);
    if (rename(tmp, real) < 0) {
	snprintf(err, errlen, "%s: cannot replace: %s", real, strerror(errno));
	goto fail;
    }
    /* the rename itself to disk: best effort, the table is in place either way */
    snprintf(tmp, sizeof(tmp), "%.*s", slash ? (int) (slash - real + 1) : 1,
	     slash ? real : ".");
    if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY)) >= 0) {
	(void) fsync(dfd);
	close(dfd);
    }
    return 0;

fail:
    if (fd >= 0)
	close(fd);
    unlink(tmp);
    return -1;
}
