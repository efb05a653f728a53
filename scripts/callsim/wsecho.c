/*
 * wsecho: the floor for scripts/bench-media.  A WebSocket server on
 * libwebsockets that does as little as a Media Streams echo can: it sends
 * every text message whose "event" is "media" back unchanged (callsim
 * matches echoes by streamSid and payload, both in the message), ignores
 * the other messages, and closes with 1000 on "stop".  No webhook, no
 * signature check, no JSON parsing, no marks: `callsim --ws-only` talks
 * to it, and the round trip it measures is the one of the loopback, lws
 * on both sides and callsim itself.
 *
 *   build/wsecho [--port PORT] [--address 127.0.0.1]
 *
 * One process, one thread, lws's poll() loop; SIGTERM or SIGINT stop it.
 */

#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>


#define WSECHO_QUEUE      64               /* messages waiting to go out */
#define WSECHO_MSG_MAX    (64 * 1024)


typedef struct {
    size_t                     len;
    unsigned char              data[];     /* LWS_PRE + len */
} wsecho_msg_t;


typedef struct {
    wsecho_msg_t              *queue[WSECHO_QUEUE];
    unsigned                   head;
    unsigned                   n;
    unsigned                   closing:1;
    size_t                     len;        /* of the message being read */
    char                      *buf;        /* WSECHO_MSG_MAX + 1 */
} wsecho_session_t;


static volatile sig_atomic_t  wsecho_interrupted;
static struct lws_context    *wsecho_context;


/* lws's loop goes back to poll() after EINTR: wake it through its pipe */

static void
wsecho_stop(int signo)
{
    wsecho_interrupted = 1;

    if (wsecho_context) {
        lws_cancel_service(wsecho_context);
    }
}


/* the value of "event", as a pointer to after its opening quote */

static const char *
wsecho_event(const char *msg)
{
    const char  *p;

    p = strstr(msg, "\"event\"");

    if (p == NULL) {
        return NULL;
    }

    p += sizeof("\"event\"") - 1;

    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
        p++;
    }

    if (*p++ != ':') {
        return NULL;
    }

    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
        p++;
    }

    return *p == '"' ? p + 1 : NULL;
}


static int
wsecho_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
    wsecho_session_t  *s = user;

    int                n;
    const char        *ev;
    wsecho_msg_t      *m;

    switch (reason) {

    case LWS_CALLBACK_ESTABLISHED:
        memset(s, 0, sizeof(wsecho_session_t));
        s->buf = malloc(WSECHO_MSG_MAX + 1);
        return s->buf ? 0 : -1;

    case LWS_CALLBACK_RECEIVE:
        if (lws_frame_is_binary(wsi)) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                             NULL, 0);
            return -1;
        }

        if (lws_is_first_fragment(wsi)) {
            s->len = 0;
        }

        if (s->len + len > WSECHO_MSG_MAX) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                             NULL, 0);
            return -1;
        }

        memcpy(s->buf + s->len, in, len);
        s->len += len;

        if (!lws_is_final_fragment(wsi)
            || lws_remaining_packet_payload(wsi) != 0)
        {
            return 0;
        }

        s->buf[s->len] = '\0';
        ev = wsecho_event(s->buf);

        if (ev && strncmp(ev, "media\"", 6) == 0) {

            if (s->n == WSECHO_QUEUE) {
                lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                                 (unsigned char *) "not reading", 11);
                return -1;
            }

            m = malloc(sizeof(wsecho_msg_t) + LWS_PRE + s->len);

            if (m == NULL) {
                return -1;
            }

            m->len = s->len;
            memcpy(m->data + LWS_PRE, s->buf, s->len);

            s->queue[(s->head + s->n) % WSECHO_QUEUE] = m;
            s->n++;

            lws_callback_on_writable(wsi);

        } else if (ev && strncmp(ev, "stop\"", 5) == 0) {
            s->closing = 1;
            lws_callback_on_writable(wsi);
        }

        s->len = 0;
        return 0;

    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (s->n) {
            m = s->queue[s->head];
            s->head = (s->head + 1) % WSECHO_QUEUE;
            s->n--;

            n = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
            free(m);

            if (n < 0) {
                return -1;
            }

            if (s->n || s->closing) {
                lws_callback_on_writable(wsi);
            }

            return 0;
        }

        if (s->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }

        return 0;

    case LWS_CALLBACK_CLOSED:
        while (s->n) {
            free(s->queue[s->head]);
            s->head = (s->head + 1) % WSECHO_QUEUE;
            s->n--;
        }

        free(s->buf);
        s->buf = NULL;
        return 0;

    default:
        break;
    }

    return lws_callback_http_dummy(wsi, reason, user, in, len);
}


static const struct lws_protocols  wsecho_protocols[] = {
    { "wsecho", wsecho_callback, sizeof(wsecho_session_t), 4096, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};


int
main(int argc, char **argv)
{
    int                                i, port;
    const char                        *address;
    struct rlimit                      rl;
    struct lws_context                *context;
    struct lws_context_creation_info   info;

    port = 8090;
    address = "127.0.0.1";

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);

        } else if (strcmp(argv[i], "--address") == 0 && i + 1 < argc) {
            address = argv[++i];

        } else {
            fprintf(stderr, "usage: wsecho [--port PORT] "
                    "[--address 127.0.0.1]\n");
            return 2;
        }
    }

    if (port <= 0 || port > 65535) {
        fprintf(stderr, "wsecho: a bad --port\n");
        return 2;
    }

    /* a descriptor a connection: as many as the hard limit allows */

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }

    lws_set_log_level(LLL_ERR, NULL);

    memset(&info, 0, sizeof(info));
    info.port = port;
    info.iface = address;
    info.protocols = wsecho_protocols;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;

    context = lws_create_context(&info);

    if (context == NULL) {
        fprintf(stderr, "wsecho: cannot listen on %s:%d\n", address, port);
        return 1;
    }

    wsecho_context = context;

    signal(SIGTERM, wsecho_stop);
    signal(SIGINT, wsecho_stop);
    signal(SIGPIPE, SIG_IGN);

    while (!wsecho_interrupted) {
        if (lws_service(context, 0) < 0) {
            break;
        }
    }

    lws_context_destroy(context);

    return 0;
}
