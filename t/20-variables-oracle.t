#!/usr/bin/perl

# Differential test of the variables against the official SDK: for 1200
# generated users, carried as request headers and cookies, every
# $statsig_gate_*, $statsig_config_*, $statsig_experiment_*, statsig_gate and
# statsig_param variable of every spec of a generated DCS must equal what
# statsig-node (../shared/oracle, installed by "make oracle") computes for
# the same user -- including the stable ID nginx generated for users that
# came without one.

use strict;
use warnings;

use lib 't/lib';
use Encode qw(encode_utf8);
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use StatsigTest;
use EvalTest qw(need_oracle run_ok);

my $root = StatsigTest::root();
my $helper = "$root/t/lib/vars-oracle.js";
my $nusers = $ENV{STATSIG_ORACLE_USERS} || 1200;

my $oracle = need_oracle();

my $t = StatsigTest->new;
my $d = $t->dir;

run_ok($d, "node $oracle/gen.js --seed 2005 --specs 60 --users $nusers "
       . "--out $d/gen", 'generate specs and users');
run_ok($d, "node $helper users $d/gen/users.jsonl > $d/users-str.jsonl",
       'users as strings');
run_ok($d, "node $helper vars $d/gen/dcs.json > $d/vars.json", 'variables');

my @users = map { decode_json($_) } split /\n/,
    StatsigTest::slurp("$d/users-str.jsonl");
my $vars = decode_json(StatsigTest::slurp("$d/vars.json"));
is(scalar @users, $nusers, "$nusers users");

# -------------------------------------------------------------- the conf

my $hdr = sub { my $n = lc shift; $n =~ s/[^a-z0-9]/-/g; $n };
my $var = sub { my $n = lc shift; $n =~ s/[^a-z0-9]/_/g; $n };
my $q = sub { my $s = shift; $s =~ s/(["\\\$])/\\$1/g; "\"$s\"" };

my (%custom, %private, %ids);
for my $u (@users) {
    $custom{$_} = 1 for keys %{ $u->{custom} || {} };
    $private{$_} = 1 for keys %{ $u->{privateAttributes} || {} };
    $ids{$_} = 1 for keys %{ $u->{customIDs} || {} };
}
delete $ids{stableID};

my $user_conf = join "\n", map { "    $_;" }
    'statsig_user_id $http_x_user_id',
    'statsig_user_field email $http_x_email',
    'statsig_user_field ip $http_x_ip',
    'statsig_user_field userAgent $http_x_ua',
    'statsig_user_field country $http_x_country',
    'statsig_user_field locale $cookie_locale$http_x_locale',
    'statsig_user_field appVersion $http_x_app_version',
    (map { "statsig_user_custom $_ \$cookie_c_" . $var->($_)
           . '$http_x_c_' . $var->($_) } sort keys %custom),
    (map { "statsig_user_private $_ \$http_x_p_" . $var->($_) }
         sort keys %private),
    (map { "statsig_custom_id $_ \$http_x_id_" . $var->($_) } sort keys %ids),
    'statsig_stable_id_cookie sid';

# a conf token holds at most 4k: the body is made of "set" chunks
my (@named, @chunks);
my $body = 'sid\t$statsig_stable_id\n';
for my $v (@$vars) {
    if ($v->{exact} && $v->{kind} eq 'gate') {
        push @named, "    statsig_gate \$$v->{var} " . $q->($v->{name}) . ';';
    } elsif ($v->{exact}) {
        push @named, "    statsig_param \$$v->{var} " . $q->($v->{name}) . ' '
            . $q->($v->{param})
            . (defined $v->{default} ? " default=$v->{default}" : '') . ';';
    }
    $body .= "$v->{var}\\t\$$v->{var}\\n";
    if (length $body > 3000) {
        push @chunks, $body;
        $body = '';
    }
}
push @chunks, $body;
my $sets = join "\n", map { "            set \$b$_ \"$chunks[$_]\";" } 0 .. $#chunks;
my $ret = join '', map { "\$b$_" } 0 .. $#chunks;

write_file('{}', 'idlists-none.json');

$t->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 8m;
    statsig_specs_file $d/gen/dcs.json;
    statsig_environment production;
$user_conf
@{[ join "\n", @named ]}

    server {
        listen %%LISTEN%%;
        location /eval {
$sets
            return 200 "$ret";
        }
    }
}
EOF

ok($t->run, 'nginx runs with the generated conf');

# ------------------------------------------------------- ask nginx

my $ua = HTTP::Tiny->new(keep_alive => 1, timeout => 20);
my (@got, $errors);
my %field = (userID => 'x-user-id', email => 'x-email', ip => 'x-ip',
             userAgent => 'x-ua', country => 'x-country',
             appVersion => 'x-app-version');

my $cookie_ok = qr/^[!#-+\-.\/0-:<-\[\]-~]+$/;

for my $i (0 .. $#users) {
    my $u = $users[$i];
    my (%h, @cookies);
    for my $f (keys %field) {
        $h{$field{$f}} = encode_utf8($u->{$f}) if defined $u->{$f};
    }
    # cookies where a cookie can carry the value, headers otherwise
    if (defined $u->{locale}) {
        if ($i % 2 && $u->{locale} =~ $cookie_ok) {
            push @cookies, "locale=$u->{locale}";
        } else {
            $h{'x-locale'} = encode_utf8($u->{locale});
        }
    }
    for my $k (keys %{ $u->{custom} || {} }) {
        my $val = $u->{custom}{$k};
        if ($i % 3 == 0 && $val =~ $cookie_ok) {
            push @cookies, 'c_' . $var->($k) . "=$val";
        } else {
            $h{'x-c-' . $hdr->($k)} = encode_utf8($val);
        }
    }
    for my $k (keys %{ $u->{privateAttributes} || {} }) {
        $h{'x-p-' . $hdr->($k)} = encode_utf8($u->{privateAttributes}{$k});
    }
    for my $k (keys %{ $u->{customIDs} || {} }) {
        my $val = $u->{customIDs}{$k};
        if ($k eq 'stableID') {
            push @cookies, "sid=$val";
        } else {
            $h{'x-id-' . $hdr->($k)} = encode_utf8($val);
        }
    }
    $h{cookie} = join '; ', @cookies if @cookies;

    my $r = $ua->get($t->url('/eval'), { headers => \%h });
    if ($r->{status} != 200) {
        diag("user $i: status $r->{status}") if $errors++ < 5;
        push @got, {};
        next;
    }
    my %v = map { split /\t/, $_, 2 } split /\n/, $r->{content};
    push @got, \%v;

    # what nginx used: the cookie's stable ID, or the one it generated
    $u->{customIDs}{stableID} = $v{sid} if length($v{sid} // '');
}
ok(!$errors, "$nusers requests answered") or diag("$errors failed");

# -------------------------------------------- ask statsig-node, compare

write_file(join('', map { encode_json($_) . "\n" } @users),
           'users-final.jsonl');
run_ok($d, "node $oracle/oracle.js --environment production "
       . "--idlists $d/idlists-none.json $d/gen/dcs.json "
       . "$d/users-final.jsonl > $d/oracle.jsonl", 'oracle evaluates');
run_ok($d, "node $helper expect $d/vars.json $d/oracle.jsonl "
       . "> $d/expected.jsonl", 'expected values');

my @want = map { decode_json($_) } split /\n/,
    StatsigTest::slurp("$d/expected.jsonl");
is(scalar @want, $nusers, 'expected values for every user');

my ($checked, $mismatch, %on) = (0, 0);
for my $i (0 .. $#want) {
    for my $v (@$vars) {
        my $name = $v->{var};
        my $w = $want[$i]{$name};
        my $g = $got[$i]{$name};
        $g = '' unless defined $g;
        $g = Encode::decode_utf8($g);
        $checked++;
        $on{$v->{kind}}++ if length $w && $w ne '0' && $w ne '{}';
        next if $g eq $w;
        diag("user $i $name: nginx [$g], statsig-node [$w]")
            if $mismatch++ < 10;
    }
}

is($mismatch, 0, "$checked values of $nusers users equal statsig-node's");
diag("compared $checked variable values of $nusers users, "
     . "$mismatch mismatches");
ok($on{gate} && $on{gate} > $nusers, 'many gates pass');
ok($on{experiment} && $on{experiment} > $nusers / 2, 'many experiment groups');
ok($on{param} && $on{param} > $nusers, 'many parameters');

my $new = grep { !defined $_->{customIDs}{stableID} } @users;
is($new, 0, 'every user has a stable ID (cookie or generated)');

$t->stop;
done_testing;

sub write_file { $t->write_file($_[1], $_[0]) }
