
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * callsim: plays Twilio against a gateway.  Each call signs and POSTs the
 * voice webhook, reads the TwiML, and for a <Connect><Stream> opens the
 * signed media WebSocket, streams 20 ms frames, echoes marks like Twilio,
 * stops, waits for the close and POSTs the <Connect action>.  The report
 * says what each call came to, with the round trip of every echoed frame.
 */


#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <jansson.h>

#include "callsim.h"


static int callsim_options(callsim_t *run, int argc, char **argv);
static int callsim_usec(const char *s, lws_usec_t *usec);
static void callsim_raise_nofile(callsim_t *run);
static int callsim_context(callsim_t *run);
static void callsim_clock_tick(tools_clock_t *clock);
static void callsim_call_start(callsim_call_t *call);
static void callsim_call_voice(callsim_http_t *h);
static void callsim_call_advance(lws_sorted_usec_list_t *sul);
static void callsim_call_ended(callsim_http_t *h);
static void callsim_call_finish(callsim_call_t *call);
static size_t callsim_call_params(callsim_call_t *call, callsim_param_t *p,
    const char *status);
static void callsim_deadline(lws_sorted_usec_list_t *sul);
static void callsim_stop(callsim_t *run, const char *why);
static void callsim_done(callsim_t *run);
static int callsim_double_cmp(const void *one, const void *two);
static void callsim_dist(double *v, size_t n, callsim_dist_t *d);
static json_t *callsim_dist_json(callsim_dist_t *d);
static void callsim_report_text(callsim_t *run);
static void callsim_report_json(callsim_t *run);
static void callsim_lws_log(int level, const char *line);
static void callsim_stop_signal(int signo);


static volatile sig_atomic_t  callsim_interrupted;


static const struct lws_protocols  callsim_protocols[] = {
    { "callsim-media", callsim_media_callback, 0, 4096, 0, NULL, 0 },
    { "callsim-curl", callsim_curl_callback, 0, 0, 0, NULL, 0 },
    { "callsim-clock", tools_clock_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};


static const char  callsim_usage[] =
"usage: callsim [options]\n"
"\n"
"Plays Twilio against a Voxanne Edge gateway (or any gateway that speaks\n"
"Twilio's voice webhook and Media Streams).\n"
"\n"
"  --url URL           the voice webhook to POST\n"
"                      (default http://127.0.0.1:8080/twilio/voice)\n"
"  --public-url URL    the URL Twilio would call, signed (default: --url)\n"
"  --connect HOST:PORT where the TwiML's stream and action URLs are sent\n"
"                      (default: the host and port of --url); TLS when\n"
"                      --url is https\n"
"  --token TOKEN       the tenant's Twilio auth token, or\n"
"  --token-file FILE   a file holding it\n"
"  --calls N           concurrent calls (default 1)\n"
"  --ramp DURATION     spread the call starts over this long (default 0)\n"
"  --duration DURATION how long each stream lasts (default 5s)\n"
"  --from NUMBER       the caller (default +14155550100, +1 a call)\n"
"  --to NUMBER         the called, the tenant's number (default\n"
"                      +15550100001)\n"
"  --account-sid AC... the AccountSid (default: a random one)\n"
"  --audio FILE        raw mu-law 8000 Hz to stream, looped (default:\n"
"                      speech-like talk and pauses, below)\n"
"  --talk DURATION     each turn of the caller's speech (default 1.5s)\n"
"  --pause DURATION    the silence after each turn (default 2s)\n"
"  --talk-at DURATION  silence before the first turn, for the greeting\n"
"                      (default 4s)\n"
"  --tone              a 440 Hz tone all along instead of speech\n"
"  --dtmf DIGITS       digits to press (0-9, *, #, A-D), 250 ms apart,\n"
"  --dtmf-at DURATION  this long into the stream (default 2s)\n"
"  --expect OUTCOME    connect (default), reject, busy, voicemail, dial,\n"
"                      hangup or refused: what every call must come to\n"
"  --timeout DURATION  for each webhook and the WebSocket handshake\n"
"                      (default 10s)\n"
"  --insecure          do not verify TLS certificates\n"
"  --json              print a JSON summary on stdout\n"
"  --verbose           a line for every call, and libwebsockets' warnings\n"
"  --ws-only URL       no webhooks: open the ws:// URL straight away and\n"
"                      stream as in a call (a floor for the round trip,\n"
"                      against build/wsecho); no token needed\n"
"  --realtime-only URL as --ws-only, speaking the OpenAI Realtime API to\n"
"                      the ws:// URL: each frame an input_audio_buffer.\n"
"                      append, its echo an audio delta, then our close\n"
"                      (a floor against mock-realtime --echo)\n"
"\n"
"A DURATION is a number of seconds, or a number with ms or s.\n"
"Exit status: 0 when every call came to the expected outcome (connect:\n"
"the stream closed with 1000 and the action was answered), 1 otherwise,\n"
"2 on a usage error.\n";


int
main(int argc, char **argv)
{
    int              rc;
    char            *token, *p;
    size_t           len;
    unsigned         i;
    callsim_t        run;
    lws_usec_t       deadline;
    callsim_call_t  *call;

    memset(&run, 0, sizeof(callsim_t));

    token = NULL;

    run.url = "http://127.0.0.1:8080/twilio/voice";
    run.to = "+15550100001";
    run.calls = 1;
    run.duration = 5 * LWS_US_PER_SEC;
    run.dtmf_at = 2 * LWS_US_PER_SEC;
    run.timeout = 10 * LWS_US_PER_SEC;
    run.talk = 1500000;
    run.pause = 2 * LWS_US_PER_SEC;
    run.talk_at = 4 * LWS_US_PER_SEC;
    run.expected = CALLSIM_OUTCOME_CONNECT;

    if (callsim_options(&run, argc, argv) != 0) {
        return 2;
    }

    if (run.token == NULL && run.token_file == NULL) {
        fprintf(stderr, "callsim: --token or --token-file is required\n");
        return 2;
    }

    if (run.token_file) {
        token = tools_read_file("callsim", run.token_file, &len);
        if (token == NULL) {
            return 2;
        }

        for (p = token + len; p > token && strchr(" \t\r\n", p[-1]); p--) {
            /* void */
        }

        *p = '\0';

        if (token[0] == '\0') {
            fprintf(stderr, "callsim: the token file is empty\n");
            return 2;
        }

        run.token = token;
    }

    if (run.public_url == NULL) {
        run.public_url = run.url;
    }

    if (run.account_sid == NULL) {
        callsim_hex_sid(run.account, "AC");

    } else {
        snprintf(run.account, sizeof(run.account), "%s", run.account_sid);
    }

    if (callsim_media_init(&run) != 0) {
        return 2;
    }

    callsim_raise_nofile(&run);

    signal(SIGPIPE, SIG_IGN);

    if (callsim_context(&run) != 0) {
        return 1;
    }

    run.call = calloc(run.calls, sizeof(callsim_call_t));
    if (run.call == NULL) {
        fprintf(stderr, "callsim: out of memory\n");
        return 1;
    }

    run.started = lws_now_usecs();

    for (i = 0; i < run.calls; i++) {
        call = &run.call[i];

        call->run = &run;
        call->index = i + 1;
        call->close_code = -1;

        callsim_hex_sid(call->call_sid, "CA");

        if (run.from) {
            snprintf(call->from, sizeof(call->from), "%s", run.from);

        } else {
            snprintf(call->from, sizeof(call->from), "+1415555%04u",
                     (100 + i) % 10000);
        }

        call->next_due = run.started;

        if (run.calls > 1) {
            call->next_due += run.ramp * i / (run.calls - 1);
        }
    }

    tools_clock_arm(&run.clock, run.started);

    /* a call stuck past all its waits ends the run */

    deadline = run.ramp + run.duration + 3 * run.timeout
               + 10 * LWS_US_PER_SEC;

    lws_sul_schedule(run.context, 0, &run.sul_deadline, callsim_deadline,
                     deadline);

    signal(SIGINT, callsim_stop_signal);
    signal(SIGTERM, callsim_stop_signal);

    while (!run.done) {
        if (callsim_interrupted) {
            callsim_stop(&run, "interrupted");
            break;
        }

        if (lws_service(run.context, 0) < 0) {
            callsim_stop(&run, "the event loop failed");
            break;
        }
    }

    run.elapsed = lws_now_usecs() - run.started;
    run.exiting = 1;
    run.clock.stopped = 1;


    /* curl first: its sockets are lws descriptors */

    for (i = 0; i < run.calls; i++) {
        callsim_http_free(&run.call[i].http);
    }

    callsim_http_cleanup(&run);

    lws_context_destroy(run.context);
    run.context = NULL;

    if (run.json) {
        callsim_report_json(&run);

    } else {
        callsim_report_text(&run);
    }

    rc = 0;

    for (i = 0; i < run.calls; i++) {
        call = &run.call[i];

        if (!call->ok) {
            rc = 1;
        }

        callsim_media_free(call);
        callsim_twiml_free(&call->twiml);
        free(call->rtt);
        free(call->answer);
        free(call->action_url);
    }

    free(run.call);
    free(token);

    callsim_media_exit(&run);

    return rc;
}


static void
callsim_stop_signal(int signo)
{
    callsim_interrupted = 1;
}


static int
callsim_options(callsim_t *run, int argc, char **argv)
{
    int             c, index;
    char           *end, url[300];
    const char     *p;
    lws_usec_t     *usec;
    callsim_url_t   u;
    unsigned long   n;

    enum {
        CALLSIM_OPT_URL = 256, CALLSIM_OPT_PUBLIC_URL, CALLSIM_OPT_CONNECT,
        CALLSIM_OPT_TOKEN, CALLSIM_OPT_TOKEN_FILE, CALLSIM_OPT_CALLS,
        CALLSIM_OPT_RAMP, CALLSIM_OPT_DURATION, CALLSIM_OPT_FROM,
        CALLSIM_OPT_TO, CALLSIM_OPT_ACCOUNT, CALLSIM_OPT_AUDIO,
        CALLSIM_OPT_DTMF, CALLSIM_OPT_DTMF_AT, CALLSIM_OPT_EXPECT,
        CALLSIM_OPT_TIMEOUT, CALLSIM_OPT_INSECURE, CALLSIM_OPT_JSON,
        CALLSIM_OPT_VERBOSE, CALLSIM_OPT_HELP, CALLSIM_OPT_WS_ONLY,
        CALLSIM_OPT_TALK, CALLSIM_OPT_PAUSE, CALLSIM_OPT_TALK_AT,
        CALLSIM_OPT_TONE, CALLSIM_OPT_REALTIME_ONLY
    };

    static const struct option  options[] = {
        { "url", required_argument, NULL, CALLSIM_OPT_URL },
        { "public-url", required_argument, NULL, CALLSIM_OPT_PUBLIC_URL },
        { "connect", required_argument, NULL, CALLSIM_OPT_CONNECT },
        { "token", required_argument, NULL, CALLSIM_OPT_TOKEN },
        { "token-file", required_argument, NULL, CALLSIM_OPT_TOKEN_FILE },
        { "calls", required_argument, NULL, CALLSIM_OPT_CALLS },
        { "ramp", required_argument, NULL, CALLSIM_OPT_RAMP },
        { "duration", required_argument, NULL, CALLSIM_OPT_DURATION },
        { "from", required_argument, NULL, CALLSIM_OPT_FROM },
        { "to", required_argument, NULL, CALLSIM_OPT_TO },
        { "account-sid", required_argument, NULL, CALLSIM_OPT_ACCOUNT },
        { "audio", required_argument, NULL, CALLSIM_OPT_AUDIO },
        { "dtmf", required_argument, NULL, CALLSIM_OPT_DTMF },
        { "dtmf-at", required_argument, NULL, CALLSIM_OPT_DTMF_AT },
        { "expect", required_argument, NULL, CALLSIM_OPT_EXPECT },
        { "timeout", required_argument, NULL, CALLSIM_OPT_TIMEOUT },
        { "insecure", no_argument, NULL, CALLSIM_OPT_INSECURE },
        { "json", no_argument, NULL, CALLSIM_OPT_JSON },
        { "verbose", no_argument, NULL, CALLSIM_OPT_VERBOSE },
        { "help", no_argument, NULL, CALLSIM_OPT_HELP },
        { "ws-only", required_argument, NULL, CALLSIM_OPT_WS_ONLY },
        { "talk", required_argument, NULL, CALLSIM_OPT_TALK },
        { "pause", required_argument, NULL, CALLSIM_OPT_PAUSE },
        { "talk-at", required_argument, NULL, CALLSIM_OPT_TALK_AT },
        { "tone", no_argument, NULL, CALLSIM_OPT_TONE },
        { "realtime-only", required_argument, NULL,
          CALLSIM_OPT_REALTIME_ONLY },
        { NULL, 0, NULL, 0 }
    };

    for ( ;; ) {
        c = getopt_long(argc, argv, "v", options, &index);

        if (c == -1) {
            break;
        }

        usec = NULL;

        switch (c) {

        case CALLSIM_OPT_URL:
            run->url = optarg;
            break;

        case CALLSIM_OPT_PUBLIC_URL:
            run->public_url = optarg;
            break;

        case CALLSIM_OPT_CONNECT:
            run->connect = optarg;
            break;

        case CALLSIM_OPT_TOKEN:
            run->token = optarg;
            run->token_file = NULL;
            break;

        case CALLSIM_OPT_TOKEN_FILE:
            run->token_file = optarg;
            run->token = NULL;
            break;

        case CALLSIM_OPT_CALLS:
            errno = 0;
            n = strtoul(optarg, &end, 10);

            if (errno || *end || n < 1 || n > 100000) {
                fprintf(stderr, "callsim: --calls wants 1 to 100000, not "
                        "\"%s\"\n", optarg);
                return -1;
            }

            run->calls = (unsigned) n;
            break;

        case CALLSIM_OPT_RAMP:
            usec = &run->ramp;
            break;

        case CALLSIM_OPT_DURATION:
            usec = &run->duration;
            break;

        case CALLSIM_OPT_DTMF_AT:
            usec = &run->dtmf_at;
            break;

        case CALLSIM_OPT_TIMEOUT:
            usec = &run->timeout;
            break;

        case CALLSIM_OPT_TALK:
            usec = &run->talk;
            break;

        case CALLSIM_OPT_PAUSE:
            usec = &run->pause;
            break;

        case CALLSIM_OPT_TALK_AT:
            usec = &run->talk_at;
            break;

        case CALLSIM_OPT_TONE:
            run->tone = 1;
            break;

        case CALLSIM_OPT_FROM:
            run->from = optarg;
            break;

        case CALLSIM_OPT_TO:
            run->to = optarg;
            break;

        case CALLSIM_OPT_ACCOUNT:
            if (strlen(optarg) != CALLSIM_SID_LEN
                || strncmp(optarg, "AC", 2) != 0)
            {
                fprintf(stderr, "callsim: --account-sid wants AC and 32 hex "
                        "digits\n");
                return -1;
            }

            run->account_sid = optarg;
            break;

        case CALLSIM_OPT_AUDIO:
            run->audio = (unsigned char *)
                         tools_read_file("callsim", optarg, &run->audio_len);
            if (run->audio == NULL) {
                return -1;
            }

            if (run->audio_len < CALLSIM_FRAME) {
                fprintf(stderr, "callsim: %s: under %d bytes (20 ms)\n",
                        optarg, CALLSIM_FRAME);
                return -1;
            }

            break;

        case CALLSIM_OPT_DTMF:
            for (p = optarg; *p; p++) {
                if (strchr("0123456789*#ABCD", *p) == NULL) {
                    fprintf(stderr, "callsim: --dtmf takes 0-9, *, # and "
                            "A-D, not '%c'\n", *p);
                    return -1;
                }
            }

            run->dtmf = optarg;
            break;

        case CALLSIM_OPT_EXPECT:
            for (n = CALLSIM_OUTCOME_CONNECT; n <= CALLSIM_OUTCOME_REFUSED;
                 n++)
            {
                if (n != CALLSIM_OUTCOME_MESSAGE
                    && strcmp(optarg, callsim_outcome_name(n)) == 0)
                {
                    break;
                }
            }

            if (n > CALLSIM_OUTCOME_REFUSED) {
                fprintf(stderr, "callsim: --expect takes connect, reject, "
                        "busy, voicemail, dial, hangup or refused\n");
                return -1;
            }

            run->expected = (callsim_outcome_e) n;
            break;

        case CALLSIM_OPT_INSECURE:
            run->insecure = 1;
            break;

        case CALLSIM_OPT_JSON:
            run->json = 1;
            break;

        case 'v':
        case CALLSIM_OPT_VERBOSE:
            run->verbose = 1;
            break;

        case CALLSIM_OPT_HELP:
            fputs(callsim_usage, stdout);
            exit(0);

        case CALLSIM_OPT_WS_ONLY:
            run->ws_only = optarg;
            run->realtime = 0;
            break;

        case CALLSIM_OPT_REALTIME_ONLY:
            run->ws_only = optarg;
            run->realtime = 1;
            break;

        default:
            fputs(callsim_usage, stderr);
            return -1;
        }

        if (usec && callsim_usec(optarg, usec) != 0) {
            fprintf(stderr, "callsim: --%s: \"%s\" is not a duration\n",
                    options[index].name, optarg);
            return -1;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "callsim: unexpected argument \"%s\"\n",
                argv[optind]);
        return -1;
    }

    if (run->duration < CALLSIM_FRAME_USEC) {
        fprintf(stderr, "callsim: --duration is under 20 ms\n");
        return -1;
    }

    if (run->talk + run->pause > 60 * LWS_US_PER_SEC) {
        fprintf(stderr, "callsim: --talk and --pause are over a minute\n");
        return -1;
    }

    if (run->timeout < LWS_US_PER_SEC) {
        fprintf(stderr, "callsim: --timeout is under a second\n");
        return -1;
    }

    if (run->ws_only) {
        /* the WebSocket alone: the URL is both the stream and where to
           connect; there is no webhook to sign, the handshake's
           signature is made with any token */

        if (callsim_url_parse(run->ws_only, &run->gateway) != 0
            || (strcmp(run->gateway.scheme, "ws") != 0
                && strcmp(run->gateway.scheme, "wss") != 0))
        {
            fprintf(stderr, "callsim: --ws-only \"%s\" is not a ws:// or "
                    "wss:// URL\n", run->ws_only);
            return -1;
        }

        if (run->token == NULL && run->token_file == NULL) {
            run->token = "ws-only";
        }

    } else if (callsim_url_parse(run->url, &run->gateway) != 0
               || run->gateway.scheme[0] != 'h')
    {
        fprintf(stderr, "callsim: --url \"%s\" is not an http:// or "
                "https:// URL\n", run->url);
        return -1;
    }

    if (run->public_url) {
        if (callsim_url_parse(run->public_url, &u) != 0) {
            fprintf(stderr, "callsim: --public-url \"%s\" is not a URL\n",
                    run->public_url);
            return -1;
        }
    }

    if (run->connect) {
        snprintf(url, sizeof(url), "%s://%s", run->gateway.scheme,
                 run->connect);

        if (callsim_url_parse(url, &run->gateway) != 0
            || strchr(run->connect, '/') != NULL)
        {
            fprintf(stderr, "callsim: --connect wants HOST:PORT, not "
                    "\"%s\"\n", run->connect);
            return -1;
        }
    }

    /* lws wants an IPv6 address without its brackets */

    p = run->gateway.host;
    n = strlen(p);

    if (p[0] == '[') {
        p++;
        n -= 2;
    }

    memcpy(run->address, p, n);
    run->address[n] = '\0';

    return 0;
}


/* "5", "2.5s", "500ms" */

static int
callsim_usec(const char *s, lws_usec_t *usec)
{
    char    *end;
    double   v;

    errno = 0;
    v = strtod(s, &end);

    if (errno || end == s || v < 0 || v > 86400.0 * 1000) {
        return -1;
    }

    if (strcmp(end, "ms") == 0) {
        v /= 1000;

    } else if (*end != '\0' && strcmp(end, "s") != 0) {
        return -1;
    }

    if (v > 86400) {
        return -1;
    }

    *usec = (lws_usec_t) llround(v * LWS_US_PER_SEC);

    return 0;
}


/* three descriptors a call at most: the stream, curl's socket, its dup */

static void
callsim_raise_nofile(callsim_t *run)
{
    rlim_t         want;
    struct rlimit  rl;

    want = (rlim_t) run->calls * 3 + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) {
        return;
    }

    rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want)
                  ? want : rl.rlim_max;

    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want) {
        fprintf(stderr, "callsim: warning: %u calls may need %lu open "
                "files, the limit is %lu\n", run->calls,
                (unsigned long) want, (unsigned long) rl.rlim_cur);
    }
}


static int
callsim_context(callsim_t *run)
{
    struct lws_context_creation_info  info;

    lws_set_log_level(run->verbose ? LLL_ERR | LLL_WARN : 0,
                      callsim_lws_log);

    memset(&info, 0, sizeof(struct lws_context_creation_info));

    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = callsim_protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.timeout_secs = (unsigned) (run->timeout / LWS_US_PER_SEC);
    info.connect_timeout_secs = info.timeout_secs;

    run->context = lws_create_context(&info);
    if (run->context == NULL) {
        fprintf(stderr, "callsim: lws_create_context() failed\n");
        return -1;
    }

    run->vhost = lws_get_vhost_by_name(run->context, "default");
    if (run->vhost == NULL) {
        fprintf(stderr, "callsim: no libwebsockets vhost\n");
        return -1;
    }

    if (callsim_http_init(run) != 0) {
        fprintf(stderr, "callsim: cannot initialise libcurl\n");
        return -1;
    }

    run->clock.tick = callsim_clock_tick;
    run->clock.data = run;

    if (tools_clock_init(&run->clock, run->vhost, "callsim-clock", "callsim")
        != 0)
    {
        return -1;
    }

    return 0;
}


static void
callsim_lws_log(int level, const char *line)
{
    fprintf(stderr, "callsim: lws: %s", line);
}


/*
 * The run's clock (scripts/lib/tools.c) runs every call's start, media,
 * DTMF and marks; lws timers run the rare waits (curl's timeouts, a close
 * after "stop", the run's deadline).
 */


/* what is due (or due within CALLSIM_EARLY) now, and when next */

static void
callsim_clock_tick(tools_clock_t *clock)
{
    unsigned         i;
    callsim_t       *run;
    lws_usec_t       now, next;
    callsim_call_t  *call;

    run = clock->data;
    now = lws_now_usecs();
    next = 0;

    for (i = 0; i < run->calls; i++) {
        call = &run->call[i];

        if (call->next_due && call->next_due <= now + CALLSIM_EARLY) {

            if (call->state == CALLSIM_CALL_WAITING) {
                call->next_due = 0;
                callsim_call_start(call);

            } else if (call->state == CALLSIM_CALL_STREAM) {
                callsim_media_tick(call, now);

            } else {
                call->next_due = 0;
            }
        }

        if (call->next_due && (next == 0 || call->next_due < next)) {
            next = call->next_due;
        }
    }

    if (next) {
        tools_clock_arm(&run->clock, next);
    }
}


/* the call's turn in the ramp: the voice webhook */

static void
callsim_call_start(callsim_call_t *call)
{
    size_t           n;
    callsim_param_t  params[16];

    if (call->run->ws_only) {
        /* no voice webhook: as if it had answered <Connect><Stream> with
           this URL and no action */

        call->outcome = CALLSIM_OUTCOME_CONNECT;
        call->twiml.outcome = CALLSIM_OUTCOME_CONNECT;
        call->twiml.stream_url = (char *) call->run->ws_only;
        call->state = CALLSIM_CALL_STREAM;

        if (callsim_media_connect(call) != 0) {
            call->ws_over = 1;
            callsim_call_next(call);
        }

        return;
    }

    call->state = CALLSIM_CALL_VOICE;

    n = callsim_call_params(call, params, "ringing");

    if (callsim_http_post(call, call->run->url, call->run->public_url, params,
                          n, callsim_call_voice)
        != 0)
    {
        callsim_call_error(call, "voice webhook: %s", call->http.error);
        call->outcome = CALLSIM_OUTCOME_ERROR;
        callsim_call_finish(call);
    }
}


/* the parameters Twilio sends with each request of a call */

static size_t
callsim_call_params(callsim_call_t *call, callsim_param_t *p,
    const char *status)
{
    size_t      n;
    callsim_t  *run;

    run = call->run;
    n = 0;

    p[n].name = "AccountSid";    p[n++].value = run->account;
    p[n].name = "ApiVersion";    p[n++].value = "2010-04-01";
    p[n].name = "CallSid";       p[n++].value = call->call_sid;
    p[n].name = "CallStatus";    p[n++].value = status;
    p[n].name = "Called";        p[n++].value = run->to;
    p[n].name = "CalledCountry"; p[n++].value = "US";
    p[n].name = "Caller";        p[n++].value = call->from;
    p[n].name = "CallerCountry"; p[n++].value = "US";
    p[n].name = "Direction";     p[n++].value = "inbound";
    p[n].name = "From";          p[n++].value = call->from;
    p[n].name = "FromCountry";   p[n++].value = "US";
    p[n].name = "To";            p[n++].value = run->to;
    p[n].name = "ToCountry";     p[n++].value = "US";

    return n;
}


static void
callsim_call_voice(callsim_http_t *h)
{
    callsim_call_t  *call = h->call;

    call->voice_status = h->status;
    call->voice_ms = (h->end - h->start) / 1000.0;

    if (h->code != CURLE_OK) {
        callsim_call_error(call, "voice webhook: %s",
                           h->error[0] ? h->error
                                       : curl_easy_strerror(h->code));
        call->outcome = CALLSIM_OUTCOME_ERROR;
        callsim_call_finish(call);
        return;
    }

    if (h->status < 200 || h->status > 299) {
        call->outcome = CALLSIM_OUTCOME_REFUSED;
        callsim_call_finish(call);
        return;
    }

    call->answer = h->body ? h->body : strdup("");
    h->body = NULL;

    if (call->answer == NULL) {
        callsim_call_error(call, "out of memory");
        call->outcome = CALLSIM_OUTCOME_ERROR;
        callsim_call_finish(call);
        return;
    }

    if (callsim_twiml_parse(call->answer, strlen(call->answer), &call->twiml)
        != 0)
    {
        callsim_call_error(call, "voice webhook: TwiML: %s",
                           call->twiml.error);
        call->outcome = CALLSIM_OUTCOME_ERROR;
        callsim_call_finish(call);
        return;
    }

    call->outcome = call->twiml.outcome;

    if (call->outcome != CALLSIM_OUTCOME_CONNECT) {
        callsim_call_finish(call);
        return;
    }

    call->state = CALLSIM_CALL_STREAM;

    if (callsim_media_connect(call) != 0) {
        call->ws_over = 1;
        callsim_call_next(call);
    }
}


/* the next step of a call, from a timer: never inside a library callback */

void
callsim_call_next(callsim_call_t *call)
{
    if (call->run->exiting) {
        return;
    }

    lws_sul_schedule(call->run->context, 0, &call->sul_next,
                     callsim_call_advance, 0);
}


static void
callsim_call_advance(lws_sorted_usec_list_t *sul)
{
    callsim_call_t  *call = lws_container_of(sul, callsim_call_t, sul_next);

    size_t           n;
    char             url[CALLSIM_URL_LEN + 300], *action;
    callsim_t       *run;
    callsim_url_t    pub, u;
    callsim_param_t  params[16];

    run = call->run;

    if (call->state != CALLSIM_CALL_STREAM) {
        return;
    }

    callsim_media_free(call);

    action = call->twiml.action;

    if (action == NULL) {
        callsim_call_finish(call);
        return;
    }

    /* the stream ended: Twilio requests the <Connect action> */

    call->state = CALLSIM_CALL_ENDED;

    if (strstr(action, "://") == NULL) {
        /* relative to the voice webhook's URL */

        if (callsim_url_parse(run->public_url, &pub) != 0
            || action[0] != '/')
        {
            callsim_call_error(call, "an action URL \"%s\" that is not "
                               "absolute", action);
            callsim_call_finish(call);
            return;
        }

        snprintf(url, sizeof(url), "%s://%s%s", pub.scheme, pub.authority,
                 action);
        action = strdup(url);

        if (action == NULL) {
            callsim_call_finish(call);
            return;
        }

        free(call->action_url);
        call->action_url = action;
    }

    if (callsim_url_parse(action, &u) != 0) {
        callsim_call_error(call, "a malformed action URL \"%s\"", action);
        callsim_call_finish(call);
        return;
    }

    snprintf(url, sizeof(url), "%s://%s%s", run->gateway.scheme,
             run->gateway.authority, u.path);

    n = callsim_call_params(call, params, "in-progress");

    if (callsim_http_post(call, url, action, params, n, callsim_call_ended)
        != 0)
    {
        callsim_call_error(call, "stream-ended webhook: %s",
                           call->http.error);
        callsim_call_finish(call);
    }
}


static void
callsim_call_ended(callsim_http_t *h)
{
    callsim_call_t  *call = h->call;

    callsim_twiml_t  tw;

    call->ended_status = h->status;
    call->ended_ms = (h->end - h->start) / 1000.0;

    if (h->code != CURLE_OK) {
        callsim_call_error(call, "stream-ended webhook: %s",
                           h->error[0] ? h->error
                                       : curl_easy_strerror(h->code));

    } else if (h->status >= 200 && h->status <= 299) {

        if (callsim_twiml_parse(h->body ? h->body : "",
                                h->body ? h->len : 0, &tw)
            != 0)
        {
            callsim_call_error(call, "stream-ended webhook: TwiML: %s",
                               tw.error);

        } else {
            call->ended_outcome = tw.outcome;
        }

        callsim_twiml_free(&tw);
    }

    callsim_call_finish(call);
}


/* done: did it come to what was expected? */

static void
callsim_call_finish(callsim_call_t *call)
{
    callsim_t  *run;

    run = call->run;

    if (call->state == CALLSIM_CALL_DONE) {
        return;
    }

    call->state = CALLSIM_CALL_DONE;

    switch (run->expected) {

    case CALLSIM_OUTCOME_CONNECT:
        call->ok = call->outcome == CALLSIM_OUTCOME_CONNECT
                   && call->close_code == 1000
                   && (call->twiml.action == NULL
                       || (call->ended_status >= 200
                           && call->ended_status <= 299))
                   && call->nerrors == 0;
        break;

    case CALLSIM_OUTCOME_REJECT:
        call->ok = call->outcome == CALLSIM_OUTCOME_REJECT
                   || call->outcome == CALLSIM_OUTCOME_BUSY;
        break;

    case CALLSIM_OUTCOME_BUSY:
        call->ok = call->outcome == CALLSIM_OUTCOME_BUSY
                   || call->outcome == CALLSIM_OUTCOME_MESSAGE;
        break;

    default:
        call->ok = call->outcome == run->expected;
    }

    if (run->verbose && !run->json) {
        fprintf(stderr, "callsim: call %u %s: %s\n", call->index,
                call->call_sid, callsim_outcome_name(call->outcome));
    }

    if (++run->finished == run->calls) {
        callsim_done(run);
    }
}


void
callsim_call_error(callsim_call_t *call, const char *fmt, ...)
{
    va_list  args;

    if (call->nerrors < CALLSIM_ERRORS_MAX) {
        va_start(args, fmt);
        vsnprintf(call->errors[call->nerrors], CALLSIM_ERROR_LEN, fmt, args);
        va_end(args);
    }

    call->nerrors++;
}


static void
callsim_deadline(lws_sorted_usec_list_t *sul)
{
    callsim_t  *run = lws_container_of(sul, callsim_t, sul_deadline);

    callsim_stop(run, "the run's deadline passed");
}


/* the calls still going end here, as errors */

static void
callsim_stop(callsim_t *run, const char *why)
{
    unsigned         i;
    callsim_call_t  *call;

    static const char  *states[] = {
        "waiting to start", "in the voice webhook", "streaming",
        "in the stream-ended webhook", "done"
    };

    for (i = 0; i < run->calls; i++) {
        call = &run->call[i];

        if (call->state == CALLSIM_CALL_DONE) {
            continue;
        }

        callsim_call_error(call, "%s while %s", why, states[call->state]);

        if (call->outcome == CALLSIM_OUTCOME_NONE) {
            call->outcome = CALLSIM_OUTCOME_ERROR;
        }

        call->state = CALLSIM_CALL_DONE;
        call->ok = 0;
        run->finished++;
    }

    run->timed_out = 1;

    callsim_done(run);
}


/* timers run before lws polls: wake the poll up, lws_service() returns */

static void
callsim_done(callsim_t *run)
{
    run->done = 1;

    lws_sul_cancel(&run->sul_deadline);

    if (run->context) {
        lws_cancel_service(run->context);
    }
}


/* nearest rank */

static void
callsim_dist(double *v, size_t n, callsim_dist_t *d)
{
    d->n = n;

    if (n == 0) {
        d->p50 = d->p99 = d->max = 0;
        return;
    }

    qsort(v, n, sizeof(double), callsim_double_cmp);

    d->p50 = v[(size_t) ceil(0.50 * n) - 1];
    d->p99 = v[(size_t) ceil(0.99 * n) - 1];
    d->max = v[n - 1];
}


static int
callsim_double_cmp(const void *one, const void *two)
{
    double  a = *(const double *) one, b = *(const double *) two;

    return (a > b) - (a < b);
}


static json_t *
callsim_dist_json(callsim_dist_t *d)
{
    if (d->n == 0) {
        return json_null();
    }

    return json_pack("{s:f, s:f, s:f}", "p50", round(d->p50 * 1000) / 1000,
                     "p99", round(d->p99 * 1000) / 1000,
                     "max", round(d->max * 1000) / 1000);
}


static void
callsim_report_text(callsim_t *run)
{
    size_t            n, nrtt, nhs, nvoice;
    double           *all, *hs, *voice;
    unsigned          i, j, ok, sent, echoed, unmatched, mr, me, errors;
    unsigned          counts[CALLSIM_OUTCOME_ERROR + 1];
    callsim_dist_t    d, drtt, dhs, dvoice;
    callsim_call_t   *call;

    memset(counts, 0, sizeof(counts));

    nrtt = 0;

    for (i = 0; i < run->calls; i++) {
        nrtt += run->call[i].nrtt;
    }

    all = malloc((nrtt + 1) * sizeof(double));
    hs = malloc((run->calls + 1) * sizeof(double));
    voice = malloc((run->calls + 1) * sizeof(double));

    if (all == NULL || hs == NULL || voice == NULL) {
        fprintf(stderr, "callsim: out of memory\n");
        return;
    }

    n = 0;
    nhs = 0;
    nvoice = 0;
    ok = sent = echoed = unmatched = mr = me = errors = 0;

    for (i = 0; i < run->calls; i++) {
        call = &run->call[i];

        counts[call->outcome]++;
        ok += call->ok;
        sent += call->sent;
        echoed += call->echoed;
        unmatched += call->unmatched;
        mr += call->marks_received;
        me += call->marks_echoed;
        errors += call->nerrors;

        if (call->voice_status) {
            voice[nvoice++] = call->voice_ms;
        }

        if (call->connected) {
            hs[nhs++] = call->handshake_ms;
        }

        memcpy(all + n, call->rtt, call->nrtt * sizeof(double));
        n += call->nrtt;

        if (!(run->verbose || run->calls <= 20 || !call->ok)) {
            continue;
        }

        printf("call %u %s: %s", call->index, call->call_sid,
               callsim_outcome_name(call->outcome));

        if (call->voice_status) {
            printf(", webhook %ld in %.1f ms", call->voice_status,
                   call->voice_ms);
        }

        if (call->twiml.say) {
            printf(", says \"%s\"", call->twiml.say);
        }

        if (call->connected) {
            callsim_dist(call->rtt, call->nrtt, &d);

            printf(", handshake %.1f ms, frames %u sent %u echoed",
                   call->handshake_ms, call->sent, call->echoed);

            if (d.n) {
                printf(", rtt ms p50 %.3f p99 %.3f max %.3f", d.p50, d.p99,
                       d.max);
            }

            printf(", marks %u/%u", call->marks_echoed, call->marks_received);
        }

        if (call->close_code >= 0) {
            printf(", close %d", call->close_code);
        }

        if (call->ended_status) {
            printf(", stream-ended %ld", call->ended_status);

            if (call->ended_outcome) {
                printf(" %s", callsim_outcome_name(call->ended_outcome));
            }
        }

        printf(": %s\n", call->ok ? "ok" : "NOT OK");

        for (j = 0; j < call->nerrors && j < CALLSIM_ERRORS_MAX; j++) {
            printf("    error: %s\n", call->errors[j]);
        }

        if (call->nerrors > CALLSIM_ERRORS_MAX) {
            printf("    and %u more errors\n",
                   call->nerrors - CALLSIM_ERRORS_MAX);
        }
    }

    callsim_dist(all, n, &drtt);
    callsim_dist(hs, nhs, &dhs);
    callsim_dist(voice, nvoice, &dvoice);

    printf("%u calls in %.1f s:", run->calls, run->elapsed / 1e6);

    for (j = CALLSIM_OUTCOME_CONNECT; j <= CALLSIM_OUTCOME_ERROR; j++) {
        if (counts[j]) {
            printf(" %u %s", counts[j], callsim_outcome_name(j));
        }
    }

    printf("; %u as expected (%s), %u not\n", ok,
           callsim_outcome_name(run->expected), run->calls - ok);

    if (dvoice.n) {
        printf("webhook ms      p50 %.3f  p99 %.3f  max %.3f\n", dvoice.p50,
               dvoice.p99, dvoice.max);
    }

    if (dhs.n) {
        printf("handshake ms    p50 %.3f  p99 %.3f  max %.3f\n", dhs.p50,
               dhs.p99, dhs.max);
    }

    if (drtt.n) {
        printf("rtt ms          p50 %.3f  p99 %.3f  max %.3f\n", drtt.p50,
               drtt.p99, drtt.max);
    }

    if (nhs) {
        printf("frames %u sent, %u echoed, %u missing, %u unmatched; marks "
               "%u echoed of %u\n", sent, echoed, sent - echoed, unmatched,
               me, mr);
    }

    if (errors) {
        printf("%u errors\n", errors);
    }

    free(all);
    free(hs);
    free(voice);
}


static void
callsim_report_json(callsim_t *run)
{
    char             code[16];
    size_t           n, nrtt, nhs, nvoice, nended;
    double          *all, *hs, *voice, *ended;
    json_t          *calls, *c, *errors, *agg, *outcomes, *closes, *root;
    unsigned         i, j, ok, sent, echoed, unmatched, mr, me, nerrors;
    callsim_dist_t   d;
    callsim_call_t  *call;

    nrtt = 0;

    for (i = 0; i < run->calls; i++) {
        nrtt += run->call[i].nrtt;
    }

    all = malloc((nrtt + 1) * sizeof(double));
    hs = malloc((run->calls + 1) * sizeof(double));
    voice = malloc((run->calls + 1) * sizeof(double));
    ended = malloc((run->calls + 1) * sizeof(double));

    if (all == NULL || hs == NULL || voice == NULL || ended == NULL) {
        fprintf(stderr, "callsim: out of memory\n");
        return;
    }

    calls = json_array();
    outcomes = json_object();
    closes = json_object();

    n = nhs = nvoice = nended = 0;
    ok = sent = echoed = unmatched = mr = me = nerrors = 0;

    for (i = 0; i < run->calls; i++) {
        call = &run->call[i];

        errors = json_array();

        for (j = 0; j < call->nerrors && j < CALLSIM_ERRORS_MAX; j++) {
            json_array_append_new(errors, json_string(call->errors[j]));
        }

        c = json_pack("{s:i, s:s, s:s, s:s, s:b}",
                      "call", (json_int_t) call->index,
                      "call_sid", call->call_sid,
                      "from", call->from,
                      "outcome", callsim_outcome_name(call->outcome),
                      "ok", (int) call->ok);

        json_object_set_new(c, "webhook_status",
                            call->voice_status
                            ? json_integer(call->voice_status) : json_null());
        json_object_set_new(c, "webhook_ms",
                            call->voice_status
                            ? json_real(round(call->voice_ms * 1000) / 1000)
                            : json_null());
        json_object_set_new(c, "say",
                            call->twiml.say ? json_string(call->twiml.say)
                                            : json_null());
        json_object_set_new(c, "reason",
                            call->twiml.reason
                            ? json_string(call->twiml.reason) : json_null());

        if (call->outcome == CALLSIM_OUTCOME_CONNECT) {
            json_object_set_new(c, "stream_url",
                                json_string(call->twiml.stream_url));
            json_object_set_new(c, "stream_sid",
                                json_string(call->stream_sid));
            json_object_set_new(c, "handshake_ms",
                                call->connected
                                ? json_real(round(call->handshake_ms * 1000)
                                            / 1000)
                                : json_null());

            memcpy(all + n, call->rtt, call->nrtt * sizeof(double));
            n += call->nrtt;

            callsim_dist(call->rtt, call->nrtt, &d);

            json_object_set_new(c, "frames_sent", json_integer(call->sent));
            json_object_set_new(c, "frames_echoed",
                                json_integer(call->echoed));
            json_object_set_new(c, "frames_missing",
                                json_integer(call->sent - call->echoed));
            json_object_set_new(c, "frames_unmatched",
                                json_integer(call->unmatched));
            json_object_set_new(c, "frames_duplicated",
                                json_integer(call->duplicates));
            json_object_set_new(c, "rtt_ms", callsim_dist_json(&d));
            json_object_set_new(c, "marks_received",
                                json_integer(call->marks_received));
            json_object_set_new(c, "marks_echoed",
                                json_integer(call->marks_echoed));
            json_object_set_new(c, "clears", json_integer(call->clears));
            json_object_set_new(c, "dtmf_sent",
                                json_integer(call->dtmf_sent));
            json_object_set_new(c, "close_code",
                                call->close_code >= 0
                                ? json_integer(call->close_code)
                                : json_null());
            json_object_set_new(c, "close_reason",
                                json_string(call->close_reason));
            json_object_set_new(c, "stream_ended_status",
                                call->ended_status
                                ? json_integer(call->ended_status)
                                : json_null());
            json_object_set_new(c, "stream_ended_ms",
                                call->ended_status
                                ? json_real(round(call->ended_ms * 1000)
                                            / 1000)
                                : json_null());
            json_object_set_new(c, "stream_ended",
                                call->ended_outcome
                                ? json_string(callsim_outcome_name(
                                                  call->ended_outcome))
                                : json_null());

            if (call->connected) {
                hs[nhs++] = call->handshake_ms;
            }

            if (call->ended_status) {
                ended[nended++] = call->ended_ms;
            }

            if (call->close_code >= 0) {
                snprintf(code, sizeof(code), "%d", call->close_code);
                json_object_set_new(closes, code,
                    json_integer(json_integer_value(
                                     json_object_get(closes, code)) + 1));
            }
        }

        json_object_set_new(c, "errors", errors);
        json_array_append_new(calls, c);

        json_object_set_new(outcomes, callsim_outcome_name(call->outcome),
            json_integer(json_integer_value(
                json_object_get(outcomes,
                                callsim_outcome_name(call->outcome))) + 1));

        if (call->voice_status) {
            voice[nvoice++] = call->voice_ms;
        }

        ok += call->ok;
        sent += call->sent;
        echoed += call->echoed;
        unmatched += call->unmatched;
        mr += call->marks_received;
        me += call->marks_echoed;
        nerrors += call->nerrors;
    }

    agg = json_pack("{s:i, s:s, s:i, s:i, s:f, s:o}",
                    "calls", (json_int_t) run->calls,
                    "expect", callsim_outcome_name(run->expected),
                    "ok", (json_int_t) ok,
                    "failed", (json_int_t) (run->calls - ok),
                    "seconds", round(run->elapsed / 1e3) / 1e3,
                    "outcomes", outcomes);

    callsim_dist(voice, nvoice, &d);
    json_object_set_new(agg, "webhook_ms", callsim_dist_json(&d));
    callsim_dist(hs, nhs, &d);
    json_object_set_new(agg, "handshake_ms", callsim_dist_json(&d));
    callsim_dist(ended, nended, &d);
    json_object_set_new(agg, "stream_ended_ms", callsim_dist_json(&d));
    callsim_dist(all, n, &d);
    json_object_set_new(agg, "rtt_ms", callsim_dist_json(&d));

    json_object_set_new(agg, "frames_sent", json_integer(sent));
    json_object_set_new(agg, "frames_echoed", json_integer(echoed));
    json_object_set_new(agg, "frames_missing", json_integer(sent - echoed));
    json_object_set_new(agg, "frames_unmatched", json_integer(unmatched));
    json_object_set_new(agg, "marks_received", json_integer(mr));
    json_object_set_new(agg, "marks_echoed", json_integer(me));
    json_object_set_new(agg, "close_codes", closes);
    json_object_set_new(agg, "errors", json_integer(nerrors));

    root = json_pack("{s:o, s:o}", "calls", calls, "aggregate", agg);

    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER
                           | JSON_REAL_PRECISION(6));
    fputc('\n', stdout);

    json_decref(root);

    free(all);
    free(hs);
    free(voice);
    free(ended);
}
