/*
 * check_postfix - outpostctl check-config --postfix: does Postfix ask Outpost?
 *
 * SYNOPSIS
 *	outpostctl [-c FILE] check-config --postfix [MAIN.CF | DIR]
 *
 * DESCRIPTION
 *	Reads the effective settings of a Postfix instance through postconf(1)
 *	("postconf -x -h", "-F" and "-P -x": main.cf and the -o overrides of
 *	each smtpd in master.cf), for the configuration directory of MAIN.CF
 *	(default: postconf's own, /etc/postfix or $MAIL_CONFIG), and for each
 *	smtpd service checks that:
 *
 *	- check_policy_service is in one of its restriction lists, with no
 *	  permit_* before it in the same list (a permit ends its list: the
 *	  policy service would never see the clients it permits, which are the
 *	  submitters);
 *	- smtpd_milters names outpost-milter's socket;
 *	- both sockets, resolved as that smtpd resolves them (inside
 *	  queue_directory when it is chrooted, relative names against
 *	  queue_directory in any case), are where outpost.conf ([milter]
 *	  socket, [policy] listen) has the daemons listen.
 *
 *	A restriction class (smtpd_restriction_classes, main.cf) named in a
 *	list is read in its place, as smtpd evaluates it: the policy check
 *	may sit in a class, and a permit in a class (or before it) ends the
 *	list as any permit does.  Classes nest at most PF_CLASS_DEPTH deep;
 *	those reached only through access tables cannot be followed.
 *
 *	Each [pool NAME]'s transport must be a unix service of master.cf:
 *	its mail leaves by it, and outpost-policyd's FILTER answer names it.
 *
 *	An smtpd that overrides content_filter to nothing is taken for the
 *	return path of a content filter, whose mail was checked on its way in:
 *	it is left out.  When outpost.conf cannot be read the sockets are not
 *	compared (a warning says so).
 *
 * DIAGNOSTICS
 *	One error per problem, "outpostctl: postfix: SERVICE: problem"; exit
 *	status 1 when there is one, 0 and "postfix: configuration OK" on
 *	standard output else.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "msg.h"
#include "xalloc.h"

#define PF_OUT_MAX	(4 << 20)	/* postconf's output we read at most */
#define PF_TOKENS_MAX	256		/* restrictions read per list */
#define PF_CLASSES_MAX	24		/* restriction classes read (postconf_run: 31 arguments) */
#define PF_CLASS_DEPTH	4		/* classes within classes */

/* The restriction lists smtpd evaluates at RCPT (smtpd_delay_reject). */
static const char *const pf_lists[] = {
    "smtpd_client_restrictions", "smtpd_helo_restrictions",
    "smtpd_sender_restrictions", "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions", NULL,
};

/* One smtpd service: its name, chroot flag and effective settings. */
struct pf_service {
    char name[128];
    int chroot;
    char *value[6];			/* pf_lists, then smtpd_milters */
    int filter_return;			/* -o content_filter= (empty) */
};

struct pf_check {
    const char *dir;			/* -c DIR, or NULL: postconf's default */
    char *queue_dir;
    char *class_name[PF_CLASSES_MAX];	/* smtpd_restriction_classes */
    char *class_value[PF_CLASSES_MAX];
    int nclass;
    const struct outpost_conf *conf;	/* NULL: sockets not compared */
    int problems;
};

static char *postconf_run(const char *dir, const char *const *args);

/* postconf_run - run postconf [-c DIR] ARGS..., return its output (caller frees) */
static char *
postconf_run(const char *dir, const char *const *args)
{
    const char *argv[32];
    int fds[2], n = 0, status;
    size_t len = 0, cap = 8192;
    char *buf;
    ssize_t got;
    pid_t pid;

    argv[n++] = "postconf";
    if (dir) {
	argv[n++] = "-c";
	argv[n++] = dir;
    }
    while (*args && n < 31)
	argv[n++] = *args++;
    argv[n] = NULL;
    if (pipe(fds) < 0) {
	msg_error("pipe: %s", strerror(errno));
	return NULL;
    }
    if ((pid = fork()) < 0) {
	msg_error("fork: %s", strerror(errno));
	close(fds[0]);
	close(fds[1]);
	return NULL;
    }
    if (pid == 0) {
	dup2(fds[1], 1);
	close(fds[0]);
	close(fds[1]);
	execvp("postconf", (char *const *) argv);
	execv("/usr/sbin/postconf", (char *const *) argv);	/* not in a user's PATH */
	msg_error("postconf: %s", strerror(errno));
	_exit(127);
    }
    close(fds[1]);
    buf = xmalloc(cap);
    for (;;) {
	if (len + 1 >= cap && cap < PF_OUT_MAX)
	    buf = xreallocarray(buf, cap *= 2, 1);
	if (len + 1 >= cap)
	    break;			/* more than we read: the rest is dropped */
	got = read(fds[0], buf + len, cap - len - 1);
	if (got < 0 && errno == EINTR)
	    continue;
	if (got <= 0)
	    break;
	len += (size_t) got;
    }
    buf[len] = '\0';
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
	;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
	msg_error("postconf%s%s failed", dir ? " -c " : "", dir ? dir : "");
	free(buf);
	return NULL;
    }
    return buf;
}

/* next_token - the next restriction or argument: a word, or a { ... } group */
static const char *
next_token(const char *s, char *out, size_t outlen)
{
    size_t n = 0;
    int depth = 0;

    if (s == NULL)
	return NULL;
    s += strspn(s, " \t\r\n,");
    if (*s == '\0')
	return NULL;
    for (; *s; s++) {
	if (*s == '{')
	    depth++;
	else if (*s == '}' && depth > 0 && --depth == 0) {
	    if (n + 1 < outlen)
		out[n++] = *s;
	    s++;
	    break;
	} else if (depth == 0 && strchr(" \t\r\n,", *s))
	    break;
	if (n + 1 < outlen)
	    out[n++] = *s;
    }
    out[n] = '\0';
    return s;
}

/* unbrace - the first word of a "{ name, option=value }" group, else the token */
static void
unbrace(const char *tok, char *out, size_t outlen)
{
    if (*tok == '{')
	tok++;
    tok += strspn(tok, " \t");
    snprintf(out, outlen, "%.*s", (int) strcspn(tok, " \t,}"), tok);
}

/* pf_problem - report one problem */
static void
pf_problem(struct pf_check *pc, const struct pf_service *sv, const char *what)
{
    msg_error("postfix: %s: %s", sv->name, what);
    pc->problems++;
}

/* resolve - where SERVICE's smtpd finds the unix socket it names */
static int
resolve(const struct pf_check *pc, const struct pf_service *sv, const char *name,
	char *out, size_t outlen)
{
    const char *path;

    if (strncmp(name, "inet:", 5) == 0)
	return -1;			/* a TCP socket: nothing to resolve */
    path = strncmp(name, "unix:", 5) == 0 ? name + 5 : name;
    if (path[0] == '/' && !sv->chroot)
	snprintf(out, outlen, "%s", path);
    else
	snprintf(out, outlen, "%s/%s", pc->queue_dir, path[0] == '/' ? path + 1 : path);
    return 0;
}

/* same_place - two socket paths that name one file (bind mounts, "..") */
static int
same_place(const char *a, const char *b)
{
    const char *ba = strrchr(a, '/'), *bb = strrchr(b, '/');
    char da[4096], db[4096];
    struct stat sa, sb;

    if (strcmp(a, b) == 0)
	return 1;
    if (ba == NULL || bb == NULL || strcmp(ba, bb) != 0)
	return 0;
    snprintf(da, sizeof(da), "%.*s/", (int) (ba - a), a);
    snprintf(db, sizeof(db), "%.*s/", (int) (bb - b), b);
    return stat(da, &sa) == 0 && stat(db, &sb) == 0
	&& sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* socket_matches - does NAME, as SERVICE resolves it, reach the daemon's LISTEN? */
static int
socket_matches(const struct pf_check *pc, const struct pf_service *sv, const char *name,
	       const char *listen, char *where, size_t wherelen)
{
    if (strncmp(name, "inet:", 5) == 0 || strncmp(listen, "unix:", 5) != 0)
	return strncmp(name, "inet:", 5) == 0 && strncmp(listen, "inet:", 5) == 0;
    if (resolve(pc, sv, name, where, wherelen) < 0)
	return 0;
    return same_place(where, listen + 5);
}

/* the walk of one restriction list, classes read in place */
struct pf_walk {
    const char *list;			/* the list's name */
    int permit;				/* a permit came first: its name in permit_name */
    char permit_name[1024];
    int found;				/* check_policy_service met */
    int tokens;				/* read so far, classes included */
};

/* class_value - the restrictions of a class of that name, or NULL */
static const char *
class_value(const struct pf_check *pc, const char *name)
{
    int i;

    for (i = 0; i < pc->nclass; i++)
	if (strcmp(pc->class_name[i], name) == 0)
	    return pc->class_value[i];
    return NULL;
}

/* policy_here - one check_policy_service's socket: no permit before, the right place */
static void
policy_here(struct pf_check *pc, const struct pf_service *sv, struct pf_walk *w,
	    const char *tok)
{
    char where[4096], msg[8192];
    size_t j;

    if (w->permit) {
	snprintf(msg, sizeof(msg), "%s: %s comes before check_policy_service %s: "
		 "a permit ends the list, so outpost-policyd never sees the clients it "
		 "permits (keep the permits in smtpd_relay_restrictions and the policy "
		 "check in smtpd_recipient_restrictions)", w->list, w->permit_name, tok);
	pf_problem(pc, sv, msg);
    }
    if (pc->conf == NULL)
	return;
    for (j = 0; j < pc->conf->policy.listen.n; j++)
	if (socket_matches(pc, sv, tok, pc->conf->policy.listen.v[j], where, sizeof(where)))
	    return;
    snprintf(msg, sizeof(msg), "%s: check_policy_service %s is %s%s, "
	     "not where outpost-policyd listens ([policy] listen = %s)",
	     w->list, tok, resolve(pc, sv, tok, where, sizeof(where)) < 0
	     ? "a TCP socket" : where, sv->chroot ? " for a chrooted smtpd" : "",
	     pc->conf->policy.listen.n ? pc->conf->policy.listen.v[0] : "none");
    pf_problem(pc, sv, msg);
}

/* walk_list - the restrictions of s, in order; a class's in its place */
static void
walk_list(struct pf_check *pc, const struct pf_service *sv, struct pf_walk *w,
	  const char *s, int depth)
{
    char tok[1024], arg[1024];
    const char *cls;

    while (w->tokens < PF_TOKENS_MAX && (s = next_token(s, tok, sizeof(tok))) != NULL) {
	w->tokens++;
	if (strncmp(tok, "permit", 6) == 0 && !w->permit) {
	    w->permit = 1;
	    snprintf(w->permit_name, sizeof(w->permit_name), "%s", tok);
	    continue;
	}
	if ((cls = class_value(pc, tok)) != NULL) {
	    if (depth < PF_CLASS_DEPTH)
		walk_list(pc, sv, w, cls, depth + 1);
	    continue;
	}
	if (strcmp(tok, "check_policy_service") != 0)
	    continue;
	w->found = 1;
	if ((s = next_token(s, arg, sizeof(arg))) == NULL)
	    break;
	unbrace(arg, tok, sizeof(tok));
	policy_here(pc, sv, w, tok);
    }
}

/* check_policy - the policy check is there, with no permit before it */
static void
check_policy(struct pf_check *pc, struct pf_service *sv)
{
    struct pf_walk w;
    int i, found = 0;

    for (i = 0; pf_lists[i]; i++) {
	memset(&w, 0, sizeof(w));
	w.list = pf_lists[i];
	walk_list(pc, sv, &w, sv->value[i], 0);
	found |= w.found;
    }
    if (!found)
	pf_problem(pc, sv, "no check_policy_service in its restriction lists: "
		   "outpost-policyd is never asked (add it to smtpd_recipient_restrictions)");
}

/* check_milter - smtpd_milters names outpost-milter's socket */
static void
check_milter(struct pf_check *pc, const struct pf_service *sv)
{
    char tok[1024], name[1024], where[4096], msg[8192], tried[4096] = "";
    const char *s = sv->value[5];
    int n;

    if (s == NULL || s[strspn(s, " \t\r\n,")] == '\0') {
	pf_problem(pc, sv, "smtpd_milters is empty: mail is neither signed nor checked "
		   "by outpost-milter");
	return;
    }
    if (pc->conf == NULL || pc->conf->milter.socket == NULL)
	return;
    for (n = 0; (s = next_token(s, tok, sizeof(tok))) != NULL && n < PF_TOKENS_MAX; n++) {
	unbrace(tok, name, sizeof(name));
	if (socket_matches(pc, sv, name, pc->conf->milter.socket, where, sizeof(where)))
	    return;
	if (tried[0] == '\0' && resolve(pc, sv, name, where, sizeof(where)) == 0)
	    snprintf(tried, sizeof(tried), " (%.1000s is %.2000s%s)", name, where,
		     sv->chroot ? " for a chrooted smtpd" : "");
    }
    snprintf(msg, sizeof(msg), "smtpd_milters does not reach outpost-milter at %s%s",
	     pc->conf->milter.socket, tried);
    pf_problem(pc, sv, msg);
}

/* main_values - main.cf's effective lists and milters (postconf -x -h) */
static int
main_values(struct pf_check *pc, char **value)
{
    const char *args[12];
    char *out, *line, *next;
    int i;

    args[0] = "-x";
    args[1] = "-h";
    for (i = 0; pf_lists[i]; i++)
	args[2 + i] = pf_lists[i];
    args[2 + i++] = "smtpd_milters";
    args[2 + i] = "queue_directory";
    args[3 + i] = NULL;
    if ((out = postconf_run(pc->dir, args)) == NULL)
	return -1;
    for (line = out, i = 0; i < 7 && line; i++, line = next) {
	if ((next = strchr(line, '\n')) != NULL)
	    *next++ = '\0';
	if (i < 6)
	    value[i] = xstrdup(line);
	else
	    pc->queue_dir = xstrdup(line);
    }
    free(out);
    if (i < 7) {
	msg_error("postconf printed less than it was asked");
	return -1;
    }
    return 0;
}

/* classes - the restriction classes of main.cf and their restrictions */
static int
classes(struct pf_check *pc)
{
    const char *args[PF_CLASSES_MAX + 2];
    static const char *const c_args[] = {"-x", "-h", "smtpd_restriction_classes", NULL};
    char *out, *vals, tok[1024], *line, *next;
    const char *s;
    int i;

    if ((out = postconf_run(pc->dir, c_args)) == NULL)
	return -1;
    for (s = out; pc->nclass < PF_CLASSES_MAX && (s = next_token(s, tok, sizeof(tok))) != NULL;)
	if (tok[0] != '{')
	    pc->class_name[pc->nclass++] = xstrdup(tok);
    free(out);
    if (pc->nclass == 0)
	return 0;
    /* "name = value" lines: a class that is not defined prints none */
    args[0] = "-x";
    for (i = 0; i < pc->nclass; i++)
	args[1 + i] = pc->class_name[i];
    args[1 + i] = NULL;
    if ((vals = postconf_run(pc->dir, args)) == NULL)
	return -1;
    for (line = vals; line && *line; line = next) {
	if ((next = strchr(line, '\n')) != NULL)
	    *next++ = '\0';
	for (i = 0; i < pc->nclass; i++) {
	    size_t len = strlen(pc->class_name[i]);

	    if (pc->class_value[i] == NULL && strncmp(line, pc->class_name[i], len) == 0
		&& strncmp(line + len, " =", 2) == 0)
		pc->class_value[i] = xstrdup(line + len + 2 + (line[len + 2] == ' '));
	}
    }
    for (i = 0; i < pc->nclass; i++)
	if (pc->class_value[i] == NULL)
	    pc->class_value[i] = xstrdup("");
    free(vals);
    return 0;
}

/* services - the smtpd services of master.cf, with main.cf's values and their -o */
static int
services(struct pf_check *pc, char **main_value, struct pf_service **svp, int *nsvp)
{
    static const char *const f_args[] = {"-F", NULL}, *const p_args[] = {"-P", "-x", NULL};
    char *fout, *copy, *pout, *line, *next, *eq, *slash;
    struct pf_service *sv = NULL;
    int nsv = 0, i;

    if ((fout = postconf_run(pc->dir, f_args)) == NULL)
	return -1;
    if ((pout = postconf_run(pc->dir, p_args)) == NULL) {
	free(fout);
	return -1;
    }
    copy = xstrdup(fout);
    /* "smtp/inet/command = smtpd -o ...": one service per smtpd command line */
    for (line = fout; line && *line; line = next) {
	if ((next = strchr(line, '\n')) != NULL)
	    *next++ = '\0';
	if ((eq = strstr(line, "/command = ")) == NULL || memchr(line, '=', eq - line)
	    || strncmp(eq + 11, "smtpd", 5) != 0 || (eq[16] != '\0' && eq[16] != ' '))
	    continue;
	slash = eq;
	sv = xreallocarray(sv, (size_t) nsv + 1, sizeof(*sv));
	memset(&sv[nsv], 0, sizeof(*sv));
	snprintf(sv[nsv].name, sizeof(sv[nsv].name), "%.*s", (int) (slash - line), line);
	for (i = 0; i < 6; i++)
	    sv[nsv].value[i] = xstrdup(main_value[i]);
	nsv++;
    }
    /* the chroot column of each ("smtp/inet/chroot = y") */
    for (line = copy; line && *line; line = next) {
	if ((next = strchr(line, '\n')) != NULL)
	    *next++ = '\0';
	for (i = 0; i < nsv; i++) {
	    size_t len = strlen(sv[i].name);

	    if (strncmp(line, sv[i].name, len) == 0 && strcmp(line + len, "/chroot = y") == 0)
		sv[i].chroot = 1;
	}
    }
    /* "smtp/inet/smtpd_recipient_restrictions = ...": the -o overrides */
    for (line = pout; line && *line; line = next) {
	if ((next = strchr(line, '\n')) != NULL)
	    *next++ = '\0';
	if ((eq = strstr(line, " = ")) == NULL && (eq = strstr(line, " =")) == NULL)
	    continue;
	*eq = '\0';
	if ((slash = strrchr(line, '/')) == NULL)
	    continue;
	*slash = '\0';
	for (i = 0; i < nsv; i++) {
	    const char *param = slash + 1, *val = eq[2] == ' ' ? eq + 3 : eq + 2;
	    int k;

	    if (strcmp(line, sv[i].name) != 0)
		continue;
	    if (strcmp(param, "content_filter") == 0 && *val == '\0')
		sv[i].filter_return = 1;
	    for (k = 0; k < 5; k++)
		if (strcmp(param, pf_lists[k]) == 0)
		    break;
	    if (k == 5 && strcmp(param, "smtpd_milters") != 0)
		continue;
	    free(sv[i].value[k]);
	    sv[i].value[k] = xstrdup(val);
	}
    }
    free(fout);
    free(copy);
    free(pout);
    *svp = sv;
    *nsvp = nsv;
    return 0;
}

/*
 * check_pools - each [pool NAME]'s transport is a unix service of master.cf:
 * outpost-policyd answers "FILTER transport:nexthop" with it, and mail for
 * a service master.cf lacks waits in the queue ("mail transport unavailable")
 */
static void
check_pools(struct pf_check *pc)
{
    static const char *const f_args[] = {"-F", NULL};
    char *fout;
    const char *line;
    size_t i, n;

    if (pc->conf == NULL || pc->conf->pools.n == 0)
	return;
    if ((fout = postconf_run(pc->dir, f_args)) == NULL) {
	pc->problems++;
	return;
    }
    for (i = 0; i < pc->conf->pools.n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(&pc->conf->pools, i, struct conf_pool);

	/* "smtp_warm1/unix/command = smtp -o ...", at the start of a line */
	n = strcspn(p->transport, ":");
	for (line = fout; line != NULL; line = strchr(line, '\n')) {
	    if (*line == '\n')
		line++;
	    if (strncmp(line, p->transport, n) == 0
		&& strncmp(line + n, "/unix/command = ", 16) == 0)
		break;
	}
	if (line != NULL)
	    continue;
	msg_error("postfix: [pool %s]: transport %.*s is no unix service of master.cf: "
		  "its mail would wait in the queue", p->named.name, (int) n, p->transport);
	pc->problems++;
    }
    free(fout);
}

/* check_postfix - outpostctl check-config --postfix [MAIN.CF | DIR] */
int
check_postfix(const char *conf_path, const char *maincf)
{
    struct pf_check pc;
    struct pf_service *sv = NULL;
    struct outpost_conf *conf = NULL;
    char *main_value[6] = {0}, dirbuf[4096], err[600], *slash;
    struct stat st;
    int nsv = 0, i, j, checked = 0, rc = 1;

    memset(&pc, 0, sizeof(pc));
    if (maincf) {
	snprintf(dirbuf, sizeof(dirbuf), "%s", maincf);
	if (stat(maincf, &st) == 0 && !S_ISDIR(st.st_mode) && (slash = strrchr(dirbuf, '/')))
	    *slash = '\0';
	else if (stat(maincf, &st) == 0 && !S_ISDIR(st.st_mode))
	    snprintf(dirbuf, sizeof(dirbuf), ".");
	pc.dir = dirbuf;
    }
    if ((conf = conf_load(conf_path, err, sizeof(err))) == NULL)
	msg_warn("%s; the sockets are not compared", err);
    pc.conf = conf;
    if (main_values(&pc, main_value) < 0 || classes(&pc) < 0
	|| services(&pc, main_value, &sv, &nsv) < 0)
	goto out;
    for (i = 0; i < nsv; i++) {
	if (sv[i].filter_return)
	    continue;
	checked++;
	check_policy(&pc, &sv[i]);
	check_milter(&pc, &sv[i]);
    }
    if (checked == 0)
	msg_error("postfix: no smtpd service in master.cf: nothing receives mail");
    check_pools(&pc);
    if (pc.problems == 0 && checked > 0) {
	printf("postfix: configuration OK (%d smtpd service%s)\n", checked,
	       checked == 1 ? "" : "s");
	rc = 0;
    }
out:
    for (i = 0; i < nsv; i++)
	for (j = 0; j < 6; j++)
	    free(sv[i].value[j]);
    free(sv);
    for (j = 0; j < 6; j++)
	free(main_value[j]);
    free(pc.queue_dir);
    for (j = 0; j < pc.nclass; j++) {
	free(pc.class_name[j]);
	free(pc.class_value[j]);
    }
    conf_free(conf);
    return rc;
}
