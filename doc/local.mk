# doc/ - man pages and the design notes
dist_man_MANS += doc/outpost.conf.5 doc/outpost-milter.8 doc/outpost-policyd.8 \
	doc/outpostctl.8
EXTRA_DIST += doc/DESIGN.md doc/REDIS.md
EXTRA_DIST += doc/CLUSTER.md
EXTRA_DIST += doc/DESIGN.md doc/METRICS.md

# the pages against the code (every config key, command and option) and
# their lint; needs no root, so it always runs
TESTS += tests/doc-keys.sh
EXTRA_DIST += tests/doc-keys.sh
