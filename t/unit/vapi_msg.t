# C unit tests of the Vapi server message reader.
exec "build/unit/vapi_msg" or die "cannot run build/unit/vapi_msg: $!\n";
