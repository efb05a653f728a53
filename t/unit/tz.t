# C unit tests of the TZif reader.
exec "build/unit/tz" or die "cannot run build/unit/tz: $!\n";
