/*
 * warmup - outpostctl warmup and throttle: the state of outpost-policyd
 */
#ifndef OUTPOST_CTL_CTL_WARMUP_H
#define OUTPOST_CTL_CTL_WARMUP_H

int cmd_warmup(const char *conf_path, int argc, char **argv);
int cmd_throttle(const char *conf_path, int argc, char **argv);

#endif
