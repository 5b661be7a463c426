package ClientSDK;

# Helpers for the tests of Statsig's browser SDK (@statsig/js-client)
# against statsig_api (t/47-api-client-key.t, t/48-api-browser.t): what
# Statsig does with the client's stable ID, the SDK's se=1 encoding, and
# the comparison of what the SDK read with statsig-node's client
# initialize response.  Core Perl only.

use strict;
use warnings;

use Exporter qw(import);
use JSON::PP;
use MIME::Base64 qw(encode_base64);

our @EXPORT_OK = qw(with_stable_id statsig_encode entity_names
    client_values_diff);

my $J = JSON::PP->new->canonical->ascii;

# the user as Statsig takes it: the client's stable ID (statsigMetadata)
# as customIDs.stableID when the user has none
sub with_stable_id {
    my ($u, $sid) = @_;
    return $u unless ref $u eq 'HASH';
    my %c = %$u;
    if (!defined $c{customIDs}) {
        $c{customIDs} = { stableID => $sid };
    } elsif (ref $c{customIDs} eq 'HASH'
             && !defined $c{customIDs}{stableID}) {
        $c{customIDs} = { %{ $c{customIDs} }, stableID => $sid };
    }
    return \%c;
}

# the SDK's se=1 encoding: btoa() of the text (code units up to U+00FF,
# one byte each), reversed
sub statsig_encode {
    my ($text) = @_;
    return scalar reverse(encode_base64($text, ''));
}

# {gates, configs, layers}: every name of a DCS (decoded)
sub entity_names {
    my ($dcs) = @_;
    return {
        gates => [ map { $_->{name} } @{ $dcs->{feature_gates} } ],
        configs => [ map { $_->{name} } @{ $dcs->{dynamic_configs} } ],
        layers => [ map { $_->{name} } @{ $dcs->{layer_configs} } ],
    };
}

# What the SDK read for each user ($got: rows {i, gates, configs, layers}
# as t/js-client.js and t/js-client-web.html write them) against
# statsig-node's responses ($want->[i], hash "none": keyed by name) for
# every name: a missing entry is the SDK's default (false or {}, rule
# "").  Returns (\%count, @diffs): counts per kind and of gates on, the
# first 10 differences.
sub client_values_diff {
    my ($got, $want, $names) = @_;
    my (%count, @diffs);
    for my $g (@$got) {
        my $x = $want->[ $g->{i} ] // {};
        my @cmp;
        for my $n (@{ $names->{gates} }) {
            my $e = $x->{feature_gates}{$n};
            push @cmp, [ "gate $n", $g->{gates}{$n},
                         { value => $e ? $e->{value} : JSON::PP::false,
                           ruleID => $e ? $e->{rule_id} : '' } ];
        }
        for my $k ([qw(config configs dynamic_configs)],
                   [qw(layer layers layer_configs)]) {
            my ($kind, $mine, $theirs) = @$k;
            for my $n (@{ $names->{$mine} }) {
                my $e = $x->{$theirs}{$n};
                push @cmp, [ "$kind $n", $g->{$mine}{$n},
                             { value => $e ? $e->{value} : {},
                               ruleID => $e ? $e->{rule_id} : '',
                               groupName => $e ? $e->{group_name} : undef } ];
            }
        }
        for my $c (@cmp) {
            my ($what, $have, $exp) = @$c;
            $count{ (split / /, $what)[0] }++;
            $count{on}++ if $what =~ /^gate/ && $exp->{value};
            next if $J->encode($have) eq $J->encode($exp);
            push @diffs, "user $g->{i} $what: " . $J->encode($have)
                         . "\n  want " . $J->encode($exp) if @diffs < 10;
        }
    }
    $count{$_} //= 0 for qw(gate config layer on);
    return (\%count, @diffs);
}

1;
