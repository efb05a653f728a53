# C unit tests of the provider event reader.
exec "build/unit/rt_msg" or die "cannot run build/unit/rt_msg: $!\n";
