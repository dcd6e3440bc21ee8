# doc/ - man pages and the design notes
EXTRA_DIST += doc/DESIGN.md
