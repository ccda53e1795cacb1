"""Push matches (ours, under /x/): whether an app already holds a pushed tree, so a push can copy it."""
