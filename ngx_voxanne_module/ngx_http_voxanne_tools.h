
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_TOOLS_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_TOOLS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>


/*
 * The agent's tools, one implementation for every caller (Vapi's
 * tool-calls, the realtime bridge): a call names a tool and carries its
 * arguments; the result is one line the model can speak from, or an error
 * line.  ngx_http_voxanne_tool_run() returns NGX_OK with the result set,
 * NGX_AGAIN when the tool waits (on PostgreSQL) and calls tc->done() once
 * the result is set, or NGX_ERROR when it could not run at all.
 *
 * The booking tools run in PostgreSQL (sql/007_booking.sql), in the call's
 * context: its channel and id, the caller's number and the tool call's id.
 * The strings the caller sets must live until the result comes.
 */


typedef enum {
    NGX_HTTP_VOXANNE_TOOL_TWILIO = 0,    /* call_id: the CallSid */
    NGX_HTTP_VOXANNE_TOOL_VAPI           /* call_id: Vapi's call id */
} ngx_http_voxanne_tool_channel_e;


typedef struct ngx_http_voxanne_tool_call_s  ngx_http_voxanne_tool_call_t;

typedef void (*ngx_http_voxanne_tool_done_pt)(ngx_http_voxanne_tool_call_t *tc);


/*
 * What a tool asks of the call, for its caller to do once the result was
 * given to the model: end the call after the goodbye, or transfer it to
 * the number (the tenant's fallback) after the goodbye.  The strings live
 * in tc->pool; the reason is the model's text, valid UTF-8, at most
 * NGX_HTTP_VOXANNE_TOOL_REASON_MAX bytes, never logged.
 */

#define NGX_HTTP_VOXANNE_TOOL_REASON_MAX  200

typedef enum {
    NGX_HTTP_VOXANNE_TOOL_ACT_NONE = 0,
    NGX_HTTP_VOXANNE_TOOL_ACT_END,
    NGX_HTTP_VOXANNE_TOOL_ACT_TRANSFER
} ngx_http_voxanne_tool_act_e;


typedef struct {
    ngx_uint_t                      type;    /* ngx_http_voxanne_tool_act_e */
    ngx_str_t                       number;  /* a transfer's */
    ngx_str_t                       reason;
} ngx_http_voxanne_tool_action_t;


struct ngx_http_voxanne_tool_call_s {
    ngx_http_voxanne_tenant_t      *tenant;
    ngx_str_t                       name;
    json_t                         *arguments;   /* an object */
    ngx_uint_t                      channel;     /* _tool_channel_e */
    ngx_str_t                       call_id;
    ngx_str_t                       caller;      /* as the channel gave it */
    ngx_str_t                       tool_call_id;
    ngx_str_t                       result;      /* one line */
    ngx_uint_t                      failed;      /* the result is an error */
    ngx_pool_t                     *pool;
    ngx_log_t                      *log;
    ngx_http_voxanne_tool_done_pt   done;
    void                           *data;
    ngx_http_voxanne_tool_action_t  action;
};


ngx_int_t ngx_http_voxanne_tool_run(ngx_http_voxanne_tool_call_t *tc);


#endif /* _NGX_HTTP_VOXANNE_TOOLS_H_INCLUDED_ */
