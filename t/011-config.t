use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: voxanne_health takes "live" or nothing
--- config
    location = /healthz {
        voxanne_health on;
    }
--- must_die
--- error_log
invalid parameter "on", "live" or none is expected



=== TEST 2: voxanne_health is a location directive
--- http_config
    voxanne_health;
--- config
    location = /t { return 204; }
--- must_die
--- error_log
"voxanne_health" directive is not allowed here



=== TEST 3: voxanne_health twice in one location
--- config
    location = /healthz {
        voxanne_health;
        voxanne_health live;
    }
--- must_die
--- error_log
"voxanne_health" directive is duplicate



=== TEST 4: voxanne_health after another content handler
--- config
    location = /healthz {
        proxy_pass http://127.0.0.1:1;
        voxanne_health;
    }
--- must_die
--- error_log
"voxanne_health" directive conflicts with another content handler in this location
