use Test::Nginx::Socket 'no_plan';

# what the answer must report: the running nginx and the module's own version

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
our ($nginx_version) = `$nginx -v 2>&1` =~ m{nginx/(\S+)}
    or die "cannot read the nginx version";

open my $h, '<', 'ngx_voxanne_module/ngx_http_voxanne.h' or die $!;
our ($module_version) = map { /VERSION\s+"([^"]+)"/ ? $1 : () } <$h>;

run_tests();

__DATA__

=== TEST 1: health answers JSON with versions and the worker pid
--- config
    location = /healthz {
        voxanne_health;
    }
--- request
GET /healthz
--- error_code: 200
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like eval
qr/^\{"status":"ok","module":"ngx_http_voxanne_module",
    "version":"\Q$::module_version\E","nginx":"\Q$::nginx_version\E",
    "pid":[1-9]\d*,"libpq":"\d+\.\d+"\}\n\z/x
--- no_error_log
[error]



=== TEST 2: HEAD gets the headers and no body
--- config
    location = /healthz {
        voxanne_health;
    }
--- request
HEAD /healthz
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body
--- no_error_log
[error]



=== TEST 3: other methods are refused with 405
--- config
    location = /healthz {
        voxanne_health;
    }
--- request
POST /healthz
{"x":1}
--- error_code: 405
--- no_error_log
[error]



=== TEST 4: a location without the directive is not answered by the module
--- config
    location = /healthz {
        voxanne_health;
    }
    location = /other {
        return 204;
    }
--- request
GET /other
--- error_code: 204
--- response_body
--- no_error_log
[error]
