
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * The webhooks: signed form POSTs through libcurl's multi interface, run
 * by the libwebsockets event loop.  curl tells which sockets it waits on
 * (CURLMOPT_SOCKETFUNCTION) and when it wants a timeout
 * (CURLMOPT_TIMERFUNCTION); each of its sockets is watched by lws as a
 * raw file descriptor, a dup() of curl's, so that each library closes
 * only its own descriptor whichever lets go first, and curl's timeout is
 * an lws timer.  Nothing blocks the loop: a webhook and the media of
 * other calls go on side by side.
 */


#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "callsim.h"


#define CALLSIM_HTTP_BODY_MAX  65536          /* Twilio's TwiML limit */


typedef struct {
    callsim_t                 *run;
    curl_socket_t              fd;                 /* curl's */
    struct lws                *wsi;                /* lws's, on a dup */
    int                        what;
    lws_sorted_usec_list_t     sul;
    unsigned                   curl_gone:1;
} callsim_sock_t;


static int callsim_curl_socket(CURL *easy, curl_socket_t s, int what,
    void *data, void *socketp);
static int callsim_curl_timer(CURLM *multi, long ms, void *data);
static void callsim_curl_timeout(lws_sorted_usec_list_t *sul);
static void callsim_curl_action(callsim_t *run, curl_socket_t fd, int ev);
static void callsim_sock_sul(lws_sorted_usec_list_t *sul);
static void callsim_sock_release(callsim_sock_t *sk);
static size_t callsim_http_write(char *ptr, size_t size, size_t nmemb,
    void *data);
static char *callsim_form(const callsim_param_t *params, size_t n);
static int callsim_param_cmp(const void *one, const void *two);


int
callsim_http_init(callsim_t *run)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return -1;
    }

    run->multi = curl_multi_init();
    if (run->multi == NULL) {
        return -1;
    }

    curl_multi_setopt(run->multi, CURLMOPT_SOCKETFUNCTION,
                      callsim_curl_socket);
    curl_multi_setopt(run->multi, CURLMOPT_SOCKETDATA, run);
    curl_multi_setopt(run->multi, CURLMOPT_TIMERFUNCTION, callsim_curl_timer);
    curl_multi_setopt(run->multi, CURLMOPT_TIMERDATA, run);

    return 0;
}


void
callsim_http_cleanup(callsim_t *run)
{
    lws_sul_cancel(&run->sul_curl);

    if (run->multi) {
        curl_multi_cleanup(run->multi);
        run->multi = NULL;
    }

    curl_global_cleanup();
}


/*
 * POST params to request_url, signed over signed_url: the URL Twilio
 * would have requested, which is also the Host header it would send.
 */

int
callsim_http_post(callsim_call_t *call, const char *request_url,
    const char *signed_url, const callsim_param_t *params, size_t n,
    callsim_http_done_pt done)
{
    char             sig[32], line[CALLSIM_URL_LEN + 64], token[40];
    callsim_t       *run;
    callsim_url_t    u;
    callsim_http_t  *h;

    run = call->run;
    h = &call->http;

    callsim_http_free(h);

    h->call = call;
    h->done = done;

    if (callsim_url_parse(signed_url, &u) != 0) {
        snprintf(h->error, sizeof(h->error), "a malformed URL \"%s\"",
                 signed_url);
        return -1;
    }

    if (callsim_sign(run->token, signed_url, params, n, sig) != 0) {
        snprintf(h->error, sizeof(h->error), "HMAC-SHA1 failed");
        return -1;
    }

    h->form = callsim_form(params, n);
    h->easy = curl_easy_init();

    if (h->form == NULL || h->easy == NULL) {
        snprintf(h->error, sizeof(h->error), "out of memory");
        return -1;
    }

    callsim_hex_sid(token, "");

    snprintf(line, sizeof(line), "Host: %s", u.authority);
    h->headers = curl_slist_append(h->headers, line);
    h->headers = curl_slist_append(h->headers,
                     "Content-Type: application/x-www-form-urlencoded");
    snprintf(line, sizeof(line), "X-Twilio-Signature: %s", sig);
    h->headers = curl_slist_append(h->headers, line);
    snprintf(line, sizeof(line), "I-Twilio-Idempotency-Token: %s", token);
    h->headers = curl_slist_append(h->headers, line);
    h->headers = curl_slist_append(h->headers, "Expect:");

    if (h->headers == NULL) {
        snprintf(h->error, sizeof(h->error), "out of memory");
        return -1;
    }

    curl_easy_setopt(h->easy, CURLOPT_URL, request_url);
    curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, h->form);
    curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE, (long) strlen(h->form));
    curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(h->easy, CURLOPT_USERAGENT, "TwilioProxy/1.1");
    curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, callsim_http_write);
    curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->easy, CURLOPT_PRIVATE, h);
    curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, h->error);
    curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS,
                     (long) (run->timeout / LWS_US_PER_MS));

    if (run->insecure) {
        curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    h->error[0] = '\0';
    h->start = lws_now_usecs();

    if (curl_multi_add_handle(run->multi, h->easy) != CURLM_OK) {
        snprintf(h->error, sizeof(h->error), "curl_multi_add_handle() failed");
        return -1;
    }

    h->active = 1;

    return 0;
}


void
callsim_http_free(callsim_http_t *h)
{
    if (h->easy) {
        if (h->active) {
            curl_multi_remove_handle(h->call->run->multi, h->easy);
            h->active = 0;
        }

        curl_easy_cleanup(h->easy);
        h->easy = NULL;
    }

    curl_slist_free_all(h->headers);
    h->headers = NULL;

    free(h->form);
    h->form = NULL;

    free(h->body);
    h->body = NULL;
    h->len = 0;
    h->size = 0;
    h->status = 0;
    h->code = CURLE_OK;
}


static size_t
callsim_http_write(char *ptr, size_t size, size_t nmemb, void *data)
{
    callsim_http_t *h = data;

    char    *body;
    size_t   n, want;

    n = size * nmemb;

    if (h->len + n > CALLSIM_HTTP_BODY_MAX) {
        return 0;                       /* CURLE_WRITE_ERROR */
    }

    if (h->len + n + 1 > h->size) {
        want = h->size ? 2 * h->size : 4096;

        while (want < h->len + n + 1) {
            want *= 2;
        }

        body = realloc(h->body, want);
        if (body == NULL) {
            return 0;
        }

        h->body = body;
        h->size = want;
    }

    memcpy(h->body + h->len, ptr, n);
    h->len += n;
    h->body[h->len] = '\0';

    return n;
}


/* curl's sockets, watched by lws */

static int
callsim_curl_socket(CURL *easy, curl_socket_t s, int what, void *data,
    void *socketp)
{
    callsim_t       *run = data;
    callsim_sock_t  *sk = socketp;

    int               fd;
    lws_adopt_desc_t  desc;

    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            curl_multi_assign(run->multi, s, NULL);
            callsim_sock_release(sk);
        }

        return 0;
    }

    if (sk == NULL) {
        sk = calloc(1, sizeof(callsim_sock_t));
        if (sk == NULL) {
            return -1;
        }

        fd = fcntl(s, F_DUPFD_CLOEXEC, 0);
        if (fd == -1) {
            free(sk);
            return -1;
        }

        sk->run = run;
        sk->fd = s;

        memset(&desc, 0, sizeof(lws_adopt_desc_t));
        desc.vh = run->vhost;
        desc.type = LWS_ADOPT_RAW_FILE_DESC;
        desc.fd.filefd = fd;
        desc.vh_prot_name = "callsim-curl";
        desc.opaque = sk;

        /* on failure lws may have closed fd already: leave it */

        sk->wsi = lws_adopt_descriptor_vhost_via_info(&desc);
        if (sk->wsi == NULL) {
            free(sk);
            return -1;
        }

        curl_multi_assign(run->multi, s, sk);
    }

    /* lws always polls for input; output only when curl asks */

    sk->what = what;

    if (what & CURL_POLL_OUT) {
        lws_callback_on_writable(sk->wsi);
    }

    return 0;
}


static void
callsim_sock_release(callsim_sock_t *sk)
{
    sk->curl_gone = 1;

    lws_sul_cancel(&sk->sul);

    if (sk->wsi == NULL) {
        free(sk);
        return;
    }

    /* closed on the next turn of the loop; its close frees sk */

    lws_rx_flow_control(sk->wsi, 0);
    lws_set_timeout(sk->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}


int
callsim_curl_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
    callsim_sock_t  *sk;

    sk = lws_get_opaque_user_data(wsi);

    if (sk == NULL) {
        return 0;
    }

    switch (reason) {

    case LWS_CALLBACK_RAW_RX_FILE:

        if (!sk->curl_gone) {
            callsim_curl_action(sk->run, sk->fd, CURL_CSELECT_IN);
        }

        return 0;

    case LWS_CALLBACK_RAW_WRITEABLE_FILE:

        if (sk->curl_gone) {
            return 0;
        }

        callsim_curl_action(sk->run, sk->fd, CURL_CSELECT_OUT);

        /*
         * lws clears POLLOUT after this callback: when curl still wants
         * to write, ask again from a timer
         */

        if (!sk->curl_gone && (sk->what & CURL_POLL_OUT)) {
            lws_sul_schedule(sk->run->context, 0, &sk->sul,
                             callsim_sock_sul, 0);
        }

        return 0;

    case LWS_CALLBACK_RAW_CLOSE_FILE:

        lws_set_opaque_user_data(wsi, NULL);
        sk->wsi = NULL;

        if (sk->curl_gone || sk->run->exiting) {
            lws_sul_cancel(&sk->sul);
            free(sk);
            return 0;
        }

        /* lws gave up on it (a hang-up): tell curl from a timer */

        lws_sul_schedule(sk->run->context, 0, &sk->sul, callsim_sock_sul, 0);
        return 0;

    default:
        return 0;
    }
}


static void
callsim_sock_sul(lws_sorted_usec_list_t *sul)
{
    callsim_sock_t  *sk = lws_container_of(sul, callsim_sock_t, sul);

    if (sk->wsi == NULL) {
        callsim_curl_action(sk->run, sk->fd, CURL_CSELECT_ERR);
        return;
    }

    if (sk->what & CURL_POLL_OUT) {
        lws_callback_on_writable(sk->wsi);
    }
}


static int
callsim_curl_timer(CURLM *multi, long ms, void *data)
{
    callsim_t  *run = data;

    if (ms < 0) {
        lws_sul_cancel(&run->sul_curl);
        return 0;
    }

    lws_sul_schedule(run->context, 0, &run->sul_curl, callsim_curl_timeout,
                     (lws_usec_t) ms * LWS_US_PER_MS);

    return 0;
}


static void
callsim_curl_timeout(lws_sorted_usec_list_t *sul)
{
    callsim_t  *run = lws_container_of(sul, callsim_t, sul_curl);

    callsim_curl_action(run, CURL_SOCKET_TIMEOUT, 0);
}


/* let curl work, then hand each finished transfer to its call */

static void
callsim_curl_action(callsim_t *run, curl_socket_t fd, int ev)
{
    int              running, left;
    long             status;
    CURL            *easy;
    CURLcode         code;
    CURLMsg         *msg;
    callsim_http_t  *h;

    curl_multi_socket_action(run->multi, fd, ev, &running);

    while ((msg = curl_multi_info_read(run->multi, &left)) != NULL) {

        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        easy = msg->easy_handle;
        code = msg->data.result;

        h = NULL;
        status = 0;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &h);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);

        curl_multi_remove_handle(run->multi, easy);

        if (h == NULL) {
            continue;
        }

        h->active = 0;
        h->code = code;
        h->status = status;
        h->end = lws_now_usecs();

        h->done(h);
    }
}


/*
 * X-Twilio-Signature: base64(HMAC-SHA1(token, url + name1 + value1 ...)),
 * the parameters sorted by name (then value), each distinct pair once
 */

int
callsim_sign(const char *token, const char *url,
    const callsim_param_t *params, size_t n, char *out)
{
    char              *data, *p;
    size_t             i, len;
    unsigned int       mdlen;
    unsigned char      md[EVP_MAX_MD_SIZE];
    callsim_param_t   *sorted;

    sorted = malloc((n ? n : 1) * sizeof(callsim_param_t));
    if (sorted == NULL) {
        return -1;
    }

    memcpy(sorted, params, n * sizeof(callsim_param_t));
    qsort(sorted, n, sizeof(callsim_param_t), callsim_param_cmp);

    len = strlen(url);

    for (i = 0; i < n; i++) {
        len += strlen(sorted[i].name) + strlen(sorted[i].value);
    }

    data = malloc(len + 1);
    if (data == NULL) {
        free(sorted);
        return -1;
    }

    p = stpcpy(data, url);

    for (i = 0; i < n; i++) {
        if (i > 0 && callsim_param_cmp(&sorted[i - 1], &sorted[i]) == 0) {
            continue;
        }

        p = stpcpy(p, sorted[i].name);
        p = stpcpy(p, sorted[i].value);
    }

    free(sorted);

    if (HMAC(EVP_sha1(), token, (int) strlen(token), (unsigned char *) data,
             p - data, md, &mdlen)
        == NULL)
    {
        free(data);
        return -1;
    }

    free(data);

    EVP_EncodeBlock((unsigned char *) out, md, (int) mdlen);

    return 0;
}


static int
callsim_param_cmp(const void *one, const void *two)
{
    int                     rc;
    const callsim_param_t  *a = one, *b = two;

    rc = strcmp(a->name, b->name);

    return rc ? rc : strcmp(a->value, b->value);
}


/* x-www-form-urlencoded: every byte but A-Z a-z 0-9 - . _ ~ escaped */

static char *
callsim_form(const callsim_param_t *params, size_t n)
{
    char                 *form, *p;
    size_t                i, len;
    const unsigned char  *s;

    static const char     hex[] = "0123456789ABCDEF";

    len = 1;

    for (i = 0; i < n; i++) {
        len += 3 * (strlen(params[i].name) + strlen(params[i].value)) + 2;
    }

    form = malloc(len);
    if (form == NULL) {
        return NULL;
    }

    p = form;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = '&';
        }

        for (s = (const unsigned char *) params[i].name; *s; s++) {
            if (strchr("-._~", *s) || (*s >= 'a' && *s <= 'z')
                || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
            {
                *p++ = *s;

            } else {
                *p++ = '%';
                *p++ = hex[*s >> 4];
                *p++ = hex[*s & 0xf];
            }
        }

        *p++ = '=';

        for (s = (const unsigned char *) params[i].value; *s; s++) {
            if (strchr("-._~", *s) || (*s >= 'a' && *s <= 'z')
                || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
            {
                *p++ = *s;

            } else {
                *p++ = '%';
                *p++ = hex[*s >> 4];
                *p++ = hex[*s & 0xf];
            }
        }
    }

    *p = '\0';

    return form;
}


/* scheme://[user@]host[:port][/path[?query]] with http, https, ws, wss */

int
callsim_url_parse(const char *url, callsim_url_t *u)
{
    size_t       n;
    const char  *p, *auth, *end, *host, *colon;

    memset(u, 0, sizeof(callsim_url_t));

    p = strstr(url, "://");
    if (p == NULL || (size_t) (p - url) >= sizeof(u->scheme)) {
        return -1;
    }

    for (n = 0; url + n < p; n++) {
        u->scheme[n] = (char) (url[n] | 0x20);
    }

    if (strcmp(u->scheme, "http") == 0 || strcmp(u->scheme, "ws") == 0) {
        u->port = 80;

    } else if (strcmp(u->scheme, "https") == 0
               || strcmp(u->scheme, "wss") == 0)
    {
        u->port = 443;
        u->tls = 1;

    } else {
        return -1;
    }

    auth = p + 3;
    end = auth + strcspn(auth, "/?#");

    /* user info is signed as part of the URL but is not the host */

    host = memchr(auth, '@', end - auth);
    host = host ? host + 1 : auth;

    if ((size_t) (end - auth) >= sizeof(u->authority) || end == host) {
        return -1;
    }

    memcpy(u->authority, host, end - host);

    if (*host == '[') {
        p = memchr(host, ']', end - host);
        if (p == NULL) {
            return -1;
        }

        colon = (p + 1 < end && p[1] == ':') ? p + 1 : NULL;
        p++;

    } else {
        colon = memchr(host, ':', end - host);
        p = colon ? colon : end;
    }

    if ((size_t) (p - host) >= sizeof(u->host) || p == host) {
        return -1;
    }

    memcpy(u->host, host, p - host);

    if (colon) {
        u->port = 0;

        for (p = colon + 1; p < end; p++) {
            if (*p < '0' || *p > '9' || u->port > 6553) {
                return -1;
            }

            u->port = u->port * 10 + (*p - '0');
        }

        if (u->port == 0 || u->port > 65535) {
            return -1;
        }

    } else if (p != end) {
        return -1;
    }

    if (*end == '/') {
        if (strlen(end) >= sizeof(u->path)) {
            return -1;
        }

        strcpy(u->path, end);

    } else {
        u->path[0] = '/';

        if (strlen(end) + 1 >= sizeof(u->path)) {
            return -1;
        }

        strcpy(u->path + 1, end);
    }

    return 0;
}
