# doc/ - man pages and the design notes
dist_man_MANS += doc/outpost.conf.5 doc/outpostctl-verify.8
EXTRA_DIST += doc/DESIGN.md
