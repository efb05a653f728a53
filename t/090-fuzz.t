# A short libFuzzer run of every target in t/fuzz/ (scripts/fuzz), in a
# temp folder: FUZZ_SECONDS (default 5) per target.  A failing input is
# copied to build/fuzz/crashes/TARGET/ before the temp folder goes.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Basename qw(basename);

my $seconds = $ENV{FUZZ_SECONDS} || 5;
$seconds =~ /^\d+$/ or BAIL_OUT("FUZZ_SECONDS must be a number of seconds");

my @targets = map { basename($_, '.c') } glob 't/fuzz/*.c';
ok(@targets > 0, 'fuzz targets in t/fuzz/') or BAIL_OUT('run from the root');

sub seeds {
    my ($target) = @_;
    my %seeds;

    for my $f (glob "t/fuzz/corpus/$target/*") {
        $seeds{basename($f)} = -s $f;
    }

    return \%seeds;
}

my %seeds = map { $_ => seeds($_) } @targets;

my $out = tempdir('voxanne-fuzz.XXXXXX', TMPDIR => 1, CLEANUP => 1);

# bounded even if a fuzzer hangs: timeout(1) kills its process group

my $limit = 60 + @targets * ($seconds + 60);

my $output = do {
    local $ENV{FUZZ_OUT} = $out;
    `timeout -k 10 $limit scripts/fuzz $seconds 2>&1`;
};

my $rc = $? >> 8;

is($rc, 0, "scripts/fuzz $seconds passes") or diag($output);

for my $target (@targets) {
    my ($line) = $output =~ /^(fuzz \Q$target\E: \d+ runs.*)$/m;
    my ($runs) = ($line // '') =~ /: (\d+) runs/;

    ok($runs && $runs > 0, "$target ran") and note($line);

    my @found = grep { basename($_) =~ /^(crash|leak|timeout|oom)-/ }
                glob "$out/crashes/$target/*";

    ok(!@found, "$target found nothing") or do {
        my $keep = "build/fuzz/crashes/$target";
        make_path($keep);
        copy($_, $keep) for @found;
        diag("failing inputs kept in $keep: "
             . join(' ', map { basename($_) } @found));
        diag("reproduce: scripts/fuzz 0 $target; build/fuzz/$target FILE");
    };

    is_deeply(seeds($target), $seeds{$target},
              "t/fuzz/corpus/$target is left as it was");
}

done_testing();
