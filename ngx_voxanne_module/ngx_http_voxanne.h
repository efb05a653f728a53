
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#include "ngx_http_voxanne_form.h"
#include "ngx_http_voxanne_signature.h"
#include "ngx_http_voxanne_tz.h"
#include "ngx_http_voxanne_hours.h"
#include "ngx_http_voxanne_limit.h"
#include "ngx_http_voxanne_twiml.h"
#include "ngx_http_voxanne_calls.h"
#include "ngx_http_voxanne_token.h"
#include "ngx_http_voxanne_ws.h"
#include "ngx_http_voxanne_stream_msg.h"
#include "ngx_http_voxanne_vapi_msg.h"
#include "ngx_http_voxanne_db.h"
#include "ngx_http_voxanne_journal.h"
#include "ngx_http_voxanne_spool.h"
#include "ngx_http_voxanne_rt_msg.h"
#include "ngx_http_voxanne_tool_args.h"
#include "ngx_http_voxanne_wsc.h"
#include "ngx_http_voxanne_redact.h"


#define NGX_HTTP_VOXANNE_VERSION  "0.1.0"


typedef enum {
    NGX_HTTP_VOXANNE_ACTION_HANGUP = 0,
    NGX_HTTP_VOXANNE_ACTION_VOICEMAIL,
    NGX_HTTP_VOXANNE_ACTION_DIAL
} ngx_http_voxanne_action_e;


typedef struct ngx_http_voxanne_vapi_s   ngx_http_voxanne_vapi_t;
typedef struct ngx_http_voxanne_dbt_s    ngx_http_voxanne_dbt_t;
typedef struct ngx_http_voxanne_store_s  ngx_http_voxanne_store_t;


typedef struct {
    ngx_uint_t                  type;          /* ngx_http_voxanne_action_e */
    ngx_str_t                   number;        /* for a dial */
} ngx_http_voxanne_action_t;


typedef enum {
    NGX_HTTP_VOXANNE_AGENT_ECHO = 0,
    NGX_HTTP_VOXANNE_AGENT_REALTIME
} ngx_http_voxanne_agent_e;


/* who answers a tenant's calls, and the realtime agent's settings */

typedef struct {
    ngx_uint_t                  type;          /* unset: by the location */
    ngx_str_t                   instructions;  /* never logged */
    ngx_str_t                   voice;
    ngx_str_t                   greeting;
    ngx_str_t                   language;
    ngx_int_t                   vad_threshold; /* thousandths */
    ngx_msec_t                  vad_silence;
    ngx_msec_t                  vad_prefix;
    ngx_uint_t                  tools;         /* a bit per tool */
    ngx_str_t                   session;       /* session.update */
    ngx_str_t                   response;      /* the greeting's */
} ngx_http_voxanne_agent_t;


typedef struct ngx_http_voxanne_bridge_s  ngx_http_voxanne_bridge_t;


typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   org_id;
    ngx_array_t                 numbers;       /* ngx_str_t, E.164 */
    ngx_str_t                   account_sid;
    ngx_http_voxanne_key_t      keys[2];       /* auth tokens, primary first */
    ngx_uint_t                  nkeys;
    ngx_str_t                   public_url[2]; /* and its port variant */
    ngx_str_t                   ws_url[2];     /* the same as ws(s)://... */
    ngx_str_t                   timezone;
    ngx_http_voxanne_tz_t       tz;
    ngx_http_voxanne_hours_t    hours;         /* no ranges: always open */
    ngx_array_t                 closed;        /* ngx_int_t, 20261225 */
    ngx_uint_t                  max_calls;     /* 0: no limit */
    ngx_uint_t                  busy_reject;
    ngx_http_voxanne_action_t   after_hours;
    ngx_http_voxanne_action_t   fallback;
    ngx_str_t                   voicemail_greeting;
    ngx_http_voxanne_limit_t    limit;         /* key: the tenant name */
    ngx_http_voxanne_limit_t    caller_limit;  /* key: name "/" From */
    ngx_http_voxanne_agent_t    agent;
    ngx_http_voxanne_vapi_t    *vapi;          /* vapi_auth, vapi_assistant */
    void                       *counters;      /* in the session zone */
} ngx_http_voxanne_tenant_t;


typedef struct {
    ngx_array_t                 tenants;       /* ngx_http_voxanne_tenant_t * */
    ngx_hash_t                  numbers;       /* E.164 -> tenant */
    ngx_hash_keys_arrays_t     *keys;          /* while parsing */
    ngx_shm_zone_t             *calls;         /* the session table */
    ngx_str_t                   calls_name;
    size_t                      calls_size;
    time_t                      stream_timeout;
    ngx_http_voxanne_db_conf_t  db;            /* voxanne_db */
    ngx_http_voxanne_spool_conf_t  spool;      /* voxanne_spool */
    ngx_http_voxanne_store_t   *store;         /* the worker's, store.c */
    ngx_flag_t                  redact_on;     /* voxanne_redact */
    ngx_http_voxanne_redact_t  *redact;        /* NULL: off */
    ngx_http_voxanne_dbt_t     *dbt;           /* voxanne_db_tenants */
} ngx_http_voxanne_main_conf_t;


typedef enum {
    NGX_HTTP_VOXANNE_ROUTE_NONE = 0,
    NGX_HTTP_VOXANNE_ROUTE_VOICE,
    NGX_HTTP_VOXANNE_ROUTE_STREAM_ENDED,
    NGX_HTTP_VOXANNE_ROUTE_STATUS,
    NGX_HTTP_VOXANNE_ROUTE_RECORDING,
    NGX_HTTP_VOXANNE_ROUTE_VAPI
} ngx_http_voxanne_route_e;


/*
 * The tenant and the call a request serves, from its context, whose type
 * depends on its location (a webhook route, a media stream): for the
 * variables.
 */

typedef void (*ngx_http_voxanne_call_pt)(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t **tenant, ngx_str_t **call_sid);


typedef struct {
    ngx_uint_t                  route;         /* ngx_http_voxanne_route_e */
    ngx_http_voxanne_call_pt    call;          /* NULL: not a call's */
    ngx_str_t                   tenant_name;   /* route tenant=NAME */
    ngx_http_voxanne_tenant_t  *tenant;
    size_t                      body_max;
    ngx_http_core_loc_conf_t   *clcf;          /* of a route's location */
    ngx_str_t                   name;          /* a route's, for its logs */
    size_t                      ws_max_message;
    ngx_msec_t                  ws_idle_timeout;

    /* the realtime provider: its URL alone, and a media location's client */
    ngx_http_voxanne_wsc_conf_t *realtime_url;
    ngx_http_voxanne_wsc_conf_t *realtime;
    ngx_str_t                   realtime_key_file;
    ngx_str_t                   realtime_certificate;
    ngx_int_t                   realtime_verify_depth;
    ngx_msec_t                  realtime_connect_timeout;
    ngx_msec_t                  realtime_timeout;
    unsigned                    media:1;       /* voxanne_media_stream */
} ngx_http_voxanne_loc_conf_t;


extern ngx_module_t  ngx_http_voxanne_module;


#include "ngx_http_voxanne_tenant.h"
#include "ngx_http_voxanne_dbt.h"
#include "ngx_http_voxanne_agent.h"
#include "ngx_http_voxanne_health.h"
#include "ngx_http_voxanne_body.h"
#include "ngx_http_voxanne_tools.h"
#include "ngx_http_voxanne_vapi.h"
#include "ngx_http_voxanne_store.h"
#include "ngx_http_voxanne_twilio.h"
#include "ngx_http_voxanne_media.h"
#include "ngx_http_voxanne_bridge.h"
#include "ngx_http_voxanne_metrics.h"


#endif /* _NGX_HTTP_VOXANNE_H_INCLUDED_ */
