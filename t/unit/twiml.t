# C unit tests of the TwiML formatter.
exec "build/unit/twiml" or die "cannot run build/unit/twiml: $!\n";
