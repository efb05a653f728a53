
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_VAPI_MSG_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_VAPI_MSG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>


/*
 * A Vapi server message (protocols.md §6), {"message":{"type":...}}, read
 * into the fields the edge uses.  Tool calls come in the shapes Vapi's
 * specification, documentation and examples disagree on:
 *
 *     toolCallList: [{id, type, function: {name, arguments: "JSON text"}}]
 *     toolCallList: [{id, name, arguments: {...}}]
 *     toolCallList: [{id, name, parameters: {...}}]
 *
 * and, when there is no toolCallList, toolCalls (the same shapes) or
 * toolWithToolCallList: [{name, toolCall: {id, ...}}].  A call without an
 * id cannot be answered and is left out; one whose name or arguments are
 * missing or malformed keeps its id and gets call->error.
 *
 * A status update also gives the call's type and, when it forwards, its
 * destination; an end-of-call report the call's times, summary, recording,
 * cost, duration and turns (artifact.messages: "user" is the caller, "bot"
 * or "assistant" the agent, other roles are left out).  Every length is
 * capped: a longer string is left out, a turn over the cap or past the
 * turns' cap is counted in turns_ignored.
 *
 * A pure codec (libc and jansson, no I/O) so that unit tests and fuzzers
 * drive it directly; the strings point into the parsed JSON, which
 * ngx_http_voxanne_vapi_msg_free() releases with the arguments parsed from
 * text.
 */


#define NGX_HTTP_VOXANNE_VAPI_CALLS     32
#define NGX_HTTP_VOXANNE_VAPI_TURNS     256
#define NGX_HTTP_VOXANNE_VAPI_TEXT_MAX  4096     /* a turn, the summary */


typedef enum {
    NGX_HTTP_VOXANNE_VAPI_ASSISTANT_REQUEST = 0,
    NGX_HTTP_VOXANNE_VAPI_TOOL_CALLS,
    NGX_HTTP_VOXANNE_VAPI_STATUS_UPDATE,
    NGX_HTTP_VOXANNE_VAPI_END_OF_CALL_REPORT,
    NGX_HTTP_VOXANNE_VAPI_OTHER
} ngx_http_voxanne_vapi_type_e;


typedef struct {
    ngx_str_t                       id;
    ngx_str_t                       name;
    json_t                         *arguments;   /* an object */
    const char                     *error;
    unsigned                        owned:1;     /* parsed from text */
} ngx_http_voxanne_vapi_call_t;


typedef enum {
    NGX_HTTP_VOXANNE_VAPI_CALLER = 0,
    NGX_HTTP_VOXANNE_VAPI_AGENT
} ngx_http_voxanne_vapi_role_e;


typedef struct {
    ngx_uint_t                      role;
    ngx_str_t                       text;
    double                          at;          /* Unix seconds, or 0 */
} ngx_http_voxanne_vapi_turn_t;


typedef struct {
    ngx_uint_t                      type;
    ngx_str_t                       type_name;
    ngx_str_t                       number;        /* phoneNumber.number */
    ngx_str_t                       call_id;       /* call.id */
    ngx_str_t                       provider_id;   /* the CallSid */
    ngx_str_t                       customer;      /* the caller's number */
    ngx_str_t                       status;        /* status-update */
    ngx_str_t                       ended_reason;
    ngx_str_t                       call_type;     /* call.type */
    ngx_str_t                       destination;   /* number or sipUri */
    ngx_str_t                       destination_reason;
    ngx_str_t                       started_at;    /* ISO 8601 */
    ngx_str_t                       ended_at;
    ngx_str_t                       summary;
    ngx_str_t                       recording_url;
    double                          cost;          /* USD, or -1 */
    double                          duration;      /* seconds, or -1 */
    ngx_uint_t                      nturns;
    ngx_uint_t                      turns_ignored;
    ngx_http_voxanne_vapi_turn_t    turns[NGX_HTTP_VOXANNE_VAPI_TURNS];
    ngx_uint_t                      ncalls;
    ngx_uint_t                      ignored;       /* calls over the cap */
    ngx_http_voxanne_vapi_call_t    calls[NGX_HTTP_VOXANNE_VAPI_CALLS];
    const char                     *error;
    json_t                         *json;
} ngx_http_voxanne_vapi_msg_t;


ngx_int_t ngx_http_voxanne_vapi_msg_parse(ngx_http_voxanne_vapi_msg_t *msg,
    u_char *data, size_t len);
void ngx_http_voxanne_vapi_msg_free(ngx_http_voxanne_vapi_msg_t *msg);


#endif /* _NGX_HTTP_VOXANNE_VAPI_MSG_H_INCLUDED_ */
