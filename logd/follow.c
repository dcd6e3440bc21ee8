/*
 * follow - read a log file as it grows (see follow.h)
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "follow.h"
#include "maillog.h"
#include "msg.h"
#include "xalloc.h"

#define BUF_SIZE (ML_LINE_MAX + 65536)

struct follow {
    char *path;
    int fd;
    unsigned long long ino;	/* of the open file */
    long long offset;		/* end of the last line handed out */
    unsigned long long want_ino;	/* saved position to resume from */
    long long want_offset;
    int at_end;
    int skipping;		/* inside an overlong line */
    long long overlong;
    char *buf;
    size_t len;			/* bytes in buf after offset */
};

/* follow_new - a follower that opens the file at its first poll */
struct follow *
follow_new(const char *path, unsigned long long ino, long long offset, int at_end)
{
    struct follow *f = xcalloc(1, sizeof(*f));

    f->path = xstrdup(path);
    f->fd = -1;
    f->want_ino = ino;
    f->want_offset = offset;
    f->at_end = at_end;
    f->buf = xmalloc(BUF_SIZE);
    return f;
}

/* find_rotated - the name under which the directory now holds an inode */
static int
find_rotated(const char *path, unsigned long long ino, char *out, size_t outlen)
{
    char *copy = xstrdup(path), *dir = dirname(copy);
    DIR *d = opendir(dir);
    struct dirent *de;
    struct stat st;
    int found = 0;

    while (d && !found && (de = readdir(d)) != NULL) {
	snprintf(out, outlen, "%s/%s", dir, de->d_name);
	if (stat(out, &st) == 0 && S_ISREG(st.st_mode)
	    && (unsigned long long) st.st_ino == ino)
	    found = 1;
    }
    if (d)
	closedir(d);
    free(copy);
    return found;
}

/* open_at - open a file and go to an offset */
static int
open_at(struct follow *f, const char *name, long long offset)
{
    struct stat st;
    int fd = open(name, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
	return -1;
    if (fstat(fd, &st) < 0) {
	int e = errno;

	close(fd);
	errno = e;
	return -1;
    }
    if (offset > (long long) st.st_size) {
	msg_warn("%s: shorter than the saved position (%lld > %lld): truncated, "
		 "reading from the start", name, offset, (long long) st.st_size);
	offset = 0;
    }
    if (offset < 0)
	offset = st.st_size;
    if (lseek(fd, offset, SEEK_SET) < 0) {
	close(fd);
	return -1;
    }
    f->fd = fd;
    f->ino = (unsigned long long) st.st_ino;
    f->offset = offset;
    f->len = 0;
    f->skipping = 0;
    return 0;
}

/* first_open - resume where the saved position says */
static int
first_open(struct follow *f)
{
    struct stat st;
    char old[4096];
    int at_end;

    if (stat(f->path, &st) < 0) {
	f->at_end = 0;			/* it appears later: all of it is new */
	return -1;
    }
    if (f->want_ino == 0) {
	at_end = f->at_end;
	f->at_end = 0;			/* only the first file: any later one is new */
	if (open_at(f, f->path, at_end ? -1 : 0) < 0)
	    return -1;
	msg_info("%s: no saved position: reading from its %s (offset %lld)", f->path,
		 at_end ? "end" : "start", f->offset);
	return 0;
    }
    if ((unsigned long long) st.st_ino == f->want_ino)
	return open_at(f, f->path, f->want_offset);
    if (find_rotated(f->path, f->want_ino, old, sizeof(old))) {
	msg_info("%s was rotated: reading the rest of %s first", f->path, old);
	return open_at(f, old, f->want_offset);
    }
    msg_warn("%s: the file last read (inode %llu) is gone: reading %s from its start",
	     f->path, f->want_ino, f->path);
    return open_at(f, f->path, 0);
}

/* deliver - hand out the complete lines in the buffer */
static size_t
deliver(struct follow *f, size_t max, int flush_partial,
	void (*fn)(const char *, size_t, void *), void *arg)
{
    size_t start = 0, n = 0;
    char *nl;

    while (n < max && (nl = memchr(f->buf + start, '\n', f->len - start)) != NULL) {
	size_t ll = (size_t) (nl - (f->buf + start));

	if (f->skipping) {
	    f->skipping = 0;	/* the tail of an overlong line */
	} else if (ll > ML_LINE_MAX) {
	    f->overlong++;
	} else {
	    fn(f->buf + start, ll, arg);
	    n++;
	}
	start += ll + 1;
	f->offset += (long long) ll + 1;
    }
    if (flush_partial && n < max && start < f->len) {
	if (!f->skipping) {
	    fn(f->buf + start, f->len - start, arg);
	    n++;
	}
	f->offset += (long long) (f->len - start);
	start = f->len;
    }
    memmove(f->buf, f->buf + start, f->len - start);
    f->len -= start;
    /* a line that fills the buffer is too long: skip to its end */
    if (f->len > ML_LINE_MAX && memchr(f->buf, '\n', f->len) == NULL) {
	if (!f->skipping)
	    f->overlong++;
	f->skipping = 1;
	f->offset += (long long) f->len;
	f->len = 0;
    }
    return n;
}

/* check_rotation - 1 when the open file is no longer path (or shrank) */
static int
check_rotation(struct follow *f)
{
    struct stat st, cur;

    if (fstat(f->fd, &cur) == 0 && cur.st_size < f->offset + (long long) f->len) {
	msg_info("%s: truncated: reading from its start", f->path);
	lseek(f->fd, 0, SEEK_SET);
	f->offset = 0;
	f->len = 0;
	f->skipping = 0;
	return 0;
    }
    if (stat(f->path, &st) < 0)
	return 0;			/* between rename and create: wait */
    return (unsigned long long) st.st_ino != f->ino;
}

/* follow_poll - the lines available now */
int
follow_poll(struct follow *f, size_t max_lines,
	    void (*fn)(const char *, size_t, void *), void *arg)
{
    size_t n = 0;
    ssize_t got;
    int rotated_checked = 0;

    if (f->fd < 0 && first_open(f) < 0)
	return -1;
    /* lines read before but left for this poll: the file may not grow */
    n = deliver(f, max_lines, 0, fn, arg);
    while (n < max_lines) {
	got = read(f->fd, f->buf + f->len, BUF_SIZE - f->len);
	if (got < 0 && errno == EINTR)
	    continue;
	if (got < 0) {
	    msg_warn("%s: read: %s", f->path, strerror(errno));
	    break;
	}
	if (got > 0) {
	    f->len += (size_t) got;
	    n += deliver(f, max_lines - n, 0, fn, arg);
	    continue;
	}
	/* at the end: rotated? then finish the old file and take the new */
	if (rotated_checked || !check_rotation(f))
	    break;
	rotated_checked = 1;
	n += deliver(f, max_lines - n, 1, fn, arg);
	if (f->len > 0)
	    break;			/* lines left over: next poll */
	msg_info("%s: rotated: now reading the new file", f->path);
	/* until the new file opens, the position is the old file's end */
	f->want_ino = f->ino;
	f->want_offset = f->offset;
	close(f->fd);
	f->fd = -1;
	if (open_at(f, f->path, 0) < 0)
	    return (int) n;
    }
    return (int) n;
}

/* follow_position - inode and offset after the last line handed out */
void
follow_position(const struct follow *f, unsigned long long *ino, long long *offset)
{
    if (f->fd < 0) {
	*ino = f->want_ino;
	*offset = f->want_offset;
    } else {
	*ino = f->ino;
	*offset = f->offset;
    }
}

/* follow_overlong - lines skipped for their length */
long long
follow_overlong(const struct follow *f)
{
    return f->overlong;
}

/* follow_free - close and release */
void
follow_free(struct follow *f)
{
    if (f == NULL)
	return;
    if (f->fd >= 0)
	close(f->fd);
    free(f->buf);
    free(f->path);
    free(f);
}
