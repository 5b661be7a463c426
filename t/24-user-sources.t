#!/usr/bin/perl

# The user's fields read from $http_NAME and $arg_NAME in one pass over
# the headers and the query (ngx_http_statsig_user.c) equal nginx's own
# variables: for many odd requests (repeated, empty, case, "_" and "-",
# an argument without "=", a name that is a prefix of another, percent
# signs left as they are), the user in the request's exposure record is
# compared with the same variables, read by nginx in the same response.
# Also: a "set" variable, a map of a $http_ name, a rewritten query, and
# nginx's own $http_user_agent read as themselves.
# Specs: conf-examples/demo-specs.json.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use StatsigTest;

$ENV{TEST_NGINX_DEBUG} = 1;    # exposure records are logged at debug level

my $root = StatsigTest::root();
my $t = StatsigTest->new(workers => 1);

# each location's fields: [ record key (custom.K, customIDs.K), the variable ]
my %fields = (
    h => [ [ 'userID', 'http_x_user_id' ], [ 'email', 'http_x_email' ],
           [ 'country', 'http_X_Country' ], [ 'locale', 'http_x_loc_ale' ],
           [ 'appVersion', 'arg_v' ], [ 'custom.a', 'arg_a' ],
           [ 'custom.ab', 'arg_ab' ], [ 'custom.A2', 'arg_A' ],
           [ 'custom.b', 'arg_b' ], [ 'customIDs.companyID', 'http_x_co' ],
           [ 'custom.ua', 'http_user_agent' ], [ 'custom.xa', 'http_x_a' ],
           [ 'custom.a_b', 'arg_a_b' ], [ 'userAgent', 'http_user_agent' ],
           [ 'ip', 'remote_addr' ] ],
    q => [ [ 'userID', 'arg_u' ], [ 'email', 'arg_email' ],
           [ 'country', 'arg_country' ], [ 'custom.e', 'arg_e' ],
           [ 'custom.em', 'arg_em' ], [ 'custom.ln', 'arg_long_name_x' ] ],
    # names of 8 bytes and more, compared 8 bytes a step
    l => [ [ 'userID', 'http_x_long_header_name_ab' ],
           [ 'email', 'http_x_user_id' ], [ 'country', 'http_x_countr' ],
           [ 'custom.e8', 'http_x_eight' ],
           [ 'custom.e16', 'http_x_sixteen_bytes_' ],
           [ 'custom.e17', 'http_x_seventeen_bytes' ],
           [ 'userAgent', 'http_user_agent' ] ],
);

# the statsig variable first: the user is built before nginx reads its own
sub body {
    my ($loc) = @_;
    return '$statsig_gate_beta_users\n$request_id\n'
        . join('', map { "\$$_->[1]\\n" } @{ $fields{$loc} });
}

my $h_body = body('h');
my $q_body = body('q');
my $l_body = body('l');

$t->write_conf(<<"EOF");
%%TEST_GLOBALS%%
http {
    %%TEST_GLOBALS_HTTP%%
    statsig_zone statsig 1m;
    statsig_specs_file $root/conf-examples/demo-specs.json;
    statsig_user_custom n \$request_id;

    map \$arg_m \$http_x_mapped {
        default  "from-map";
    }

    server {
        listen %%LISTEN%%;
        underscores_in_headers on;
        ignore_invalid_headers off;

        location /h {
            statsig_user_id \$http_x_user_id;
            statsig_user_field email \$http_x_email;
            statsig_user_field country \$http_X_Country;
            statsig_user_field locale \$http_x_loc_ale;
            statsig_user_field appVersion \$arg_v;
            statsig_user_custom n \$request_id;
            statsig_user_custom a \$arg_a;
            statsig_user_custom ab \$arg_ab;
            statsig_user_custom A2 \$arg_A;
            statsig_user_custom b \${arg_b};
            statsig_user_custom ua \$http_user_agent;
            statsig_custom_id companyID \$http_x_co;
            statsig_user_custom xa \$http_x_a;
            statsig_user_custom a_b \$arg_a_b;
            return 200 "$h_body";
        }

        location /q {
            statsig_user_id \$arg_u;
            statsig_user_field email \$arg_email;
            statsig_user_field country \$arg_country;
            statsig_user_custom e \$arg_e;
            statsig_user_custom em \$arg_em;
            statsig_user_custom ln \$arg_long_name_x;
            return 200 "$q_body";
        }

        location /l {
            statsig_user_id \$http_x_long_header_name_ab;
            statsig_user_field email \$http_x_user_id;
            statsig_user_field country \$http_x_countr;
            statsig_user_custom e8 \$http_x_eight;
            statsig_user_custom e16 \$http_x_sixteen_bytes_;
            statsig_user_custom e17 \$http_x_seventeen_bytes;
            return 200 "$l_body";
        }

        location /set {
            set \$http_x_user_id "from-set";
            set \$arg_u "arg-from-set";
            statsig_user_id \$http_x_user_id;
            statsig_user_field email \$arg_u;
            return 200 "\$statsig_gate_beta_users\\n\$request_id\\n";
        }

        location /map {
            statsig_user_id \$http_x_mapped;
            return 200 "\$statsig_gate_beta_users\\n\$request_id\\n";
        }

        location /args {
            set \$args "u=rewritten&u=second";
            statsig_user_id \$arg_u;
            return 200 "\$statsig_gate_beta_users\\n\$request_id\\n";
        }

        # nginx read it first: its value is the one
        location /read {
            statsig_user_id \$http_x_user_id;
            return 200 "\$http_x_user_id\\n\$statsig_gate_beta_users\\n\$request_id\\n";
        }
    }
}
EOF

$t->run;

# a request: the path with its query, and raw header lines
sub req {
    my ($target, @headers) = @_;
    my $raw = $t->raw("GET $target HTTP/1.0\r\nHost: localhost\r\n"
                      . join('', map { "$_\r\n" } @headers) . "\r\n");
    my ($status) = $raw =~ m{^HTTP/1\.[01] (\d+)};
    my ($body) = $raw =~ /\r\n\r\n(.*)\z/s;
    return ($status // 0, $body // '');
}

# the module's user takes a value when it is not empty, at most 4096
# bytes and UTF-8
sub as_user {
    my ($v) = @_;
    return undef if !defined $v || $v eq '' || length($v) > 4096;
    my $copy = $v;
    return utf8::decode($copy) ? $v : undef;
}

my (@cases, %want);

# [ location, target, header lines... ]
my $long = 'x' x 5000;
push @cases,
    [ 'h', '/h', 'X-User-Id: plain', 'X-Email: a@example.com',
      'X-Country: DE' ],
    [ 'h', '/h', 'X-User-Id: first', 'X-User-Id: second' ],
    [ 'h', '/h', 'X-User-Id:', 'X-User-Id: after-empty' ],
    [ 'h', '/h', 'x-USER-id: cased', 'X-EMAIL: E@X.COM' ],
    [ 'h', '/h', 'X_User_Id: underscores', 'X-User-Id: dashes' ],
    [ 'h', '/h', 'X-User_Id: mixed' ],
    [ 'h', '/h', 'X-User-Idx: longer', 'X-User: shorter', 'XUser-Id: no' ],
    [ 'h', '/h', 'X.User-Id: dotted', 'X-User-Id.: dot-after' ],
    [ 'h', '/h', 'X-User-Id:    spaced value   ', 'X-Co: acme' ],
    [ 'h', '/h', "X-User-Id: caf\xc3\xa9", "X-Email: \xff\xfe" ],
    [ 'h', '/h', 'X-Loc-Ale: de-DE', 'x_loc_ale: later' ],
    [ 'h', '/h', 'x_loc-ale: first-mixed', 'X-Loc-Ale: second' ],
    [ 'h', '/h', 'X-Country: ', 'X-Country: US' ],
    [ 'h', '/h', 'User-Agent: agent/1.0', 'X-User-Agent: other' ],
    [ 'h', '/h', 'User-Agent: first', 'user-agent: second' ],
    [ 'h', '/h', 'User-Agent:' ],
    [ 'h', '/h', 'X-Co: "quoted" \\ back', 'X-User-Id: {"json":1}' ],
    [ 'h', '/h?v=1.2.3&a=x&ab=y', 'X-User-Id: args' ],
    [ 'h', '/h?a=1&a=2' ],
    [ 'h', '/h?a&a=2' ],
    [ 'h', '/h?a' ],
    [ 'h', '/h?ab=1&a=2' ],
    [ 'h', '/h?aa=1&ba=2&a=3' ],
    [ 'h', '/h?A=upper&a=lower' ],
    [ 'h', '/h?a=%41%20b+c&ab=%zz' ],
    [ 'h', '/h?a=&a=2' ],
    [ 'h', '/h?a=b=c&ab==1' ],
    [ 'h', '/h?&&a=1&' ],
    [ 'h', '/h?=x&a=y' ],
    [ 'h', '/h?a=1;ab=2' ],
    [ 'h', '/h?xa=1&a=2&v=' ],
    [ 'h', '/h?a%3D1&a=2' ],
    [ 'h', "/h?a=caf\xc3\xa9&ab=\xff" ],
    [ 'h', "/h?a=$long&ab=short" ],
    [ 'h', '/h?b=brace&B=second' ],
    [ 'h', '/h?ab&ab=&a=' ],
    [ 'h', '/h?V=cap&v=low', 'X-User-Id: both' ],
    [ 'h', '/h', 'X-A: short', 'x_a: second' ],
    [ 'h', '/h', 'X_A: under-first', 'X-A: dash', 'X-AB: no', 'XA: no' ],
    [ 'h', '/h?a-b=dash&a_b=under' ],
    [ 'h', '/h?A_B=up&a-b=x&a=1' ],
    [ 'h', '/h', 'X-User-Ie: last-byte', 'X-Countrz: z', 'X-Loc-AlE: ok' ],
    [ 'q', '/q?long_name_y=1&long_name_z=2' ],
    [ 'q', '/q?long-name-x=1&LONG_NAME_X=2&long_name_x=3' ],
    [ 'q', '/q?long_name_=1&long_name_xy=2&long_name_x=ok' ],
    [ 'q', '/q?Long_Name_X=mixed&COUNTRY=de&Email=E' ],
    [ 'q', '/q?u=1&email=a@b.c&country=US' ],
    [ 'q', '/q?email=x&em=1&e=2' ],
    [ 'q', '/q?em=1&e=2&email=z' ],
    [ 'q', '/q?u=a&U=b&country=DE&country=FR' ],
    [ 'q', '/q?emailx=1&xemail=2&email=3' ],
    [ 'q', '/q?u' ],
    [ 'q', '/q' ],
    [ 'q', '/q?' ],
    [ 'q', '/q?u=%E2%82%AC&e=%' ],
    [ 'q', '/q?u=1#frag' ],
    [ 'q', '/q?e=1&e=2&em=&em=3' ],
    [ 'l', '/l', 'X-Long-Header-Name-Ab: plain', 'X-Eight: 8',
      'X-Sixteen-Bytes-: 16', 'X-Seventeen-Bytes: 17' ],
    [ 'l', '/l', 'Y-Long-Header-Name-Ab: first', 'Y-User-Id: first',
      'Y-Eight: first', 'Y-Sixteen-Bytes-: first', 'Y-Seventeen-Bytes: 1' ],
    [ 'l', '/l', 'X-Long-Header-Name-Ac: last', 'X-User-Ie: last',
      'X-Eighz: last', 'X-Sixteen-Bytes+: last', 'X-Seventeen-Byteq: l' ],
    [ 'l', '/l', 'X-Long-Hxader-Name-Ab: middle', 'X-Sixteen-Bztes-: mid',
      'X-Seventeen-Bxtes: mid', 'X-Countr: ok' ],
    [ 'l', '/l', 'x_LONG-header_NAME-aB: mixed', 'X_USER_ID: upper',
      'x_EIGHT: mixed', 'X_SIXTEEN_BYTES_: upper',
      'x-seventeen-BYTES: mixed' ],
    [ 'l', '/l', 'X-Long-Header-Name-AB: one', 'X-Long-Header-Name-Ab: two',
      'X-Eight: a', 'x-eight: b' ],
    [ 'l', '/l', "X\xadLong-Header-Name-Ab: high", "X-User\xadId: high",
      "X-Countr\xd2: high", "X-Eigh\xd4: high", "X-Sixteen-Bytes\xdf: high",
      "X-Seventeen-Byte\xd3: high" ],
    [ 'l', '/l', 'X@Long-Header-Name-Ab: at', 'X-User-I[: bracket',
      'X-Eight`: no', 'X=Sixteen-Bytes-: eq', 'X-Seventeen-Bytes{: no',
      'X-Countr: fine' ];

my $n = 0;

for my $c (@cases) {
    my ($loc, $target, @headers) = @$c;
    my ($status, $body) = req($target, @headers);
    my @lines = split /\n/, $body, -1;
    my ($gate, $rid) = @lines[0, 1];

    unless ($status == 200 && defined $rid && $rid =~ /^[0-9a-f]{32}$/) {
        fail("request $target: $status");
        next;
    }

    my %v;
    my $i = 2;
    for my $f (@{ $fields{$loc} }) {
        $v{ $f->[0] } = $lines[$i++];
    }

    $want{$rid} = { case => join(' | ', $target, @headers), vars => \%v };
    $n++;
}

is($n, scalar @cases, 'every odd request answered');

my %special;
for my $p ('/set', '/map', '/args?u=ignored') {
    my ($status, $body) = req($p, 'X-User-Id: header');
    my @l = split /\n/, $body;
    $special{$p} = $l[1] // '';
}

my ($status, $body) = req('/read', 'X-User-Id: read-first');
my @read = split /\n/, $body;
$special{'/read'} = $read[2] // '';
is($read[0], 'read-first', 'nginx read the header first');

$t->stop;

# the records, by the request's id (custom.n)
my %rec;
for my $line (split /\n/, $t->error_log) {
    next unless $line =~ /statsig exposure #\d+(?: \(deduped\))?: (\{.*)$/;
    my $e = eval { JSON::PP->new->utf8->decode($1) } or next;
    my $u = $e->{user} or next;
    my $id = $u->{custom} && $u->{custom}{n} or next;
    $rec{$id} //= $u;
}

sub field {
    my ($u, $key) = @_;
    if ($key =~ /^(custom|customIDs)\.(.+)$/) {
        return $u->{$1} ? $u->{$1}{$2} : undef;
    }
    return $u->{$key};
}

# the record's strings are characters; the variables bytes
sub bytes {
    my ($s) = @_;
    return undef unless defined $s;
    utf8::encode($s);
    return $s;
}

my $checked = 0;
for my $rid (sort keys %want) {
    my $w = $want{$rid};
    my $u = $rec{$rid};

    unless ($u) {
        fail("a record for $w->{case}");
        next;
    }

    for my $key (sort keys %{ $w->{vars} }) {
        my $exp = as_user($w->{vars}{$key});
        my $got = bytes(field($u, $key));
        is($got, $exp, "$w->{case}: $key") or next;
        $checked++;
    }
}

ok($checked > 300, "$checked fields compared");

# nginx's value when it is not the header's or the query's
my %who = ('/set' => 'from-set', '/map' => 'from-map', '/args?u=ignored' =>
           'rewritten', '/read' => 'read-first');
for my $p (sort keys %who) {
    my $u = $rec{ $special{$p} };
    is($u && $u->{userID}, $who{$p}, "$p: the user's id is nginx's value");
}
is($rec{ $special{'/set'} } && $rec{ $special{'/set'} }{email}, 'arg-from-set',
   '/set: an argument set is nginx\'s value');

$t->check_log;

done_testing;
