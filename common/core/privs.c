/*
 * privs - give up root after start-up (see privs.h)
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privs.h"

/* privs_lookup - uid and primary gid of a user */
int
privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    struct passwd *pw;

    errno = 0;
    if (user == NULL || (pw = getpwnam(user)) == NULL) {
	snprintf(err, errlen, "user %s: %s", user ? user : "(none)",
		 errno ? strerror(errno) : "no such user");
	return -1;
    }
    if (pw->pw_uid == 0) {
	snprintf(err, errlen, "user %s: refusing to run as root", user);
	return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

/* privs_check - would privs_drop() succeed? */
int
privs_check(const char *user, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;

    if (privs_lookup(user, &uid, &gid, err, errlen) < 0)
	return -1;
    if (geteuid() != 0 && (geteuid() != uid || getuid() != uid)) {
	snprintf(err, errlen, "started as uid %u, but configured user %s is uid %u",
		 (unsigned) geteuid(), user, (unsigned) uid);
	return -1;
    }
    return 0;
}

/* privs_drop - become the user for good */
int
privs_drop(const char *user, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;

    if (privs_check(user, err, errlen) < 0
	|| privs_lookup(user, &uid, &gid, err, errlen) < 0)
	return -1;
    if (geteuid() != 0)
	return 0;
    if (initgroups(user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
	snprintf(err, errlen, "cannot become user %s: %s", user, strerror(errno));
	return -1;
    }
    if (setuid(0) == 0 || geteuid() == 0) {
	snprintf(err, errlen, "could regain root after switching to %s", user);
	return -1;
    }
    return 0;
}

/* privs_chown_socket - hand a unix socket to the user and its group */
int
privs_chown_socket(const char *path, const char *user, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;

    if (geteuid() != 0)
	return 0;
    if (privs_lookup(user, &uid, &gid, err, errlen) < 0)
	return -1;
    if (chown(path, uid, gid) < 0) {
	snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
	return -1;
    }
    return 0;
}
