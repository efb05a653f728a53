# C unit tests of the client side of the WebSocket handshake.
exec "build/unit/ws_handshake" or die "cannot run build/unit/ws_handshake: $!\n";
