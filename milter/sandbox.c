/*
 * sandbox - the limits of a process that reads hostile input (see sandbox.h)
 *
 * An allow list, as OpenBSD's pledge("stdio"): what malloc, the clocks
 * of the CPU budget and stdio need, nothing that names a file, a socket
 * or another process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

/* allowed system calls */
static const int allowed[] = {
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
    SCMP_SYS(close), SCMP_SYS(lseek), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
    SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
    SCMP_SYS(mprotect), SCMP_SYS(madvise),
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
    SCMP_SYS(time), SCMP_SYS(getrusage), SCMP_SYS(getrlimit), SCMP_SYS(setrlimit),
    SCMP_SYS(prlimit64), SCMP_SYS(getrandom),
    SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(sigaltstack),
    SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(restart_syscall),
    SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/*
 * refused without killing: a library looking for a file finds none; glibc's
 * qsort() asks sysinfo() for the memory size before it sorts a large array
 * and copes with a refusal
 */
static const int refused[] = {
    SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(creat), SCMP_SYS(openat2),
    SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(access), SCMP_SYS(faccessat),
    SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(sysinfo),
};

static int set_limit(int what, rlim_t v);

/* set_limit - soft and hard limit both */
static int
set_limit(int what, rlim_t v)
{
    struct rlimit rl = {v, v};

    return setrlimit(what, &rl);
}

/* sandbox_enter - limits and the system call filter (see the header) */
int
sandbox_enter(char *err, size_t errlen)
{
    scmp_filter_ctx ctx;
    size_t i;
    int rc, fd, maxfd = 2;

    for (fd = 3; fd < 64; fd++)		/* the highest descriptor kept */
	if (fcntl(fd, F_GETFD) >= 0)
	    maxfd = fd;
    if (set_limit(RLIMIT_CORE, 0) < 0 || set_limit(RLIMIT_FSIZE, 0) < 0
	|| set_limit(RLIMIT_NOFILE, (rlim_t) maxfd + 1) < 0) {
	snprintf(err, errlen, "setrlimit: %s", strerror(errno));
	return -1;
    }
#ifndef SANDBOX_ASAN
    if (set_limit(RLIMIT_AS, (rlim_t) SANDBOX_MAX_MEMORY) < 0) {
	snprintf(err, errlen, "setrlimit: %s", strerror(errno));
	return -1;
    }
#endif
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
	snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
	return -1;
    }
    if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
	snprintf(err, errlen, "seccomp_init failed");
	return -1;
    }
    rc = 0;
    for (i = 0; rc == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
	if (allowed[i] >= 0)		/* __NR_SCMP_ERROR: not on this architecture */
	    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
    for (i = 0; rc == 0 && i < sizeof(refused) / sizeof(refused[0]); i++)
	if (refused[i] >= 0)
	    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), refused[i], 0);
    if (rc == 0)
	rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
	snprintf(err, errlen, "seccomp: %s", strerror(-rc));
	return -1;
    }
    return 0;
}

/* sandbox_cpu_budget - seconds more of CPU time from now */
int
sandbox_cpu_budget(long seconds)
{
    struct rusage ru;
    struct rlimit rl;
    rlim_t soft;

    if (getrusage(RUSAGE_SELF, &ru) < 0 || getrlimit(RLIMIT_CPU, &rl) < 0)
	return -1;
    /* whole seconds used, rounded up, plus the budget */
    soft = (rlim_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1 + seconds);
    if (rl.rlim_max != RLIM_INFINITY && soft > rl.rlim_max)
	return -1;
    rl.rlim_cur = soft;
    /* the hard limit stays (it could not be raised again): SIGXCPU kills at the soft */
    return setrlimit(RLIMIT_CPU, &rl);
}
