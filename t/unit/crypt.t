# C unit tests of the credential codec (AES-256-GCM).
exec "build/unit/crypt" or die "cannot run build/unit/crypt: $!\n";
