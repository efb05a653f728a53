
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * A small, strict reader of the TwiML a gateway answers: the XML
 * declaration, comments, elements, attributes in double or single quotes,
 * text, the five XML entities and character references.  Anything else
 * (a DTD, CDATA, an unknown entity, a close tag that does not match) is an
 * error.  The strings it keeps are decoded into tw->arena.
 */


#include <stdlib.h>
#include <string.h>

#include "callsim.h"


#define CALLSIM_XML_DEPTH   8
#define CALLSIM_XML_ATTRS   8


typedef enum {
    CALLSIM_XML_ERROR = -1,
    CALLSIM_XML_EOF = 0,
    CALLSIM_XML_OPEN,
    CALLSIM_XML_EMPTY,
    CALLSIM_XML_CLOSE,
    CALLSIM_XML_TEXT
} callsim_xml_token_e;


typedef struct {
    const char                *p;
    const char                *end;
    char                      *out;              /* next free arena byte */
    char                      *name;
    char                      *text;
    size_t                     nattrs;
    char                      *attrs[2 * CALLSIM_XML_ATTRS];
    const char                *error;
} callsim_xml_t;


static callsim_xml_token_e callsim_xml_next(callsim_xml_t *x);
static char *callsim_xml_decode(callsim_xml_t *x, const char *s,
    const char *end);
static char *callsim_xml_name(callsim_xml_t *x);
static const char *callsim_xml_attr(callsim_xml_t *x, const char *name);
static char *callsim_xml_trim(char *s);


static const char  *callsim_outcome_names[] = {
    "none", "connect", "reject", "busy", "message", "voicemail", "dial",
    "hangup", "refused", "error"
};


const char *
callsim_outcome_name(callsim_outcome_e outcome)
{
    return callsim_outcome_names[outcome];
}


/*
 * The outcome is the first verb that decides the call: <Connect>,
 * <Reject>, <Dial>, <Record> or <Hangup> (a <Say> before <Hangup/> makes
 * it a message); a document that ends first hangs up, as Twilio does.
 */

int
callsim_twiml_parse(const char *body, size_t len, callsim_twiml_t *tw)
{
    int                   depth, in_stream, in_say, in_dial, decided;
    char                 *stack[CALLSIM_XML_DEPTH], *verb;
    const char           *a, *v;
    callsim_xml_t         x;
    callsim_xml_token_e   t;

    memset(tw, 0, sizeof(callsim_twiml_t));

    tw->arena = malloc(2 * len + 16);
    if (tw->arena == NULL) {
        tw->error = "out of memory";
        return -1;
    }

    memset(&x, 0, sizeof(callsim_xml_t));
    x.p = body;
    x.end = body + len;
    x.out = tw->arena;

    depth = 0;
    in_stream = 0;
    in_say = 0;
    in_dial = 0;
    decided = 0;
    verb = NULL;

    for ( ;; ) {
        t = callsim_xml_next(&x);

        if (t == CALLSIM_XML_ERROR) {
            tw->error = x.error;
            return -1;
        }

        if (t == CALLSIM_XML_EOF) {
            break;
        }

        if (t == CALLSIM_XML_TEXT) {

            if (depth == 0) {
                tw->error = "text outside <Response>";
                return -1;
            }

            if (in_say && tw->say == NULL) {
                tw->say = x.text;
            }

            if (in_dial && tw->dial == NULL) {
                tw->dial = x.text;
            }

            continue;
        }

        if (t == CALLSIM_XML_CLOSE) {

            if (depth == 0 || strcmp(stack[depth - 1], x.name) != 0) {
                tw->error = "a close tag that does not match";
                return -1;
            }

            depth--;

            if (depth == 0) {
                /* the end of <Response>: nothing may follow but space */
                if (callsim_xml_next(&x) != CALLSIM_XML_EOF) {
                    tw->error = "content after </Response>";
                    return -1;
                }

                break;
            }

            if (depth == 1) {
                in_say = 0;
                in_dial = 0;
            }

            if (depth == 2) {
                in_stream = 0;
            }

            continue;
        }

        /* an element: open or empty */

        if (depth == 0) {
            if (strcmp(x.name, "Response") != 0) {
                tw->error = "the root element is not <Response>";
                return -1;
            }

            if (t == CALLSIM_XML_EMPTY) {
                if (callsim_xml_next(&x) != CALLSIM_XML_EOF) {
                    tw->error = "content after <Response/>";
                    return -1;
                }

                break;
            }

            stack[depth++] = x.name;
            continue;
        }

        if (depth == 1 && !decided) {
            verb = x.name;

            if (strcmp(verb, "Connect") == 0) {
                tw->outcome = CALLSIM_OUTCOME_CONNECT;
                tw->action = (char *) callsim_xml_attr(&x, "action");
                decided = 1;

            } else if (strcmp(verb, "Reject") == 0) {
                tw->reason = (char *) callsim_xml_attr(&x, "reason");
                tw->outcome = (tw->reason && strcmp(tw->reason, "busy") == 0)
                              ? CALLSIM_OUTCOME_BUSY : CALLSIM_OUTCOME_REJECT;
                decided = 1;

            } else if (strcmp(verb, "Dial") == 0) {
                tw->outcome = CALLSIM_OUTCOME_DIAL;
                tw->action = (char *) callsim_xml_attr(&x, "action");
                in_dial = 1;
                decided = 1;

            } else if (strcmp(verb, "Record") == 0) {
                tw->outcome = CALLSIM_OUTCOME_VOICEMAIL;
                tw->action = (char *) callsim_xml_attr(&x, "action");
                decided = 1;

            } else if (strcmp(verb, "Hangup") == 0) {
                tw->outcome = tw->say ? CALLSIM_OUTCOME_MESSAGE
                                      : CALLSIM_OUTCOME_HANGUP;
                decided = 1;

            } else if (strcmp(verb, "Say") == 0) {
                in_say = 1;
            }

        } else if (depth == 2 && tw->outcome == CALLSIM_OUTCOME_CONNECT
                   && strcmp(verb, "Connect") == 0
                   && strcmp(x.name, "Stream") == 0
                   && tw->stream_url == NULL)
        {
            tw->stream_url = (char *) callsim_xml_attr(&x, "url");
            in_stream = 1;

        } else if (depth == 3 && in_stream
                   && strcmp(x.name, "Parameter") == 0)
        {
            a = callsim_xml_attr(&x, "name");
            v = callsim_xml_attr(&x, "value");

            if (a == NULL || v == NULL) {
                tw->error = "a <Parameter> without name or value";
                return -1;
            }

            if (tw->nparams == CALLSIM_PARAMS_MAX) {
                tw->error = "too many <Parameter>s";
                return -1;
            }

            tw->params[tw->nparams].name = a;
            tw->params[tw->nparams].value = v;
            tw->nparams++;
        }

        if (t == CALLSIM_XML_OPEN) {
            if (depth == CALLSIM_XML_DEPTH) {
                tw->error = "elements nested too deep";
                return -1;
            }

            stack[depth++] = x.name;

        } else if (depth == 1) {
            in_stream = 0;
        }
    }

    if (depth != 0) {
        tw->error = "the document ends inside an element";
        return -1;
    }

    if (tw->outcome == CALLSIM_OUTCOME_NONE) {
        tw->outcome = tw->say ? CALLSIM_OUTCOME_MESSAGE
                              : CALLSIM_OUTCOME_HANGUP;
    }

    if (tw->outcome == CALLSIM_OUTCOME_CONNECT && tw->stream_url == NULL) {
        tw->error = "<Connect> without <Stream url>";
        return -1;
    }

    return 0;
}


void
callsim_twiml_free(callsim_twiml_t *tw)
{
    free(tw->arena);
    tw->arena = NULL;
}


static callsim_xml_token_e
callsim_xml_next(callsim_xml_t *x)
{
    char         quote, *text;
    const char  *p, *start;

    for ( ;; ) {
        p = x->p;

        if (p == x->end) {
            return CALLSIM_XML_EOF;
        }

        if (*p != '<') {
            start = p;

            while (p < x->end && *p != '<') {
                p++;
            }

            x->p = p;

            text = callsim_xml_decode(x, start, p);
            if (text == NULL) {
                return CALLSIM_XML_ERROR;
            }

            x->text = callsim_xml_trim(text);

            if (x->text[0] == '\0') {
                continue;               /* white space between elements */
            }

            return CALLSIM_XML_TEXT;
        }

        /* the XML declaration, comments */

        if (x->end - p >= 5 && memcmp(p, "<?xml", 5) == 0) {
            p = memmem(p, x->end - p, "?>", 2);
            if (p == NULL) {
                x->error = "an unterminated XML declaration";
                return CALLSIM_XML_ERROR;
            }

            x->p = p + 2;
            continue;
        }

        if (x->end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
            p = memmem(p + 4, x->end - p - 4, "-->", 3);
            if (p == NULL) {
                x->error = "an unterminated comment";
                return CALLSIM_XML_ERROR;
            }

            x->p = p + 3;
            continue;
        }

        break;
    }

    x->p++;

    if (x->p < x->end && *x->p == '/') {
        x->p++;

        x->name = callsim_xml_name(x);
        if (x->name == NULL) {
            return CALLSIM_XML_ERROR;
        }

        while (x->p < x->end && strchr(" \t\r\n", *x->p)) {
            x->p++;
        }

        if (x->p == x->end || *x->p != '>') {
            x->error = "a malformed close tag";
            return CALLSIM_XML_ERROR;
        }

        x->p++;

        return CALLSIM_XML_CLOSE;
    }

    x->name = callsim_xml_name(x);
    if (x->name == NULL) {
        return CALLSIM_XML_ERROR;
    }

    x->nattrs = 0;

    for ( ;; ) {
        p = x->p;

        while (p < x->end && strchr(" \t\r\n", *p)) {
            p++;
        }

        if (p == x->end) {
            x->error = "the document ends inside a tag";
            return CALLSIM_XML_ERROR;
        }

        if (*p == '>') {
            x->p = p + 1;
            return CALLSIM_XML_OPEN;
        }

        if (*p == '/') {
            if (p + 1 == x->end || p[1] != '>') {
                x->error = "a malformed empty element";
                return CALLSIM_XML_ERROR;
            }

            x->p = p + 2;
            return CALLSIM_XML_EMPTY;
        }

        if (p == x->p) {
            x->error = "no space before an attribute";
            return CALLSIM_XML_ERROR;
        }

        x->p = p;

        if (x->nattrs == CALLSIM_XML_ATTRS) {
            x->error = "too many attributes";
            return CALLSIM_XML_ERROR;
        }

        x->attrs[2 * x->nattrs] = callsim_xml_name(x);
        if (x->attrs[2 * x->nattrs] == NULL) {
            return CALLSIM_XML_ERROR;
        }

        p = x->p;

        if (p + 2 >= x->end || *p != '=' || (p[1] != '"' && p[1] != '\'')) {
            x->error = "an attribute without a quoted value";
            return CALLSIM_XML_ERROR;
        }

        quote = p[1];
        start = p + 2;
        p = memchr(start, quote, x->end - start);

        if (p == NULL || memchr(start, '<', p - start) != NULL) {
            x->error = "a malformed attribute value";
            return CALLSIM_XML_ERROR;
        }

        x->attrs[2 * x->nattrs + 1] = callsim_xml_decode(x, start, p);
        if (x->attrs[2 * x->nattrs + 1] == NULL) {
            return CALLSIM_XML_ERROR;
        }

        x->nattrs++;
        x->p = p + 1;
    }
}


/* a name: letters, digits, '_', '-', '.', ':', copied into the arena */

static char *
callsim_xml_name(callsim_xml_t *x)
{
    char        *name;
    const char  *p;

    p = x->p;

    while (p < x->end
           && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
               || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'
               || *p == '.' || *p == ':'))
    {
        p++;
    }

    if (p == x->p || (x->p[0] >= '0' && x->p[0] <= '9')) {
        x->error = "a missing or malformed name";
        return NULL;
    }

    name = x->out;
    memcpy(name, x->p, p - x->p);
    name[p - x->p] = '\0';

    x->out += p - x->p + 1;
    x->p = p;

    return name;
}


/* text with entities and character references, decoded into the arena */

static char *
callsim_xml_decode(callsim_xml_t *x, const char *s, const char *end)
{
    char           *start, *q;
    size_t          i;
    unsigned long   c;
    const char     *semi;

    static const struct {
        const char  *name;
        size_t       len;
        char         c;
    } entities[] = {
        { "amp;", 4, '&' }, { "lt;", 3, '<' }, { "gt;", 3, '>' },
        { "quot;", 5, '"' }, { "apos;", 5, '\'' }
    };

    start = x->out;
    q = start;

    while (s < end) {

        if (*s != '&') {
            *q++ = *s++;
            continue;
        }

        s++;

        for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
            if ((size_t) (end - s) >= entities[i].len
                && memcmp(s, entities[i].name, entities[i].len) == 0)
            {
                break;
            }
        }

        if (i < sizeof(entities) / sizeof(entities[0])) {
            *q++ = entities[i].c;
            s += entities[i].len;
            continue;
        }

        semi = memchr(s, ';', end - s);

        if (semi == NULL || *s != '#' || semi - s < 2 || semi - s > 9) {
            x->error = "an unknown entity";
            return NULL;
        }

        c = 0;

        if (s[1] == 'x') {
            for (s += 2; s < semi; s++) {
                if (*s >= '0' && *s <= '9') {
                    c = c * 16 + (*s - '0');

                } else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f') {
                    c = c * 16 + ((*s | 0x20) - 'a' + 10);

                } else {
                    break;
                }
            }

        } else {
            for (s += 1; s < semi && *s >= '0' && *s <= '9'; s++) {
                c = c * 10 + (*s - '0');
            }
        }

        if (s != semi || c == 0 || c > 0x10ffff
            || (c >= 0xd800 && c <= 0xdfff))
        {
            x->error = "a malformed character reference";
            return NULL;
        }

        s++;

        /* UTF-8: at most 4 bytes for the 10 or so of the reference */

        if (c < 0x80) {
            *q++ = (char) c;

        } else if (c < 0x800) {
            *q++ = (char) (0xc0 | (c >> 6));
            *q++ = (char) (0x80 | (c & 0x3f));

        } else if (c < 0x10000) {
            *q++ = (char) (0xe0 | (c >> 12));
            *q++ = (char) (0x80 | ((c >> 6) & 0x3f));
            *q++ = (char) (0x80 | (c & 0x3f));

        } else {
            *q++ = (char) (0xf0 | (c >> 18));
            *q++ = (char) (0x80 | ((c >> 12) & 0x3f));
            *q++ = (char) (0x80 | ((c >> 6) & 0x3f));
            *q++ = (char) (0x80 | (c & 0x3f));
        }
    }

    *q++ = '\0';
    x->out = q;

    return start;
}


static const char *
callsim_xml_attr(callsim_xml_t *x, const char *name)
{
    size_t  i;

    for (i = 0; i < x->nattrs; i++) {
        if (strcmp(x->attrs[2 * i], name) == 0) {
            return x->attrs[2 * i + 1];
        }
    }

    return NULL;
}


static char *
callsim_xml_trim(char *s)
{
    size_t  n;

    while (*s && strchr(" \t\r\n", *s)) {
        s++;
    }

    n = strlen(s);

    while (n && strchr(" \t\r\n", s[n - 1])) {
        s[--n] = '\0';
    }

    return s;
}
