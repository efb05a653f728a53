
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * mock-realtime: the options, the listener, the loop and the event log.
 * The listening socket is ours, not libwebsockets': it hands accepted
 * connections to lws (lws_adopt_descriptor_vhost_via_info), after
 * --delay-accept when asked, and it learns the port the kernel picked.
 */


#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mockrt.h"
#include "tools.h"


static int mockrt_options(mockrt_t *mock, int argc, char **argv);
static int mockrt_ms(const char *s, unsigned *ms);
static int mockrt_uint(const char *s, unsigned long max, unsigned long *n);
static int mockrt_tool(mockrt_t *mock, const char *spec, const char *where);
static int mockrt_tools_file(mockrt_t *mock, const char *path);
static void mockrt_default_tools(mockrt_t *mock);
static void mockrt_free_options(mockrt_t *mock);
static int mockrt_listen(mockrt_t *mock);
static int mockrt_context(mockrt_t *mock);
static int mockrt_listen_callback(struct lws *wsi,
    enum lws_callback_reasons reason, void *user, void *in, size_t len);
static void mockrt_accept(mockrt_t *mock);
static void mockrt_accept_delayed(lws_sorted_usec_list_t *sul);
static void mockrt_adopt(mockrt_t *mock, int fd, unsigned number);
static void mockrt_clock_tick(tools_clock_t *clock);
static void mockrt_lws_log(int level, const char *line);
static void mockrt_stop_signal(int signo);


static volatile sig_atomic_t  mockrt_interrupted;
static struct lws_context    *mockrt_context_ptr;


static const struct lws_protocols  mockrt_protocols[] = {
    { "mock-realtime", mockrt_ws_callback, sizeof(mockrt_session_t), 65536,
      0, NULL, 0 },
    { "mock-realtime-listen", mockrt_listen_callback, 0, 0, 0, NULL, 0 },
    { "mock-realtime-clock", tools_clock_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};


static const char  mockrt_usage[] =
"usage: mock-realtime [options]\n"
"\n"
"A stand-in for the OpenAI Realtime API (GA events) on a WebSocket at\n"
"/v1/realtime?model=..., for tests, benchmarks and the demo agent.\n"
"Prints the port it listens on, then serves until SIGTERM or SIGINT.\n"
"\n"
"  --port PORT           (default 0: the kernel picks one)\n"
"  --address ADDRESS     (default 127.0.0.1)\n"
"  --cert FILE --key FILE  wss:// with this certificate and key (PEM)\n"
"  --api-key KEY, --api-key-file FILE\n"
"                        require Authorization: Bearer KEY (else 401)\n"
"  --model NAME          when the URL names none (default gpt-realtime)\n"
"\n"
"  --greeting TEXT       the first response's transcript\n"
"  --reply TEXT          a later response's transcript (repeat: in turn)\n"
"  --transcript TEXT     what the caller said, for input transcription\n"
"                        (repeat: in turn)\n"
"  --tool 'TRIGGER=NAME [ARGS]'  a function call when a user text item\n"
"                        says \"pressed TRIGGER\" (a DTMF key) or holds the\n"
"                        TRIGGER phrase (repeat; default 1=get_current_time,\n"
"                        9=transfer_to_human, 0=end_call)\n"
"  --tools FILE          the same, one a line (# comments)\n"
"  --tool-reply TEXT     said before a function's output (default\n"
"                        \"Here is what I found:\")\n"
"  --audio FILE          raw mu-law 8000 Hz: every reply's audio\n"
"                        (default: a tone a word)\n"
"  --tone HZ             (default 440)\n"
"  --word-ms DURATION    audio a word (default 300ms)\n"
"  --reply-ms DURATION   audio a reply, whatever its words\n"
"  --delta-ms DURATION   audio a delta (default 40ms)\n"
"  --burst               send a reply's audio at once, not at real time\n"
"  --echo                every appended chunk comes back as an audio\n"
"                        delta of one open response; no VAD\n"
"  --vad-threshold RMS   speech above this RMS (16-bit scale) at the\n"
"                        session's threshold 0.5 (default 500)\n"
"  --vad-start DURATION  speech this long starts a turn (default 40ms)\n"
"  --max-message BYTES   larger messages are closed with 1009\n"
"                        (default 22020096: a 15 MiB append and more)\n"
"\n"
"  --refuse STATUS       answer upgrades with this HTTP status\n"
"  --delay-accept DURATION  hand a connection to the server this late\n"
"  --drop-after DURATION    end the TCP connection, no close frame\n"
"  --error-after DURATION   send a server_error event\n"
"  --error-code CODE        ... an invalid_request_error with this code\n"
"  --close-after DURATION   close with --close-code (default 1011)\n"
"  --session-cap DURATION   the session limit: session_expired, close 1001\n"
"  --mute-after DURATION    stop reading the connection (pings unanswered)\n"
"  --fault-first N       faults for the first N connections only\n"
"\n"
"  --log FILE            a JSON line for every event in and out\n"
"  --verbose             libwebsockets' warnings\n"
"\n"
"A DURATION is milliseconds, or a number with ms or s.\n";


int
main(int argc, char **argv)
{
    int            rc;
    mockrt_t       mock;
    struct rlimit  rl;

    memset(&mock, 0, sizeof(mockrt_t));

    mock.address = "127.0.0.1";
    mock.model = "gpt-realtime";
    mock.greeting = "Hello, thank you for calling. How can I help you today?";
    mock.tool_reply = "Here is what I found:";
    mock.tone_hz = 440;
    mock.word_ms = 300;
    mock.delta_ms = 40;
    mock.vad_rms = 500;
    mock.vad_start_ms = 40;
    mock.max_message = 21 * 1024 * 1024;
    mock.close_code = 1011;
    mock.log_fd = -1;
    mock.listen_fd = -1;

    mockrt_audio_init();

    if (mockrt_options(&mock, argc, argv) != 0) {
        return 2;
    }

    if (mock.nreplies == 0) {
        mock.replies[mock.nreplies++] =
            "I can help with that. Is there anything else?";
    }

    if (mock.ntranscripts == 0) {
        mock.transcripts[mock.ntranscripts++] =
            "Hello, I would like to book an appointment.";
    }

    if (mock.ntools == 0) {
        mockrt_default_tools(&mock);
    }

    mock.rand = (uint64_t) time(NULL) << 20 ^ (uint64_t) getpid()
                ^ (uint64_t) (uintptr_t) &mock;

    /* a descriptor a session: as many as the hard limit allows */

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }

    signal(SIGPIPE, SIG_IGN);

    if (mockrt_listen(&mock) != 0 || mockrt_context(&mock) != 0) {
        return 1;
    }

    mockrt_context_ptr = mock.context;

    signal(SIGTERM, mockrt_stop_signal);
    signal(SIGINT, mockrt_stop_signal);

    printf("%d\n", mock.port);
    fflush(stdout);

    mock.started = lws_now_usecs();
    rc = 0;

    while (!mockrt_interrupted) {
        if (lws_service(mock.context, 0) < 0) {
            rc = 1;
            break;
        }
    }

    mock.clock.stopped = 1;

    while (mock.accepts) {
        mockrt_accept_t  *a = mock.accepts;

        mock.accepts = a->next;
        lws_sul_cancel(&a->sul);
        close(a->fd);
        free(a);
    }

    lws_context_destroy(mock.context);

    if (mock.log_fd != -1) {
        close(mock.log_fd);
    }

    mockrt_free_options(&mock);

    return rc;
}


static void
mockrt_free_options(mockrt_t *mock)
{
    unsigned  i;

    for (i = 0; i < mock->ntools; i++) {
        free(mock->tools[i].trigger);
        free(mock->tools[i].name);
        free(mock->tools[i].arguments);
    }

    free(mock->api_key);
    free(mock->audio);
}


static void
mockrt_stop_signal(int signo)
{
    mockrt_interrupted = 1;

    /* lws's loop goes back to poll() after EINTR: wake it through its pipe */

    if (mockrt_context_ptr) {
        lws_cancel_service(mockrt_context_ptr);
    }
}


static int
mockrt_options(mockrt_t *mock, int argc, char **argv)
{
    int             c, index;
    char           *key;
    size_t          len;
    unsigned       *ms;
    unsigned long   n;

    enum {
        MOCKRT_OPT_PORT = 256, MOCKRT_OPT_ADDRESS, MOCKRT_OPT_CERT,
        MOCKRT_OPT_KEY, MOCKRT_OPT_API_KEY, MOCKRT_OPT_API_KEY_FILE,
        MOCKRT_OPT_MODEL, MOCKRT_OPT_GREETING, MOCKRT_OPT_REPLY,
        MOCKRT_OPT_TRANSCRIPT, MOCKRT_OPT_TOOL, MOCKRT_OPT_TOOLS,
        MOCKRT_OPT_TOOL_REPLY, MOCKRT_OPT_AUDIO, MOCKRT_OPT_TONE,
        MOCKRT_OPT_WORD_MS, MOCKRT_OPT_REPLY_MS, MOCKRT_OPT_DELTA_MS,
        MOCKRT_OPT_BURST, MOCKRT_OPT_ECHO, MOCKRT_OPT_VAD_THRESHOLD,
        MOCKRT_OPT_VAD_START, MOCKRT_OPT_MAX_MESSAGE, MOCKRT_OPT_REFUSE,
        MOCKRT_OPT_DELAY_ACCEPT, MOCKRT_OPT_DROP_AFTER,
        MOCKRT_OPT_ERROR_AFTER, MOCKRT_OPT_ERROR_CODE, MOCKRT_OPT_CLOSE_AFTER,
        MOCKRT_OPT_CLOSE_CODE, MOCKRT_OPT_SESSION_CAP, MOCKRT_OPT_MUTE_AFTER,
        MOCKRT_OPT_FAULT_FIRST, MOCKRT_OPT_LOG, MOCKRT_OPT_VERBOSE,
        MOCKRT_OPT_HELP
    };

    static const struct option  options[] = {
        { "port", required_argument, NULL, MOCKRT_OPT_PORT },
        { "address", required_argument, NULL, MOCKRT_OPT_ADDRESS },
        { "cert", required_argument, NULL, MOCKRT_OPT_CERT },
        { "key", required_argument, NULL, MOCKRT_OPT_KEY },
        { "api-key", required_argument, NULL, MOCKRT_OPT_API_KEY },
        { "api-key-file", required_argument, NULL, MOCKRT_OPT_API_KEY_FILE },
        { "model", required_argument, NULL, MOCKRT_OPT_MODEL },
        { "greeting", required_argument, NULL, MOCKRT_OPT_GREETING },
        { "reply", required_argument, NULL, MOCKRT_OPT_REPLY },
        { "transcript", required_argument, NULL, MOCKRT_OPT_TRANSCRIPT },
        { "tool", required_argument, NULL, MOCKRT_OPT_TOOL },
        { "tools", required_argument, NULL, MOCKRT_OPT_TOOLS },
        { "tool-reply", required_argument, NULL, MOCKRT_OPT_TOOL_REPLY },
        { "audio", required_argument, NULL, MOCKRT_OPT_AUDIO },
        { "tone", required_argument, NULL, MOCKRT_OPT_TONE },
        { "word-ms", required_argument, NULL, MOCKRT_OPT_WORD_MS },
        { "reply-ms", required_argument, NULL, MOCKRT_OPT_REPLY_MS },
        { "delta-ms", required_argument, NULL, MOCKRT_OPT_DELTA_MS },
        { "burst", no_argument, NULL, MOCKRT_OPT_BURST },
        { "echo", no_argument, NULL, MOCKRT_OPT_ECHO },
        { "vad-threshold", required_argument, NULL,
          MOCKRT_OPT_VAD_THRESHOLD },
        { "vad-start", required_argument, NULL, MOCKRT_OPT_VAD_START },
        { "max-message", required_argument, NULL, MOCKRT_OPT_MAX_MESSAGE },
        { "refuse", required_argument, NULL, MOCKRT_OPT_REFUSE },
        { "delay-accept", required_argument, NULL, MOCKRT_OPT_DELAY_ACCEPT },
        { "drop-after", required_argument, NULL, MOCKRT_OPT_DROP_AFTER },
        { "error-after", required_argument, NULL, MOCKRT_OPT_ERROR_AFTER },
        { "error-code", required_argument, NULL, MOCKRT_OPT_ERROR_CODE },
        { "close-after", required_argument, NULL, MOCKRT_OPT_CLOSE_AFTER },
        { "close-code", required_argument, NULL, MOCKRT_OPT_CLOSE_CODE },
        { "session-cap", required_argument, NULL, MOCKRT_OPT_SESSION_CAP },
        { "mute-after", required_argument, NULL, MOCKRT_OPT_MUTE_AFTER },
        { "fault-first", required_argument, NULL, MOCKRT_OPT_FAULT_FIRST },
        { "log", required_argument, NULL, MOCKRT_OPT_LOG },
        { "verbose", no_argument, NULL, MOCKRT_OPT_VERBOSE },
        { "help", no_argument, NULL, MOCKRT_OPT_HELP },
        { NULL, 0, NULL, 0 }
    };

    for ( ;; ) {
        c = getopt_long(argc, argv, "", options, &index);

        if (c == -1) {
            break;
        }

        ms = NULL;

        switch (c) {

        case MOCKRT_OPT_PORT:
            if (mockrt_uint(optarg, 65535, &n) != 0) {
                fprintf(stderr, "mock-realtime: a bad --port\n");
                return -1;
            }

            mock->port = (int) n;
            break;

        case MOCKRT_OPT_ADDRESS:
            mock->address = optarg;
            break;

        case MOCKRT_OPT_CERT:
            mock->cert = optarg;
            break;

        case MOCKRT_OPT_KEY:
            mock->key = optarg;
            break;

        case MOCKRT_OPT_API_KEY:
            free(mock->api_key);
            mock->api_key = strdup(optarg);
            break;

        case MOCKRT_OPT_API_KEY_FILE:
            key = tools_read_file("mock-realtime", optarg, &len);
            if (key == NULL) {
                return -1;
            }

            while (len && isspace((unsigned char) key[len - 1])) {
                key[--len] = '\0';
            }

            free(mock->api_key);
            mock->api_key = key;
            break;

        case MOCKRT_OPT_MODEL:
            mock->model = optarg;
            break;

        case MOCKRT_OPT_GREETING:
            mock->greeting = optarg;
            break;

        case MOCKRT_OPT_REPLY:
        case MOCKRT_OPT_TRANSCRIPT:
            if ((c == MOCKRT_OPT_REPLY ? mock->nreplies : mock->ntranscripts)
                == MOCKRT_TEXTS_MAX)
            {
                fprintf(stderr, "mock-realtime: at most %d of each of "
                        "--reply and --transcript\n", MOCKRT_TEXTS_MAX);
                return -1;
            }

            if (c == MOCKRT_OPT_REPLY) {
                mock->replies[mock->nreplies++] = optarg;

            } else {
                mock->transcripts[mock->ntranscripts++] = optarg;
            }

            break;

        case MOCKRT_OPT_TOOL:
            if (mockrt_tool(mock, optarg, "--tool") != 0) {
                return -1;
            }

            break;

        case MOCKRT_OPT_TOOLS:
            if (mockrt_tools_file(mock, optarg) != 0) {
                return -1;
            }

            break;

        case MOCKRT_OPT_TOOL_REPLY:
            mock->tool_reply = optarg;
            break;

        case MOCKRT_OPT_AUDIO:
            free(mock->audio);
            mock->audio = (unsigned char *)
                          tools_read_file("mock-realtime", optarg, &len);
            if (mock->audio == NULL) {
                return -1;
            }

            if (len == 0) {
                fprintf(stderr, "mock-realtime: %s is empty\n", optarg);
                return -1;
            }

            mock->audio_len = len;
            break;

        case MOCKRT_OPT_TONE:
            if (mockrt_uint(optarg, 3999, &n) != 0 || n == 0) {
                fprintf(stderr, "mock-realtime: --tone is 1 to 3999 Hz\n");
                return -1;
            }

            mock->tone_hz = (unsigned) n;
            break;

        case MOCKRT_OPT_WORD_MS:
            ms = &mock->word_ms;
            break;

        case MOCKRT_OPT_REPLY_MS:
            ms = &mock->reply_ms;
            break;

        case MOCKRT_OPT_DELTA_MS:
            ms = &mock->delta_ms;
            break;

        case MOCKRT_OPT_BURST:
            mock->burst = 1;
            break;

        case MOCKRT_OPT_ECHO:
            mock->echo = 1;
            break;

        case MOCKRT_OPT_VAD_THRESHOLD:
            if (mockrt_uint(optarg, 32767, &n) != 0) {
                fprintf(stderr, "mock-realtime: --vad-threshold is 0 to "
                        "32767\n");
                return -1;
            }

            mock->vad_rms = (double) n;
            break;

        case MOCKRT_OPT_VAD_START:
            ms = &mock->vad_start_ms;
            break;

        case MOCKRT_OPT_MAX_MESSAGE:
            if (mockrt_uint(optarg, 1UL << 30, &n) != 0 || n < 64) {
                fprintf(stderr, "mock-realtime: --max-message is 64 bytes "
                        "to 1 GiB\n");
                return -1;
            }

            mock->max_message = n;
            break;

        case MOCKRT_OPT_REFUSE:
            if (mockrt_uint(optarg, 599, &n) != 0 || n < 200
                || (n >= 100 && n < 200) || n == 101)
            {
                fprintf(stderr, "mock-realtime: --refuse is an HTTP status, "
                        "200 to 599\n");
                return -1;
            }

            mock->refuse = (int) n;
            break;

        case MOCKRT_OPT_DELAY_ACCEPT:
            ms = &mock->delay_accept_ms;
            break;

        case MOCKRT_OPT_DROP_AFTER:
            ms = &mock->drop_after_ms;
            break;

        case MOCKRT_OPT_ERROR_AFTER:
            ms = &mock->error_after_ms;
            break;

        case MOCKRT_OPT_ERROR_CODE:
            if (optarg[0] == '\0'
                || strspn(optarg, "abcdefghijklmnopqrstuvwxyz_")
                   != strlen(optarg))
            {
                fprintf(stderr, "mock-realtime: --error-code is a code "
                        "such as session_expired\n");
                return -1;
            }

            mock->error_code = optarg;
            break;

        case MOCKRT_OPT_CLOSE_AFTER:
            ms = &mock->close_after_ms;
            break;

        case MOCKRT_OPT_CLOSE_CODE:
            if (mockrt_uint(optarg, 4999, &n) != 0 || n < 1000
                || n == 1004 || n == 1005 || n == 1006 || n == 1015
                || (n > 1014 && n < 3000))
            {
                fprintf(stderr, "mock-realtime: --close-code is a code a "
                        "close frame may carry\n");
                return -1;
            }

            mock->close_code = (int) n;
            break;

        case MOCKRT_OPT_SESSION_CAP:
            ms = &mock->session_cap_ms;
            break;

        case MOCKRT_OPT_MUTE_AFTER:
            ms = &mock->mute_after_ms;
            break;

        case MOCKRT_OPT_FAULT_FIRST:
            if (mockrt_uint(optarg, 1000000, &n) != 0) {
                fprintf(stderr, "mock-realtime: a bad --fault-first\n");
                return -1;
            }

            mock->fault_first = (unsigned) n;
            break;

        case MOCKRT_OPT_LOG:
            mock->log_fd = open(optarg,
                                O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                                0644);
            if (mock->log_fd == -1) {
                fprintf(stderr, "mock-realtime: %s: %s\n", optarg,
                        strerror(errno));
                return -1;
            }

            break;

        case MOCKRT_OPT_VERBOSE:
            mock->verbose = 1;
            break;

        case MOCKRT_OPT_HELP:
            fputs(mockrt_usage, stdout);
            exit(0);

        default:
            fputs(mockrt_usage, stderr);
            return -1;
        }

        if (ms && mockrt_ms(optarg, ms) != 0) {
            fprintf(stderr, "mock-realtime: --%s takes a duration\n",
                    options[index].name);
            return -1;
        }
    }

    if (optind < argc) {
        fputs(mockrt_usage, stderr);
        return -1;
    }

    if ((mock->cert == NULL) != (mock->key == NULL)) {
        fprintf(stderr, "mock-realtime: --cert and --key go together\n");
        return -1;
    }

    if (mock->cert
        && (access(mock->cert, R_OK) != 0 || access(mock->key, R_OK) != 0))
    {
        fprintf(stderr, "mock-realtime: cannot read %s: %s\n",
                access(mock->cert, R_OK) != 0 ? mock->cert : mock->key,
                strerror(errno));
        return -1;
    }

    if (mock->delta_ms < 10 || mock->delta_ms > 1000) {
        fprintf(stderr, "mock-realtime: --delta-ms is 10ms to 1s\n");
        return -1;
    }

    if (mock->word_ms < 20) {
        fprintf(stderr, "mock-realtime: --word-ms is 20ms or more\n");
        return -1;
    }

    if (mock->api_key && mock->api_key[0] == '\0') {
        fprintf(stderr, "mock-realtime: the API key is empty\n");
        return -1;
    }

    return 0;
}


/* "500", "500ms", "2s", "1.5s": milliseconds */

static int
mockrt_ms(const char *s, unsigned *ms)
{
    char    *end;
    double   v;

    errno = 0;
    v = strtod(s, &end);

    if (errno || end == s || v < 0 || !isdigit((unsigned char) s[0])) {
        return -1;
    }

    if (strcmp(end, "s") == 0) {
        v *= 1000;

    } else if (*end != '\0' && strcmp(end, "ms") != 0) {
        return -1;
    }

    if (v > 86400.0 * 1000) {
        return -1;
    }

    *ms = (unsigned) llround(v);

    return 0;
}


static int
mockrt_uint(const char *s, unsigned long max, unsigned long *n)
{
    char  *end;

    if (!isdigit((unsigned char) s[0])) {
        return -1;
    }

    errno = 0;
    *n = strtoul(s, &end, 10);

    return (errno || *end != '\0' || *n > max) ? -1 : 0;
}


/*
 * "TRIGGER=NAME [ARGS]": a DTMF key (0-9 * # A-D) or a phrase, a function
 * name, and its arguments, a JSON object (default {}).
 */

static int
mockrt_tool(mockrt_t *mock, const char *spec, const char *where)
{
    char           *eq, *name, *args;
    json_t         *json;
    const char     *p;
    json_error_t    err;
    mockrt_tool_t  *tool;

    if (mock->ntools == MOCKRT_TOOLS_MAX) {
        fprintf(stderr, "mock-realtime: at most %d tools\n",
                MOCKRT_TOOLS_MAX);
        return -1;
    }

    eq = strchr(spec, '=');
    if (eq == NULL || eq == spec) {
        fprintf(stderr, "mock-realtime: %s: \"%s\" is not TRIGGER=NAME "
                "[ARGS]\n", where, spec);
        return -1;
    }

    for (p = eq + 1; *p && !isspace((unsigned char) *p); p++) {
        /* void */
    }

    if (p == eq + 1) {
        fprintf(stderr, "mock-realtime: %s: \"%s\" names no function\n",
                where, spec);
        return -1;
    }

    name = strndup(eq + 1, p - eq - 1);

    while (isspace((unsigned char) *p)) {
        p++;
    }

    args = strdup(*p ? p : "{}");

    json = json_loads(args, 0, &err);
    if (!json_is_object(json)) {
        fprintf(stderr, "mock-realtime: %s: the arguments of \"%s\" are not "
                "a JSON object\n", where, name);
        json_decref(json);
        free(name);
        free(args);
        return -1;
    }

    json_decref(json);

    tool = &mock->tools[mock->ntools++];
    tool->trigger = strndup(spec, eq - spec);
    tool->name = name;
    tool->arguments = args;
    tool->digit = (eq - spec == 1 && strchr("0123456789*#ABCD", spec[0]));

    return 0;
}


static int
mockrt_tools_file(mockrt_t *mock, const char *path)
{
    char    *text, *line, *next, *end, where[300];
    size_t   len;
    unsigned n;

    text = tools_read_file("mock-realtime", path, &len);
    if (text == NULL) {
        return -1;
    }

    for (line = text, n = 1; line && *line; line = next, n++) {
        next = strchr(line, '\n');

        if (next) {
            *next++ = '\0';
        }

        while (isspace((unsigned char) *line)) {
            line++;
        }

        end = line + strlen(line);

        while (end > line && isspace((unsigned char) end[-1])) {
            *--end = '\0';
        }

        if (*line == '\0' || *line == '#') {
            continue;
        }

        snprintf(where, sizeof(where), "%s:%u", path, n);

        if (mockrt_tool(mock, line, where) != 0) {
            free(text);
            return -1;
        }
    }

    free(text);

    return 0;
}


static void
mockrt_default_tools(mockrt_t *mock)
{
    (void) mockrt_tool(mock, "1=get_current_time", "default");
    (void) mockrt_tool(mock, "9=transfer_to_human "
                       "{\"reason\":\"the caller asked for a person\"}",
                       "default");
    (void) mockrt_tool(mock, "0=end_call", "default");
}


static int
mockrt_listen(mockrt_t *mock)
{
    int                       fd, one;
    socklen_t                 len;
    struct sockaddr_storage   ss;
    struct sockaddr_in       *sin;
    struct sockaddr_in6      *sin6;

    memset(&ss, 0, sizeof(ss));
    sin = (struct sockaddr_in *) &ss;
    sin6 = (struct sockaddr_in6 *) &ss;

    if (inet_pton(AF_INET, mock->address, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(mock->port);
        len = sizeof(struct sockaddr_in);

    } else if (inet_pton(AF_INET6, mock->address, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(mock->port);
        len = sizeof(struct sockaddr_in6);

    } else {
        fprintf(stderr, "mock-realtime: --address is an IP address\n");
        return -1;
    }

    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        fprintf(stderr, "mock-realtime: socket(): %s\n", strerror(errno));
        return -1;
    }

    one = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    if (bind(fd, (struct sockaddr *) &ss, len) != 0
        || listen(fd, 1024) != 0
        || getsockname(fd, (struct sockaddr *) &ss, &len) != 0)
    {
        fprintf(stderr, "mock-realtime: cannot listen on %s:%d: %s\n",
                mock->address, mock->port, strerror(errno));
        close(fd);
        return -1;
    }

    mock->port = ntohs(ss.ss_family == AF_INET ? sin->sin_port
                                               : sin6->sin6_port);
    mock->listen_fd = fd;

    return 0;
}


static int
mockrt_context(mockrt_t *mock)
{
    lws_adopt_desc_t                  desc;
    struct lws_context_creation_info  info;

    lws_set_log_level(mock->verbose ? LLL_ERR | LLL_WARN : LLL_ERR,
                      mockrt_lws_log);

    memset(&info, 0, sizeof(struct lws_context_creation_info));

    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = mockrt_protocols;
    info.user = mock;
    info.max_http_header_data = 8192;
    info.timeout_secs = 30;

    if (mock->cert) {
        info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = mock->cert;
        info.ssl_private_key_filepath = mock->key;
    }

    mock->context = lws_create_context(&info);
    if (mock->context == NULL) {
        fprintf(stderr, "mock-realtime: lws_create_context() failed\n");
        return -1;
    }

    mock->vhost = lws_get_vhost_by_name(mock->context, "default");
    if (mock->vhost == NULL) {
        fprintf(stderr, "mock-realtime: no libwebsockets vhost\n");
        return -1;
    }

    /* lws watches the listening socket; we accept */

    memset(&desc, 0, sizeof(lws_adopt_desc_t));
    desc.vh = mock->vhost;
    desc.type = LWS_ADOPT_RAW_FILE_DESC;
    desc.fd.filefd = mock->listen_fd;
    desc.vh_prot_name = "mock-realtime-listen";
    desc.opaque = mock;

    if (lws_adopt_descriptor_vhost_via_info(&desc) == NULL) {
        fprintf(stderr, "mock-realtime: lws cannot watch the listener\n");
        return -1;
    }

    mock->clock.tick = mockrt_clock_tick;
    mock->clock.data = mock;

    return tools_clock_init(&mock->clock, mock->vhost, "mock-realtime-clock",
                            "mock-realtime");
}


/*
 * The pace of responses, on one clock (scripts/lib/tools.c) for every
 * session: a list of the sessions with a delta due.
 */

static void
mockrt_clock_tick(tools_clock_t *clock)
{
    mockrt_t          *mock;
    lws_usec_t         now, next;
    mockrt_session_t  *s, *n;

    mock = clock->data;
    now = lws_now_usecs();

    for (s = mock->pacing; s; s = n) {
        n = s->pace_next;

        if (s->due <= now + MOCKRT_EARLY) {
            mockrt_unpace(s);
            mockrt_response_pace(s);
        }
    }

    next = 0;

    for (s = mock->pacing; s; s = s->pace_next) {
        if (next == 0 || s->due < next) {
            next = s->due;
        }
    }

    if (next) {
        tools_clock_arm(&mock->clock, next);
    }
}


void
mockrt_pace(mockrt_session_t *s, lws_usec_t due)
{
    mockrt_t  *mock;

    mock = s->mock;
    s->due = due;

    if (!s->pacing) {
        s->pacing = 1;
        s->pace_prev = NULL;
        s->pace_next = mock->pacing;

        if (mock->pacing) {
            mock->pacing->pace_prev = s;
        }

        mock->pacing = s;
    }

    tools_clock_arm(&mock->clock, due);
}


void
mockrt_unpace(mockrt_session_t *s)
{
    if (!s->pacing) {
        return;
    }

    if (s->pace_prev) {
        s->pace_prev->pace_next = s->pace_next;

    } else {
        s->mock->pacing = s->pace_next;
    }

    if (s->pace_next) {
        s->pace_next->pace_prev = s->pace_prev;
    }

    s->pacing = 0;
    s->pace_prev = NULL;
    s->pace_next = NULL;
}


static void
mockrt_lws_log(int level, const char *line)
{
    fprintf(stderr, "mock-realtime: lws: %s", line);
}


static int
mockrt_listen_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
    mockrt_t  *mock;

    mock = lws_get_opaque_user_data(wsi);

    if (mock && reason == LWS_CALLBACK_RAW_RX_FILE) {
        mockrt_accept(mock);
    }

    return 0;
}


static void
mockrt_accept(mockrt_t *mock)
{
    int               fd, one;
    unsigned          number;
    mockrt_accept_t  *a;

    for ( ;; ) {
        fd = accept4(mock->listen_fd, NULL, NULL,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
                && errno != ECONNABORTED)
            {
                fprintf(stderr, "mock-realtime: accept(): %s\n",
                        strerror(errno));
            }

            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }

            return;
        }

        /*
         * lws sets no options on a socket it adopts: without TCP_NODELAY,
         * a reply written while the last one is unacknowledged waits for
         * the client's next message (its delayed ACK), a frame later
         */

        one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        number = ++mock->connections;

        if (mock->delay_accept_ms == 0
            || (mock->fault_first && number > mock->fault_first))
        {
            mockrt_adopt(mock, fd, number);
            continue;
        }

        a = calloc(1, sizeof(mockrt_accept_t));
        if (a == NULL) {
            close(fd);
            continue;
        }

        a->mock = mock;
        a->fd = fd;
        a->number = number;
        a->next = mock->accepts;
        mock->accepts = a;

        lws_sul_schedule(mock->context, 0, &a->sul, mockrt_accept_delayed,
                         (lws_usec_t) mock->delay_accept_ms * 1000);
    }
}


static void
mockrt_accept_delayed(lws_sorted_usec_list_t *sul)
{
    mockrt_t          *mock;
    mockrt_accept_t   *a, **pp;

    a = lws_container_of(sul, mockrt_accept_t, sul);
    mock = a->mock;

    for (pp = &mock->accepts; *pp; pp = &(*pp)->next) {
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    }

    mockrt_adopt(mock, a->fd, a->number);
    free(a);
}


static void
mockrt_adopt(mockrt_t *mock, int fd, unsigned number)
{
    json_t            *fields;
    lws_adopt_desc_t   desc;

    memset(&desc, 0, sizeof(lws_adopt_desc_t));
    desc.vh = mock->vhost;
    desc.type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP;
    desc.fd.sockfd = fd;
    desc.opaque = (void *) (uintptr_t) number;

    if (mock->cert) {
        desc.type |= LWS_ADOPT_ALLOW_SSL;
    }

    if (lws_adopt_descriptor_vhost_via_info(&desc) == NULL) {
        fields = json_pack("{s:s}", "error", "lws cannot adopt it");
        mockrt_log(mock, number, "accept", fields);
        json_decref(fields);
    }
}


/* prefix + 22 letters and digits */

void
mockrt_id(mockrt_t *mock, char *out, const char *prefix)
{
    size_t       n, i;
    uint64_t     x;

    static const char  alnum[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    n = strlen(prefix);
    memcpy(out, prefix, n);

    for (i = 0; i < 22; i++) {

        /* xorshift64* */

        x = mock->rand;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        mock->rand = x;

        out[n + i] = alnum[(x * 0x2545f4914f6cdd1dULL >> 32) % 62];
    }

    out[n + 22] = '\0';
}


/*
 * A line of the event log: {"t": seconds since the start, "conn": N,
 * "dir": "in", "out", "upgrade", "close", ..., and the fields}.  One
 * write(2) a line on an O_APPEND descriptor: nothing waits in a buffer.
 */

void
mockrt_log(mockrt_t *mock, unsigned conn, const char *dir,
    json_t *fields)
{
    char    *text;
    size_t   len;
    json_t  *line;

    if (mock->log_fd == -1) {
        return;
    }

    line = json_pack("{s:f, s:i, s:s}", "t",
                     (double) (lws_now_usecs() - mock->started) / 1e6,
                     "conn", (json_int_t) conn, "dir", dir);
    if (line == NULL) {
        return;
    }

    if (fields) {
        json_object_update_missing(line, fields);
    }

    text = json_dumps(line, JSON_COMPACT);
    json_decref(line);

    if (text == NULL) {
        return;
    }

    len = strlen(text);
    text[len] = '\n';

    if (write(mock->log_fd, text, len + 1) != (ssize_t) len + 1) {
        fprintf(stderr, "mock-realtime: the log: %s\n", strerror(errno));
    }

    free(text);
}
