
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


/*
 * The tools of ngx_http_voxanne_tools.h: those with a handler of their own,
 * then the booking tools.  A booking tool is a function of
 * sql/007_booking.sql: its arguments are checked here (a refusal the model
 * can act on: which argument, in what form), then one query through the
 * worker's PostgreSQL pool, whose query timeout bounds the wait, and its
 * one-line result.  Whatever goes wrong with the database, the model gets
 * NGX_HTTP_VOXANNE_TOOL_UNREACHABLE, and the log gets the reason.
 */


#define NGX_HTTP_VOXANNE_TOOL_CONTEXT      8     /* first SQL parameters */
#define NGX_HTTP_VOXANNE_TOOL_ARGS         5
#define NGX_HTTP_VOXANNE_TOOL_RESULT_MAX   2048

#define NGX_HTTP_VOXANNE_TOOL_UNREACHABLE                                     \
    "I can't reach the booking system right now; I can take a callback "     \
    "request."


typedef enum {
    NGX_HTTP_VOXANNE_TOOL_ARG_TEXT = 0,
    NGX_HTTP_VOXANNE_TOOL_ARG_DATE,
    NGX_HTTP_VOXANNE_TOOL_ARG_TIME,
    NGX_HTTP_VOXANNE_TOOL_ARG_DATETIME,
    NGX_HTTP_VOXANNE_TOOL_ARG_PHONE,
    NGX_HTTP_VOXANNE_TOOL_ARG_EMAIL
} ngx_http_voxanne_tool_arg_e;


typedef struct {
    char                         *name;
    ngx_uint_t                    type;      /* _tool_arg_e */
    size_t                        max;       /* text */
    ngx_uint_t                    required;
} ngx_http_voxanne_tool_arg_t;


typedef ngx_int_t (*ngx_http_voxanne_tool_pt)(
    ngx_http_voxanne_tool_call_t *tc);


typedef struct {
    ngx_str_t                     name;
    ngx_http_voxanne_tool_pt      handler;
} ngx_http_voxanne_tool_t;


/* a booking tool: its SQL function, and its arguments in their order */

typedef struct {
    ngx_str_t                     name;
    const char                   *sql;
    ngx_http_voxanne_tool_arg_t   args[NGX_HTTP_VOXANNE_TOOL_ARGS];
} ngx_http_voxanne_db_tool_t;


/* a booking tool's query, in the tool call's pool */

typedef struct {
    ngx_http_voxanne_db_query_t    q;        /* first: the handler's */
    ngx_http_voxanne_tool_call_t  *tc;
    ngx_str_t                      params[NGX_HTTP_VOXANNE_TOOL_CONTEXT
                                          + NGX_HTTP_VOXANNE_TOOL_ARGS];
} ngx_http_voxanne_tool_query_t;


static ngx_int_t ngx_http_voxanne_tool_time(ngx_http_voxanne_tool_call_t *tc);
static ngx_int_t ngx_http_voxanne_tool_db(ngx_http_voxanne_tool_call_t *tc,
    ngx_http_voxanne_db_tool_t *tool);
static ngx_int_t ngx_http_voxanne_tool_context(
    ngx_http_voxanne_tool_call_t *tc, ngx_str_t *params);
static ngx_int_t ngx_http_voxanne_tool_arg(ngx_http_voxanne_tool_call_t *tc,
    ngx_http_voxanne_tool_arg_t *arg, ngx_str_t *param);
static void ngx_http_voxanne_tool_result(ngx_http_voxanne_db_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_voxanne_tool_error(ngx_http_voxanne_tool_call_t *tc,
    const char *fmt, ...);
static ngx_int_t ngx_http_voxanne_tool_end(ngx_http_voxanne_tool_call_t *tc);
static ngx_int_t ngx_http_voxanne_tool_transfer(
    ngx_http_voxanne_tool_call_t *tc);
static ngx_int_t ngx_http_voxanne_tool_reason(
    ngx_http_voxanne_tool_call_t *tc);


#define ngx_http_voxanne_tool_text(name, max, required)                       \
    { name, NGX_HTTP_VOXANNE_TOOL_ARG_TEXT, max, required }
#define ngx_http_voxanne_tool_typed(name, type, required)                     \
    { name, NGX_HTTP_VOXANNE_TOOL_ARG_ ## type, 0, required }


static ngx_http_voxanne_tool_t  ngx_http_voxanne_tools[] = {
    { ngx_string("get_current_time"), ngx_http_voxanne_tool_time },
    { ngx_string("end_call"), ngx_http_voxanne_tool_end },
    { ngx_string("transfer_to_human"), ngx_http_voxanne_tool_transfer },
    { ngx_null_string, NULL }
};


static ngx_http_voxanne_db_tool_t  ngx_http_voxanne_db_tools[] = {

    { ngx_string("check_availability"),
      "SELECT ok, result FROM voxanne_tool_check_availability($1, $2, $3, "
      "$4, $5, $6, $7, $8, $9, $10, $11, $12)",
      { ngx_http_voxanne_tool_text("service", 100, 1),
        ngx_http_voxanne_tool_typed("date", DATE, 1),
        ngx_http_voxanne_tool_typed("end_date", DATE, 0),
        ngx_http_voxanne_tool_typed("time", TIME, 0) } },

    { ngx_string("book_appointment"),
      "SELECT ok, result FROM voxanne_tool_book_appointment($1, $2, $3, $4, "
      "$5, $6, $7, $8, $9, $10, $11, $12, $13)",
      { ngx_http_voxanne_tool_text("service", 100, 1),
        ngx_http_voxanne_tool_typed("start", DATETIME, 1),
        ngx_http_voxanne_tool_text("name", 100, 1),
        ngx_http_voxanne_tool_typed("phone", PHONE, 0),
        ngx_http_voxanne_tool_typed("email", EMAIL, 0) } },

    { ngx_string("reschedule_appointment"),
      "SELECT ok, result FROM voxanne_tool_reschedule_appointment($1, $2, "
      "$3, $4, $5, $6, $7, $8, $9, $10, $11)",
      { ngx_http_voxanne_tool_typed("start", DATETIME, 1),
        ngx_http_voxanne_tool_typed("phone", PHONE, 0),
        ngx_http_voxanne_tool_typed("date", DATE, 0) } },

    { ngx_string("cancel_appointment"),
      "SELECT ok, result FROM voxanne_tool_cancel_appointment($1, $2, $3, "
      "$4, $5, $6, $7, $8, $9, $10)",
      { ngx_http_voxanne_tool_typed("phone", PHONE, 0),
        ngx_http_voxanne_tool_typed("date", DATE, 0) } },

    { ngx_string("find_customer"),
      "SELECT ok, result FROM voxanne_tool_find_customer($1, $2, $3, $4, "
      "$5, $6, $7, $8, $9)",
      { ngx_http_voxanne_tool_typed("phone", PHONE, 0) } },

    { ngx_string("list_services"),
      "SELECT ok, result FROM voxanne_tool_list_services($1, $2, $3, $4, "
      "$5, $6, $7, $8)",
      { { NULL, 0, 0, 0 } } },

    { ngx_string("schedule_callback"),
      "SELECT ok, result FROM voxanne_tool_schedule_callback($1, $2, $3, "
      "$4, $5, $6, $7, $8, $9, $10, $11)",
      { ngx_http_voxanne_tool_text("when", 100, 1),
        ngx_http_voxanne_tool_text("reason", 200, 1),
        ngx_http_voxanne_tool_typed("phone", PHONE, 0) } },

    { ngx_null_string, NULL, { { NULL, 0, 0, 0 } } }
};


static char  *ngx_http_voxanne_wdays[] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday"
};

static char  *ngx_http_voxanne_months[] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"
};


ngx_int_t
ngx_http_voxanne_tool_run(ngx_http_voxanne_tool_call_t *tc)
{
    ngx_http_voxanne_tool_t     *tool;
    ngx_http_voxanne_db_tool_t  *db;

    tc->failed = 0;
    ngx_str_null(&tc->result);

    for (tool = ngx_http_voxanne_tools; tool->handler; tool++) {
        if (tool->name.len == tc->name.len
            && ngx_strncmp(tool->name.data, tc->name.data, tc->name.len) == 0)
        {
            return tool->handler(tc);
        }
    }

    for (db = ngx_http_voxanne_db_tools; db->sql; db++) {
        if (db->name.len == tc->name.len
            && ngx_strncmp(db->name.data, tc->name.data, tc->name.len) == 0)
        {
            return ngx_http_voxanne_tool_db(tc, db);
        }
    }

    ngx_log_error(NGX_LOG_INFO, tc->log, 0,
                  "voxanne: tenant \"%V\": unknown tool \"%V\"",
                  &tc->tenant->name, &tc->name);

    return ngx_http_voxanne_tool_error(tc, "There is no tool named %V.",
                                       &tc->name);
}


/* get_current_time: the date and time in the tenant's time zone */

static ngx_int_t
ngx_http_voxanne_tool_time(ngx_http_voxanne_tool_call_t *tc)
{
    u_char                 *p;
    ngx_uint_t              hour;
    ngx_http_voxanne_tm_t   tm;

    ngx_http_voxanne_tz_local(&tc->tenant->tz, ngx_time(), &tm);

    p = ngx_pnalloc(tc->pool, 128 + tc->tenant->timezone.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    hour = tm.minute / 60 % 12;

    tc->result.data = p;
    tc->result.len = ngx_sprintf(p, "It is %s, %s %ui, %i, %ui:%02ui %s "
                                    "(%V).",
                                 ngx_http_voxanne_wdays[tm.wday],
                                 ngx_http_voxanne_months[tm.month - 1],
                                 tm.mday, tm.year, hour ? hour : 12,
                                 tm.minute % 60,
                                 tm.minute < 12 * 60 ? "AM" : "PM",
                                 &tc->tenant->timezone)
                     - p;

    return NGX_OK;
}


/* a booking tool: its arguments checked, then its query */

static ngx_int_t
ngx_http_voxanne_tool_db(ngx_http_voxanne_tool_call_t *tc,
    ngx_http_voxanne_db_tool_t *tool)
{
    ngx_int_t                       rc;
    ngx_str_t                      *params;
    ngx_uint_t                      i;
    ngx_http_voxanne_main_conf_t   *vmcf;
    ngx_http_voxanne_tool_query_t  *tq;

    tq = ngx_pcalloc(tc->pool, sizeof(ngx_http_voxanne_tool_query_t));
    if (tq == NULL) {
        return NGX_ERROR;
    }

    params = &tq->params[NGX_HTTP_VOXANNE_TOOL_CONTEXT];

    for (i = 0; i < NGX_HTTP_VOXANNE_TOOL_ARGS && tool->args[i].name; i++) {
        rc = ngx_http_voxanne_tool_arg(tc, &tool->args[i], &params[i]);

        if (rc == NGX_DECLINED) {
            return NGX_OK;          /* the refusal is the result */
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    vmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_voxanne_module);

    if (vmcf->db.pool == NULL) {
        ngx_log_error(NGX_LOG_ERR, tc->log, 0,
                      "voxanne: tool \"%V\": tenant \"%V\": no voxanne_db",
                      &tc->name, &tc->tenant->name);

        return ngx_http_voxanne_tool_error(tc,
                                           NGX_HTTP_VOXANNE_TOOL_UNREACHABLE);
    }

    if (ngx_http_voxanne_tool_context(tc, tq->params) != NGX_OK) {
        return NGX_ERROR;
    }

    tq->tc = tc;
    tq->q.sql = tool->sql;
    tq->q.params = tq->params;
    tq->q.nparams = NGX_HTTP_VOXANNE_TOOL_CONTEXT + i;
    tq->q.org_id = tc->tenant->org_id;
    tq->q.handler = ngx_http_voxanne_tool_result;
    tq->q.log = tc->log;

    rc = ngx_http_voxanne_db_query(vmcf->db.pool, &tq->q);

    if (rc == NGX_OK) {
        return NGX_AGAIN;
    }

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_ERR, tc->log, 0,
                  "voxanne: tool \"%V\": tenant \"%V\": the database %s",
                  &tc->name, &tc->tenant->name,
                  rc == NGX_BUSY ? "queue is full" : "is down");

    return ngx_http_voxanne_tool_error(tc, NGX_HTTP_VOXANNE_TOOL_UNREACHABLE);
}


/*
 * The parameters every tool function takes first: org, channel, call id,
 * tool call id, caller, time zone, hours (triplets: weekday bits, opening
 * and closing minutes) and closed days (yyyymmdd), as SQL array literals.
 */

static ngx_int_t
ngx_http_voxanne_tool_context(ngx_http_voxanne_tool_call_t *tc,
    ngx_str_t *params)
{
    u_char                          *p;
    ngx_int_t                       *closed;
    ngx_uint_t                       i;
    ngx_http_voxanne_tenant_t       *t;
    ngx_http_voxanne_hours_range_t  *range;

    t = tc->tenant;

    params[0] = t->org_id;

    if (tc->channel == NGX_HTTP_VOXANNE_TOOL_VAPI) {
        ngx_str_set(&params[1], "vapi");

    } else {
        ngx_str_set(&params[1], "twilio");
    }

    params[2] = tc->call_id;
    params[3] = tc->tool_call_id;
    params[4] = tc->caller;
    params[5] = t->timezone;

    p = ngx_pnalloc(tc->pool, 2 + t->hours.nranges * 3 * (NGX_INT_T_LEN + 1)
                              + 2 + t->closed.nelts * (NGX_INT_T_LEN + 1));
    if (p == NULL) {
        return NGX_ERROR;
    }

    params[6].data = p;
    *p++ = '{';

    for (i = 0; i < t->hours.nranges; i++) {
        range = &t->hours.ranges[i];
        p = ngx_sprintf(p, "%s%ui,%ui,%ui", i ? "," : "", range->days,
                        range->open, range->close);
    }

    *p++ = '}';
    params[6].len = p - params[6].data;

    params[7].data = p;
    *p++ = '{';

    closed = t->closed.elts;

    for (i = 0; i < t->closed.nelts; i++) {
        p = ngx_sprintf(p, "%s%i", i ? "," : "", closed[i]);
    }

    *p++ = '}';
    params[7].len = p - params[7].data;

    return NGX_OK;
}


/*
 * An argument into its parameter, normalized: NGX_OK (absent and optional:
 * NULL), NGX_DECLINED with the refusal set as the result, or NGX_ERROR.
 */

static ngx_int_t
ngx_http_voxanne_tool_arg(ngx_http_voxanne_tool_call_t *tc,
    ngx_http_voxanne_tool_arg_t *arg, ngx_str_t *param)
{
    u_char      *p, *out;
    size_t       len;
    json_t      *value;
    ngx_int_t    rc;
    const char  *form;

    value = json_object_get(tc->arguments, arg->name);

    if (value == NULL || json_is_null(value)
        || (json_is_string(value) && json_string_length(value) == 0
            && !arg->required))
    {
        if (arg->required) {
            (void) ngx_http_voxanne_tool_error(tc, "%V needs \"%s\".",
                                               &tc->name, arg->name);
            return NGX_DECLINED;
        }

        ngx_str_null(param);
        return NGX_OK;
    }

    p = (u_char *) json_string_value(value);
    len = json_string_length(value);

    if (p == NULL) {
        (void) ngx_http_voxanne_tool_error(tc, "\"%s\" must be a string.",
                                           arg->name);
        return NGX_DECLINED;
    }

    /* the normalized forms, the longest of which is a date and time */

    out = ngx_pnalloc(tc->pool, ngx_max(NGX_HTTP_VOXANNE_TOOL_DATETIME_LEN,
                                        NGX_HTTP_VOXANNE_TOOL_PHONE_LEN));
    if (out == NULL) {
        return NGX_ERROR;
    }

    param->data = p;
    param->len = len;

    switch (arg->type) {

    case NGX_HTTP_VOXANNE_TOOL_ARG_DATE:
        rc = ngx_http_voxanne_tool_args_date(p, len);
        form = "a date, YYYY-MM-DD";
        break;

    case NGX_HTTP_VOXANNE_TOOL_ARG_TIME:
        rc = ngx_http_voxanne_tool_args_time(p, len, out);
        param->data = out;
        param->len = NGX_HTTP_VOXANNE_TOOL_TIME_LEN;
        form = "a time of day, HH:MM (24 hours)";
        break;

    case NGX_HTTP_VOXANNE_TOOL_ARG_DATETIME:
        rc = ngx_http_voxanne_tool_args_datetime(p, len, out);
        param->data = out;
        param->len = NGX_HTTP_VOXANNE_TOOL_DATETIME_LEN;
        form = "a local date and time, YYYY-MM-DDTHH:MM";
        break;

    case NGX_HTTP_VOXANNE_TOOL_ARG_PHONE:
        rc = ngx_http_voxanne_tool_args_phone(p, len, out, &param->len);
        param->data = out;
        form = "a phone number in international format, like +15551234567";
        break;

    case NGX_HTTP_VOXANNE_TOOL_ARG_EMAIL:
        rc = ngx_http_voxanne_tool_args_email(p, len);
        form = "an email address";
        break;

    default: /* NGX_HTTP_VOXANNE_TOOL_ARG_TEXT */
        rc = ngx_http_voxanne_tool_args_text(p, len, arg->max);
        form = "one line of text";
    }

    if (rc == NGX_OK) {
        return NGX_OK;
    }

    (void) ngx_http_voxanne_tool_error(tc, "\"%s\" must be %s.", arg->name,
                                       form);
    return NGX_DECLINED;
}


/* the row (ok, result) of a booking tool, or why there is none */

static void
ngx_http_voxanne_tool_result(ngx_http_voxanne_db_query_t *q, PGresult *res)
{
    ngx_http_voxanne_tool_query_t *tq = (ngx_http_voxanne_tool_query_t *) q;

    u_char                        *p, *text;
    size_t                         len, i;
    ngx_http_voxanne_tool_call_t  *tc;

    tc = tq->tc;

    if (q->status != NGX_HTTP_VOXANNE_DB_OK) {
        ngx_log_error(NGX_LOG_ERR, tc->log, 0,
                      "voxanne: tool \"%V\": tenant \"%V\": %V",
                      &tc->name, &tc->tenant->name, &q->error);
        goto unreachable;
    }

    if (PQntuples(res) != 1 || PQnfields(res) != 2) {
        ngx_log_error(NGX_LOG_ERR, tc->log, 0,
                      "voxanne: tool \"%V\": tenant \"%V\": %d rows of %d "
                      "columns, one (ok, result) expected", &tc->name,
                      &tc->tenant->name, PQntuples(res), PQnfields(res));
        goto unreachable;
    }

    text = (u_char *) PQgetvalue(res, 0, 1);
    len = PQgetlength(res, 0, 1);

    if (len > NGX_HTTP_VOXANNE_TOOL_RESULT_MAX) {

        /* cut before a whole UTF-8 character */

        len = NGX_HTTP_VOXANNE_TOOL_RESULT_MAX;

        while (len && (text[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    p = ngx_pnalloc(tc->pool, len);
    if (p == NULL) {
        goto unreachable;
    }

    /* one line, whatever a service's or a contact's name holds */

    for (i = 0; i < len; i++) {
        p[i] = (text[i] < ' ' || text[i] == 0x7f) ? ' ' : text[i];
    }

    tc->result.data = p;
    tc->result.len = len;
    tc->failed = (PQgetvalue(res, 0, 0)[0] != 't');

    tc->done(tc);
    return;

unreachable:

    ngx_str_set(&tc->result, NGX_HTTP_VOXANNE_TOOL_UNREACHABLE);
    tc->failed = 1;

    tc->done(tc);
}


static ngx_int_t
ngx_http_voxanne_tool_error(ngx_http_voxanne_tool_call_t *tc,
    const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;

    p = ngx_pnalloc(tc->pool, NGX_MAX_ERROR_STR);
    if (p == NULL) {
        return NGX_ERROR;
    }

    va_start(args, fmt);
    last = ngx_vslprintf(p, p + NGX_MAX_ERROR_STR, fmt, args);
    va_end(args);

    tc->result.data = p;
    tc->result.len = last - p;
    tc->failed = 1;

    return NGX_OK;
}


/*
 * end_call and transfer_to_human: the model is told what happens, and
 * tc->action tells the caller (the bridge), which acts once the goodbye
 * has played.  A transfer goes to the tenant's fallback number; a tenant
 * without one gets an error line, and the call goes on.
 */

static ngx_int_t
ngx_http_voxanne_tool_end(ngx_http_voxanne_tool_call_t *tc)
{
    if (ngx_http_voxanne_tool_reason(tc) != NGX_OK) {
        return NGX_ERROR;
    }

    tc->action.type = NGX_HTTP_VOXANNE_TOOL_ACT_END;

    ngx_str_set(&tc->result, "The call will end once you have spoken. "
                             "Say a short goodbye now.");

    return NGX_OK;
}


static ngx_int_t
ngx_http_voxanne_tool_transfer(ngx_http_voxanne_tool_call_t *tc)
{
    if (tc->tenant->fallback.type != NGX_HTTP_VOXANNE_ACTION_DIAL) {
        return ngx_http_voxanne_tool_error(tc, "No one can take the call "
                                           "on this line. Offer to take "
                                           "a message instead.");
    }

    if (ngx_http_voxanne_tool_reason(tc) != NGX_OK) {
        return NGX_ERROR;
    }

    tc->action.type = NGX_HTTP_VOXANNE_TOOL_ACT_TRANSFER;
    tc->action.number = tc->tenant->fallback.number;

    ngx_str_set(&tc->result, "A person at the business is being connected. "
                             "Tell the caller in one short sentence that "
                             "you are transferring them now.");

    return NGX_OK;
}


/* the "reason" argument, cut to NGX_HTTP_VOXANNE_TOOL_REASON_MAX bytes */

static ngx_int_t
ngx_http_voxanne_tool_reason(ngx_http_voxanne_tool_call_t *tc)
{
    size_t       len;
    json_t      *reason;
    const char  *s;

    reason = json_object_get(tc->arguments, "reason");

    if (!json_is_string(reason)) {
        ngx_str_null(&tc->action.reason);
        return NGX_OK;
    }

    s = json_string_value(reason);
    len = json_string_length(reason);

    if (len > NGX_HTTP_VOXANNE_TOOL_REASON_MAX) {
        len = NGX_HTTP_VOXANNE_TOOL_REASON_MAX;

        /* not in the middle of a UTF-8 character */

        while (len && ((u_char) s[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    tc->action.reason.data = ngx_pnalloc(tc->pool, len + 1);
    if (tc->action.reason.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(tc->action.reason.data, s, len);
    tc->action.reason.data[len] = '\0';
    tc->action.reason.len = len;

    return NGX_OK;
}
