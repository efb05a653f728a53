
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


typedef ngx_int_t (*ngx_http_voxanne_tool_pt)(ngx_http_voxanne_tool_call_t *tc);


typedef struct {
    ngx_str_t                   name;
    ngx_http_voxanne_tool_pt    handler;
} ngx_http_voxanne_tool_t;


static ngx_int_t ngx_http_voxanne_tool_time(ngx_http_voxanne_tool_call_t *tc);
static ngx_int_t ngx_http_voxanne_tool_error(ngx_http_voxanne_tool_call_t *tc,
    const char *fmt, ...);
static ngx_int_t ngx_http_voxanne_tool_end(ngx_http_voxanne_tool_call_t *tc);
static ngx_int_t ngx_http_voxanne_tool_transfer(
    ngx_http_voxanne_tool_call_t *tc);
static ngx_int_t ngx_http_voxanne_tool_reason(
    ngx_http_voxanne_tool_call_t *tc);


static ngx_http_voxanne_tool_t  ngx_http_voxanne_tools[] = {
    { ngx_string("get_current_time"), ngx_http_voxanne_tool_time },
    { ngx_string("end_call"), ngx_http_voxanne_tool_end },
    { ngx_string("transfer_to_human"), ngx_http_voxanne_tool_transfer },
    { ngx_null_string, NULL }
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
    ngx_http_voxanne_tool_t  *tool;

    tc->failed = 0;
    ngx_str_null(&tc->result);

    for (tool = ngx_http_voxanne_tools; tool->handler; tool++) {
        if (tool->name.len == tc->name.len
            && ngx_strncmp(tool->name.data, tc->name.data, tc->name.len) == 0)
        {
            return tool->handler(tc);
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
