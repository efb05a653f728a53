# C unit tests of the tools' argument checks.
exec "build/unit/tool_args" or die "cannot run build/unit/tool_args: $!\n";
