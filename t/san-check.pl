#!/usr/bin/perl
# `make asan`: read every sanitizer report file the nginx processes wrote
# (ASAN/UBSAN_OPTIONS log_path), drop the UBSan reports that t/sanitizer.supp
# lists as nginx's own, symbolize the rest (the processes run with
# symbolize=0: an nginx worker that starts llvm-symbolizer itself can hang on
# its pipe) and print them once each. Exit status 1 when anything is left.
#   perl t/san-check.pl <reports dir> <suppressions file>
use strict;
use warnings;

my ($dir, $supp_file) = @ARGV;
die "usage: $0 <reports dir> <suppressions file>\n" if !defined $supp_file;

my $symbolizer = $ENV{ASAN_SYMBOLIZER_PATH} || 'llvm-symbolizer';

# one Perl regex per line, matched against a UBSan report's first line
# ("file:line:col: runtime error: ..."); # starts a comment
my @supp;
open my $s, '<', $supp_file or die "$supp_file: $!\n";
while (<$s>) {
    chomp;
    next if /^\s*(#|$)/;
    push @supp, qr/$_/;
}
close $s;

my (%seen, @order, $suppressed);
for my $file (sort glob "$dir/san.*") {
    open my $in, '<', $file or die "$file: $!\n";
    my @reports;
    while (my $line = <$in>) {
        if ($line =~ /^\S+:\d+:\d+: runtime error: /
            || $line =~ /^==\d+==ERROR: /
            || ($line =~ /^=+$/ && !@reports))
        {
            push @reports, '';
        }
        push @reports, '' if !@reports;
        $reports[-1] .= $line;
    }
    close $in;
    for my $r (@reports) {
        next if $r !~ /\S/;
        my ($head) = $r =~ /^(\S+:\d+:\d+: runtime error: .*)$/m;
        if (defined $head && grep { $head =~ $_ } @supp) {
            $suppressed++;
            next;
        }
        # one entry per source location (the values in the text vary)
        my ($key) = defined $head ? ($head =~ /^(\S+:\d+:\d+: runtime error: \S+ \S+)/)
                  : $r =~ /^(==\d+==ERROR: .*)$/m ? ($1 =~ s/^==\d+==//r)
                  : (substr($r, 0, 200));
        push @order, $key if !$seen{$key}++;
        $seen{"report $key"} //= $r;
    }
}

printf "sanitizer: %d distinct report(s), %d suppressed (%s)\n",
       scalar @order, $suppressed // 0, $supp_file;
for my $key (@order) {
    my $r = $seen{"report $key"};
    print "---- seen $seen{$key} time(s):\n";
    for my $line (split /^/, $r) {
        if ($line =~ /^(\s*#\d+ 0x[0-9a-f]+)\s+\((\S+)\+(0x[0-9a-f]+)\)/) {
            my ($frame, $obj, $off) = ($1, $2, $3);
            my $sym = `$symbolizer --obj='$obj' $off 2>/dev/null`;
            my ($fn, $loc) = split /\n/, $sym // '';
            if (defined $loc && $fn ne '??') {
                $line = "$frame in $fn $loc\n";
            }
        }
        print $line;
    }
}
exit(@order ? 1 : 0);
