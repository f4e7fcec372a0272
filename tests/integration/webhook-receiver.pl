#!/usr/bin/perl
# webhook-receiver.pl — the alert tests' local webhook: an HTTP/1.1 server on
# 127.0.0.1 (a port of its choosing, written to PORTFILE) that appends one
# line per request to OUTFILE — "<status> <method> <path> <content-type>\t<body>"
# — and answers 500 to the first FAIL_FIRST requests, then 200.
# usage: webhook-receiver.pl PORTFILE OUTFILE [FAIL_FIRST]
use strict;
use warnings;
use IO::Handle;
use IO::Socket::INET;

my ($portfile, $outfile, $fail_first) = @ARGV;
die "usage: webhook-receiver.pl PORTFILE OUTFILE [FAIL_FIRST]\n" unless defined $outfile;
$fail_first //= 0;

my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 64,
	ReuseAddr => 1) or die "webhook-receiver: listen: $!\n";
open(my $out, '>>', $outfile) or die "webhook-receiver: $outfile: $!\n";
$out->autoflush(1);
open(my $pf, '>', "$portfile.tmp") or die "webhook-receiver: $portfile: $!\n";
print $pf $server->sockport, "\n";
close $pf;
rename("$portfile.tmp", $portfile) or die "webhook-receiver: rename: $!\n";

my $seen = 0;
while (my $c = $server->accept) {
	my $request = <$c>;
	next unless defined $request;
	my ($method, $path) = split / /, $request;
	my ($length, $type) = (0, '');
	while (my $line = <$c>) {
		$line =~ s/\r?\n$//;
		last if $line eq '';
		$length = $1 if $line =~ /^content-length:\s*(\d+)/i;
		$type = $1 if $line =~ /^content-type:\s*(.*)$/i;
	}
	my $body = '';
	while (length($body) < $length) {
		my $n = read($c, $body, $length - length($body), length($body));
		last unless $n;
	}
	$seen++;
	my $status = $seen <= $fail_first ? 500 : 200;
	$body =~ s/\n/ /g;
	print $out "$status $method $path $type\t$body\n";
	print $c "HTTP/1.1 $status X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	close $c;
}
