# C unit tests of the spool record format.
exec "build/unit/journal" or die "cannot run build/unit/journal: $!\n";
