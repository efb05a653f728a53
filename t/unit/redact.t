# C unit tests of the redaction of card and social security numbers.
exec "build/unit/redact" or die "cannot run build/unit/redact: $!\n";
