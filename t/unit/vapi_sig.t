# C unit tests of the Vapi webhook authentication codec.
exec "build/unit/vapi_sig" or die "cannot run build/unit/vapi_sig: $!\n";
