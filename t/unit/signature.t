# C unit tests of the form parser and the signature codec.
exec "build/unit/signature" or die "cannot run build/unit/signature: $!\n";
