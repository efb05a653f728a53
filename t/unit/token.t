# C unit tests of the Media Streams token codec.
exec "build/unit/token" or die "cannot run build/unit/token: $!\n";
