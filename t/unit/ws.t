# C unit tests of the WebSocket frame codec.
exec "build/unit/ws" or die "cannot run build/unit/ws: $!\n";
