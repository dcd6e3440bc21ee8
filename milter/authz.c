/*
 * authz - which SASL user may sign for which domains (see authz.h)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "authz.h"
#include "xalloc.h"

struct authz_user {
    char *name;
    char **domains;
    size_t ndomains;
    int line;
};

struct authz {
    struct authz_user *v;
    size_t n;
};

static int parse_line(struct authz *az, char *line, int lineno, char *why,
		      size_t whylen);

/* parse_line - "USER DOMAIN..." into a new user; 0 ok or blank, -1 error */
static int
parse_line(struct authz *az, char *line, int lineno, char *why, size_t whylen)
{
    struct authz_user u = {0};
    char *save = NULL, *tok, *hash, dom[DOMAIN_MAX];
    const char *reason;
    size_t i;

    if ((hash = strchr(line, '#')) != NULL)
	*hash = '\0';
    if ((tok = strtok_r(line, " \t\r", &save)) == NULL)
	return 0;
    for (i = 0; i < az->n; i++) {
	if (strcmp(az->v[i].name, tok) == 0) {
	    snprintf(why, whylen, "user '%.100s' already listed on line %d", tok,
		     az->v[i].line);
	    return -1;
	}
    }
    u.name = xstrdup(tok);
    u.line = lineno;
    while ((tok = strtok_r(NULL, " \t\r", &save)) != NULL) {
	if (domain_normalize(tok, strlen(tok), dom, sizeof(dom), &reason) < 0) {
	    snprintf(why, whylen, "domain '%.100s': %s", tok, reason);
	    goto fail;
	}
	u.domains = xreallocarray(u.domains, u.ndomains + 1, sizeof(*u.domains));
	u.domains[u.ndomains++] = xstrdup(dom);
    }
    if (u.ndomains == 0) {
	snprintf(why, whylen, "user '%.100s' has no domains (want USER DOMAIN...)", u.name);
	goto fail;
    }
    az->v = xreallocarray(az->v, az->n + 1, sizeof(*az->v));
    az->v[az->n++] = u;
    return 0;

fail:
    for (i = 0; i < u.ndomains; i++)
	free(u.domains[i]);
    free(u.domains);
    free(u.name);
    return -1;
}

/* authz_parse - a table from a buffer */
struct authz *
authz_parse(const char *buf, size_t len, const char *name, char *err, size_t errlen)
{
    struct authz *az = xcalloc(1, sizeof(*az));
    char line[AUTHZ_LINE_MAX + 1], why[300];
    size_t pos = 0, n;
    int lineno = 0;

    if (len > AUTHZ_FILE_MAX) {
	snprintf(err, errlen, "%s: larger than %d bytes", name, AUTHZ_FILE_MAX);
	authz_free(az);
	return NULL;
    }
    while (pos < len) {
	const char *nl = memchr(buf + pos, '\n', len - pos);

	n = nl ? (size_t) (nl - (buf + pos)) : len - pos;
	lineno++;
	if (n > AUTHZ_LINE_MAX) {
	    snprintf(err, errlen, "%s:%d: line longer than %d bytes", name, lineno,
		     AUTHZ_LINE_MAX);
	    authz_free(az);
	    return NULL;
	}
	memcpy(line, buf + pos, n);
	line[n] = '\0';
	if (memchr(line, '\0', n) != NULL) {
	    snprintf(err, errlen, "%s:%d: NUL byte in line", name, lineno);
	    authz_free(az);
	    return NULL;
	}
	if (parse_line(az, line, lineno, why, sizeof(why)) < 0) {
	    snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
	    authz_free(az);
	    return NULL;
	}
	pos += n + (nl != NULL);
    }
    return az;
}

/* authz_load - read a file and parse it */
struct authz *
authz_load(const char *path, char *err, size_t errlen)
{
    struct authz *az;
    struct stat st;
    char *buf;
    ssize_t got;
    int fd;

    if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0) {
	snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	if (fd >= 0)
	    close(fd);
	return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > AUTHZ_FILE_MAX) {
	snprintf(err, errlen, "%s: not a regular file, or larger than %d bytes", path,
		 AUTHZ_FILE_MAX);
	close(fd);
	return NULL;
    }
    buf = xmalloc((size_t) st.st_size + 1);
    got = read(fd, buf, (size_t) st.st_size);
    close(fd);
    if (got != st.st_size) {
	snprintf(err, errlen, "%s: short read", path);
	free(buf);
	return NULL;
    }
    az = authz_parse(buf, (size_t) got, path, err, errlen);
    free(buf);
    return az;
}

/* authz_free - release a table */
void
authz_free(struct authz *az)
{
    size_t i, j;

    if (az == NULL)
	return;
    for (i = 0; i < az->n; i++) {
	for (j = 0; j < az->v[i].ndomains; j++)
	    free(az->v[i].domains[j]);
	free(az->v[i].domains);
	free(az->v[i].name);
    }
    free(az->v);
    free(az);
}

/* authz_allows - may user sign for domain (or is it under one of its domains)? */
int
authz_allows(const struct authz *az, const char *user, const char *domain)
{
    size_t i, j, dlen = strlen(domain);

    for (i = 0; i < az->n; i++) {
	if (strcmp(az->v[i].name, user) != 0)
	    continue;
	for (j = 0; j < az->v[i].ndomains; j++) {
	    const char *d = az->v[i].domains[j];
	    size_t len = strlen(d);

	    if (dlen == len && strcmp(domain, d) == 0)
		return 1;
	    if (dlen > len && domain[dlen - len - 1] == '.'
		&& strcmp(domain + dlen - len, d) == 0)
		return 1;
	}
	return 0;
    }
    return 0;
}
