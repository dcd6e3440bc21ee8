# doc/ - man pages and the design notes
dist_man_MANS += doc/outpost.conf.5 doc/outpostctl-verify.8 doc/outpost-milter.8
EXTRA_DIST += doc/DESIGN.md
dist_man_MANS += doc/outpost-policyd.8
