# C unit tests of the business hours parser.
exec "build/unit/hours" or die "cannot run build/unit/hours: $!\n";
