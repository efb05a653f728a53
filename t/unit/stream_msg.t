# C unit tests of the Media Streams message reader.
exec "build/unit/stream_msg" or die "cannot run build/unit/stream_msg: $!\n";
