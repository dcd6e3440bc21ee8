/*
 * driver - replay files through a fuzz target without libFuzzer
 *
 * SYNOPSIS
 *	fuzz_NAME FILE|DIR...
 *
 * DESCRIPTION
 *	Reads each file (each file of each directory) and passes its bytes to
 *	LLVMFuzzerTestOneInput().  Exit status 0 when every input was replayed;
 *	a crash or a sanitizer report ends the program, which is the failure.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* replay_file - one input */
static int
replay_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (fp == NULL) {
	perror(path);
	return -1;
    }
    do {
	if (len == cap) {
	    cap = cap ? cap * 2 : 4096;
	    if ((buf = realloc(buf, cap)) == NULL)
		abort();
	}
	n = fread(buf + len, 1, cap - len, fp);
	len += n;
    } while (n > 0);
    fclose(fp);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

int
main(int argc, char **argv)
{
    int i, count = 0;

    for (i = 1; i < argc; i++) {
	struct stat st;
	DIR *d;
	struct dirent *e;
	char path[4096];

	if (stat(argv[i], &st) < 0) {
	    perror(argv[i]);
	    return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
	    if (replay_file(argv[i]) < 0)
		return 1;
	    count++;
	    continue;
	}
	if ((d = opendir(argv[i])) == NULL)
	    return 1;
	while ((e = readdir(d)) != NULL) {
	    if (e->d_name[0] == '.')
		continue;
	    snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
	    if (replay_file(path) < 0)
		return 1;
	    count++;
	}
	closedir(d);
    }
    printf("replayed %d inputs\n", count);
    return 0;
}
