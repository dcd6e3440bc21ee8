/*
 * msg - the one logging module of Outpost (see msg.h)
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "monotime.h"
#include "msg.h"

static const char *msg_progname = "outpost";
static int msg_to_stderr = 1;
static int msg_journal;			/* stderr is the systemd journal */
static int msg_tool;			/* a command-line tool: "progname: text" */
static int msg_level;
static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t msg_limit_lock = PTHREAD_MUTEX_INITIALIZER;

static void msg_vlog(int prio, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void msg_log_plain(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void msg_limited(struct msg_limit *lim, int prio, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * stderr_is_journal - systemd connected stderr to the journal.  It says so in
 * $JOURNAL_STREAM ("device:inode" of the stream); a child whose stderr was
 * redirected since inherits the variable, hence the comparison.
 */
static int
stderr_is_journal(void)
{
    const char *v = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    char end;

    if (v == NULL || sscanf(v, "%llu:%llu%c", &dev, &ino, &end) != 2)
	return 0;
    if (fstat(STDERR_FILENO, &st) < 0)
	return 0;
    return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

/* msg_open - choose where messages go */
void
msg_open(const char *progname, int to_stderr, int facility)
{
    const char *slash = strrchr(progname, '/');
    struct stat st;

    msg_progname = slash ? slash + 1 : progname;
    msg_tool = 0;
    msg_journal = stderr_is_journal();
    /* no syslog socket at all (a container): stderr rather than nowhere */
    msg_to_stderr = to_stderr || stat(_PATH_LOG, &st) < 0;
    if (!msg_to_stderr)
	openlog(msg_progname, LOG_PID | LOG_NDELAY, facility);
}

/* msg_open_tool - messages of a command-line tool, on stderr */
void
msg_open_tool(const char *progname)
{
    const char *slash = strrchr(progname, '/');

    msg_progname = slash ? slash + 1 : progname;
    msg_tool = msg_to_stderr = 1;
    msg_journal = 0;
}

/* msg_verbose - set the debug level */
void
msg_verbose(int level)
{
    msg_level = level;
}

/* msg_verbosity - the debug level */
int
msg_verbosity(void)
{
    return msg_level;
}

/* msg_facility_code - syslog facility by name */
int
msg_facility_code(const char *name)
{
    static const struct {
	const char *name;
	int code;
    } facilities[] = {
	{"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
	{"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
	{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };
    size_t i;

    for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
	if (strcmp(name, facilities[i].name) == 0)
	    return facilities[i].code;
    return -1;
}

/* msg_vlog - write one message */
static void
msg_vlog(int prio, const char *fmt, va_list ap)
{
    static const char *const label[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warning",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug", [LOG_CRIT] = "fatal",
    };
    static const char *const tool_label[] = {
	[LOG_WARNING] = "warning: ", [LOG_DEBUG] = "debug: ", [LOG_CRIT] = "fatal: ",
    };
    char buf[2048];
    int saved = errno;

    vsnprintf(buf, sizeof(buf), fmt, ap);
    if (msg_tool) {
	pthread_mutex_lock(&msg_lock);
	fprintf(stderr, "%s: %s%s\n", msg_progname,
		tool_label[prio] ? tool_label[prio] : "", buf);
	fflush(stderr);
	pthread_mutex_unlock(&msg_lock);
    } else if (msg_to_stderr && msg_journal) {
	/* sd-daemon(3) prefix: the journal keeps the priority, adds the rest */
	pthread_mutex_lock(&msg_lock);
	fprintf(stderr, "<%d>%s: %s\n", prio, label[prio] ? label[prio] : "info", buf);
	fflush(stderr);
	pthread_mutex_unlock(&msg_lock);
    } else if (msg_to_stderr) {
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&msg_lock);
	fprintf(stderr, "%s.%03ldZ %s: %s: %s\n", when, ts.tv_nsec / 1000000,
		msg_progname, label[prio] ? label[prio] : "info", buf);
	fflush(stderr);
	pthread_mutex_unlock(&msg_lock);
    } else {
	syslog(prio, "%s: %s", label[prio] ? label[prio] : "info", buf);
    }
    errno = saved;
}

/* msg_log_plain - msg_vlog() with its own arguments */
static void
msg_log_plain(int prio, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(prio, fmt, ap);
    va_end(ap);
}

#define MSG_WRAPPER(name, prio) \
void name(const char *fmt, ...) \
{ \
    va_list ap; \
    va_start(ap, fmt); \
    msg_vlog(prio, fmt, ap); \
    va_end(ap); \
}

MSG_WRAPPER(msg_info, LOG_INFO)
MSG_WRAPPER(msg_warn, LOG_WARNING)
MSG_WRAPPER(msg_error, LOG_ERR)

/* msg_debug - log only when verbose */
void
msg_debug(const char *fmt, ...)
{
    va_list ap;

    if (msg_level <= 0)
	return;
    va_start(ap, fmt);
    msg_vlog(LOG_DEBUG, fmt, ap);
    va_end(ap);
}

/* msg_fatal - log and exit */
void
msg_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_CRIT, fmt, ap);
    va_end(ap);
    exit(1);
}

/* msg_limit_take - may a line be said now?  The count held back, or -1 */
static long
msg_limit_take(struct msg_limit *lim)
{
    long long now = monotime_ms();
    long n = -1;

    pthread_mutex_lock(&msg_limit_lock);
    if (now >= lim->next_ms) {
	n = (long) lim->suppressed;
	lim->suppressed = 0;
	lim->next_ms = now + lim->interval_ms;
    } else {
	lim->suppressed++;
    }
    pthread_mutex_unlock(&msg_limit_lock);
    return n;
}

/* msg_limited - one rate-limited line, with the count of those held back */
static void
msg_limited(struct msg_limit *lim, int prio, const char *fmt, va_list ap)
{
    char buf[1800];
    long n;

    if ((n = msg_limit_take(lim)) < 0)
	return;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n > 0)
	msg_log_plain(prio, "%s (%ld similar message%s suppressed)", buf, n,
		      n == 1 ? "" : "s");
    else
	msg_log_plain(prio, "%s", buf);
}

#define MSG_LIMITED_WRAPPER(name, prio) \
void name(struct msg_limit *lim, const char *fmt, ...) \
{ \
    va_list ap; \
    va_start(ap, fmt); \
    msg_limited(lim, prio, fmt, ap); \
    va_end(ap); \
}

MSG_LIMITED_WRAPPER(msg_warn_limited, LOG_WARNING)
MSG_LIMITED_WRAPPER(msg_info_limited, LOG_INFO)

/* msg_limit_reset - the next line is said at once */
void
msg_limit_reset(struct msg_limit *lim)
{
    pthread_mutex_lock(&msg_limit_lock);
    lim->next_ms = 0;			/* the count held back is said with it */
    pthread_mutex_unlock(&msg_limit_lock);
}
