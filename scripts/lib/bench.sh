# Shell functions the benchmarks share (scripts/bench-webhook, bench-db);
# sourced, not run.

# "Requests/sec: N" and the 99% line of --latency, in ms; a third field
# counts the errors wrk reports (non-2xx answers, socket errors)
parse_wrk() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
            if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        /^Requests\/sec:/           { rps = $2 }
        $1 == "99%"                 { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ {
            for (i = 3; i <= NF; i += 2) { v = $(i + 1); sub(/,/, "", v); errors += v }
        }
        END {
            if (rps == "" || p99 == "") exit 1
            printf "%.0f %.3f %d\n", rps, p99, errors
        }' "$1"
}

median() {
    sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
