"""PaperLab's library: one subpackage per demo, no UI imports anywhere below here."""
